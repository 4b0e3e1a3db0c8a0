//! Journaling intake: a task becomes a job, a ticket message is kept in
//! `messages` and folded into `tickets`, an alarm is kept in `alarms`; every
//! unreadable message is kept in `rejected` with its reason. A batch is one
//! transaction, so bulk intake costs one sync per batch rather than one per
//! message.

use rusqlite::{CachedStatement, Transaction, params};

use super::jobs::{JobInserter, NewJob};
use super::{Journal, JournalError, Result};
use crate::config::Priorities;
use crate::model::{AlarmMessage, JobKind, Message, Source, Timestamp, title_of};

/// One line (or file) of intake, read or not.
#[derive(Debug, Clone)]
pub enum Incoming {
    Message {
        message: Message,
        /// The id its delivery carried (an SNS MessageId, `sns:ID`): a
        /// message whose id was journaled before, through any intake, is
        /// skipped.
        delivery: Option<String>,
    },
    Rejected {
        line: Option<u64>,
        reason: String,
        raw: Vec<u8>,
    },
}

impl Incoming {
    /// A message without a delivery id.
    pub fn message(message: Message) -> Incoming {
        Incoming::Message {
            message,
            delivery: None,
        }
    }
}

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    pub accepted: u64,
    pub rejected: u64,
    /// The jobs that tasks in the batch became.
    pub jobs: Vec<i64>,
    /// Messages skipped: their delivery id was journaled before.
    pub duplicates: u64,
    /// Messages the journal refused (a task waiting for a job that does
    /// not exist): their place in the batch and the reason.
    pub refused: Vec<(usize, String)>,
}

impl Journal {
    /// Journals a batch of intake from `source`.
    pub fn ingest(
        &mut self,
        batch: &[Incoming],
        source: &Source,
        priorities: &Priorities,
        now: Timestamp,
    ) -> Result<IngestOutcome> {
        self.write(|tx| match ingest_in(tx, batch, source, priorities, now)? {
            DeliveryOutcome::Journaled(outcome) => Ok(outcome),
            DeliveryOutcome::Duplicate => Ok(IngestOutcome {
                duplicates: batch.len() as u64,
                ..IngestOutcome::default()
            }),
        })
    }

    /// Journals deliveries from the network in one transaction (a group
    /// commit): each with its own source, and one whose id was journaled
    /// before is skipped.
    pub fn ingest_deliveries(
        &mut self,
        deliveries: &[Delivery],
        priorities: &Priorities,
        now: Timestamp,
    ) -> Result<Vec<DeliveryOutcome>> {
        self.write(|tx| {
            deliveries
                .iter()
                .map(|d| ingest_in(tx, &d.items, &d.source, priorities, now))
                .collect()
        })
    }

    /// Whether a delivery id (`sns:ID`, `sqs:ID`) was journaled.
    pub fn delivered(&self, id: &str) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached("SELECT 1 FROM deliveries WHERE id = ?1")?
            .exists([id])?)
    }
}

/// Messages that arrived together from the network.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Where they came from; its delivery id (an SQS MessageId) makes a
    /// redelivery skipped whole.
    pub source: Source,
    pub items: Vec<Incoming>,
}

/// What became of a [`Delivery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Journaled(IngestOutcome),
    /// Its id was journaled before: nothing written.
    Duplicate,
}

/// Records delivery `id` inside `tx`; false when it was recorded before
/// (a redelivery, to be skipped). The one check every intake shares: the
/// SQS message as a whole, and each SNS envelope whether it came by HTTP,
/// SQS, `ingest` or the inbox.
fn first_delivery(tx: &Transaction, id: &str, source: &Source, now: Timestamp) -> Result<bool> {
    Ok(tx
        .prepare_cached("INSERT OR IGNORE INTO deliveries (id, source, at) VALUES (?1, ?2, ?3)")?
        .execute(params![id, source.label, now.millis()])?
        == 1)
}

/// Journals one batch inside `tx`, unless its delivery was journaled before.
fn ingest_in(
    tx: &Transaction,
    batch: &[Incoming],
    source: &Source,
    priorities: &Priorities,
    now: Timestamp,
) -> Result<DeliveryOutcome> {
    if let Some(id) = &source.delivery
        && !first_delivery(tx, id, source, now)?
    {
        return Ok(DeliveryOutcome::Duplicate);
    }
    let mut writer = IntakeWriter::new(tx, source, priorities, now)?;
    let mut outcome = IngestOutcome::default();
    // Alarms, the high-rate rows, go in many to a statement.
    let mut alarms: Vec<(&AlarmMessage, Option<&str>)> = Vec::new();
    for (place, item) in batch.iter().enumerate() {
        match item {
            Incoming::Message { message, delivery } => {
                if let Some(id) = delivery
                    && !first_delivery(tx, id, source, now)?
                {
                    outcome.duplicates += 1;
                    continue;
                }
                let delivery = delivery.as_deref().or(source.delivery.as_deref());
                if let Message::Alarm(alarm) = message {
                    alarms.push((alarm, delivery));
                    outcome.accepted += 1;
                    continue;
                }
                match writer.message(message, delivery) {
                    Ok(job) => {
                        outcome.jobs.extend(job);
                        outcome.accepted += 1;
                    }
                    // A task that waits for a job that does not exist:
                    // refused like a message that cannot be read, before
                    // anything of it was written.
                    Err(refused @ (JournalError::Refused(_) | JournalError::After(_))) => {
                        let reason = refused.to_string();
                        let raw = serde_json::to_vec(message).unwrap_or_default();
                        writer.rejected.execute(params![
                            now.millis(),
                            source.label,
                            None::<u64>,
                            reason,
                            raw
                        ])?;
                        outcome.rejected += 1;
                        outcome.refused.push((place, reason));
                    }
                    Err(e) => return Err(e),
                }
            }
            Incoming::Rejected { line, reason, raw } => {
                writer
                    .rejected
                    .execute(params![now.millis(), source.label, line, reason, raw])?;
                outcome.rejected += 1;
            }
        }
    }
    writer.alarms(tx, &alarms)?;
    Ok(DeliveryOutcome::Journaled(outcome))
}

impl Journal {
    /// How many ticket messages and alarms were journaled, and how many
    /// messages were rejected.
    pub fn intake_counts(&self) -> Result<(u64, u64, u64)> {
        Ok(self.conn().query_row(
            "SELECT (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM alarms), (SELECT COUNT(*) FROM rejected)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?)
    }
}

/// The statements of one batch, prepared once.
struct IntakeWriter<'tx> {
    jobs: JobInserter<'tx>,
    ticket_message: CachedStatement<'tx>,
    ticket: CachedStatement<'tx>,
    alarm: CachedStatement<'tx>,
    rejected: CachedStatement<'tx>,
    task_event: String,
    priorities: &'tx Priorities,
    now: Timestamp,
    source: &'tx Source,
}

impl<'tx> IntakeWriter<'tx> {
    fn new(
        tx: &'tx Transaction,
        source: &'tx Source,
        priorities: &'tx Priorities,
        now: Timestamp,
    ) -> Result<Self> {
        Ok(IntakeWriter {
            jobs: JobInserter::new(tx)?,
            ticket_message: tx.prepare_cached(
                "INSERT INTO messages (received_at, kind, source, body, intake, delivery) \
                 VALUES (?1, 'ticket', ?2, ?3, ?4, ?5)",
            )?,
            ticket: tx.prepare_cached(
                "INSERT INTO tickets (key, project, title, body, first_at, latest_at, intake, source, delivery) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (key) DO UPDATE SET title = excluded.title, body = excluded.body, \
                 project = COALESCE(excluded.project, tickets.project), latest_at = excluded.latest_at, \
                 updates = tickets.updates + 1",
            )?,
            alarm: tx.prepare_cached(&alarm_insert(1))?,
            rejected: tx.prepare_cached(
                "INSERT INTO rejected (received_at, source, line, reason, raw) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            task_event: format!("task journaled from {}", source.label),
            priorities,
            now,
            source,
        })
    }

    /// Journals one message; a task's job id is returned.
    fn message(&mut self, message: &Message, delivery: Option<&str>) -> Result<Option<i64>> {
        let now = self.now.millis();
        match message {
            Message::Task(task) => {
                let job = NewJob {
                    kind: JobKind::Task,
                    project: task.project.clone(),
                    title: task.title.clone().unwrap_or_else(|| title_of(&task.prompt)),
                    prompt: task.prompt.clone(),
                    agent: task.agent.clone(),
                    priority: task.priority.unwrap_or(self.priorities.task),
                    ticket_key: None,
                    after: task.after.clone(),
                };
                Ok(Some(self.jobs.insert(&job, self.now, &self.task_event)?))
            }
            Message::Ticket(ticket) => {
                let body = serde_json::to_string(message)
                    .map_err(|e| super::JournalError::Corrupt(e.to_string()))?;
                let intake = self.source.intake.as_str();
                self.ticket_message.execute(params![
                    now,
                    self.source.label,
                    body,
                    intake,
                    delivery
                ])?;
                self.ticket.execute(params![
                    ticket.key,
                    ticket.project,
                    ticket.title,
                    ticket.body,
                    now,
                    intake,
                    self.source.label,
                    delivery
                ])?;
                Ok(None)
            }
            Message::Alarm(alarm) => {
                self.alarms_one_by_one(&[(alarm, delivery)])?;
                Ok(None)
            }
        }
    }

    /// Inserts alarms in arrival order, [`ALARMS_PER_STATEMENT`] at a time.
    fn alarms(
        &mut self,
        tx: &'tx Transaction,
        alarms: &[(&AlarmMessage, Option<&str>)],
    ) -> Result<()> {
        let mut chunks = alarms.chunks_exact(ALARMS_PER_STATEMENT);
        if chunks.len() > 0 {
            let mut many = tx.prepare_cached(&alarm_insert(ALARMS_PER_STATEMENT))?;
            for chunk in &mut chunks {
                for (i, (alarm, delivery)) in chunk.iter().enumerate() {
                    let base = i * ALARM_COLUMNS;
                    many.raw_bind_parameter(base + 1, &alarm.account)?;
                    many.raw_bind_parameter(base + 2, &alarm.name)?;
                    many.raw_bind_parameter(base + 3, alarm.state.as_str())?;
                    many.raw_bind_parameter(base + 4, alarm.at.unwrap_or(self.now).millis())?;
                    many.raw_bind_parameter(base + 5, self.now.millis())?;
                    many.raw_bind_parameter(base + 6, &alarm.reason)?;
                    many.raw_bind_parameter(base + 7, &alarm.region)?;
                    many.raw_bind_parameter(base + 8, self.source.intake.as_str())?;
                    many.raw_bind_parameter(base + 9, &self.source.label)?;
                    many.raw_bind_parameter(base + 10, delivery)?;
                }
                many.raw_execute()?;
            }
        }
        self.alarms_one_by_one(chunks.remainder())
    }

    fn alarms_one_by_one(&mut self, alarms: &[(&AlarmMessage, Option<&str>)]) -> Result<()> {
        let now = self.now.millis();
        for (alarm, delivery) in alarms {
            self.alarm.execute(params![
                alarm.account,
                alarm.name,
                alarm.state.as_str(),
                alarm.at.map_or(now, Timestamp::millis),
                now,
                alarm.reason,
                alarm.region,
                self.source.intake.as_str(),
                self.source.label,
                delivery,
            ])?;
        }
        Ok(())
    }
}

/// Alarms bound into one multi-row INSERT.
const ALARMS_PER_STATEMENT: usize = 128;
const ALARM_COLUMNS: usize = 10;

/// `INSERT INTO alarms (…) VALUES (?, …), …` for `rows` rows.
fn alarm_insert(rows: usize) -> String {
    let row = format!("({})", ["?"; ALARM_COLUMNS].join(", "));
    format!(
        "INSERT INTO alarms (account, name, state, at, received_at, reason, region, intake, source, delivery) \
         VALUES {}",
        vec![row; rows].join(", ")
    )
}
