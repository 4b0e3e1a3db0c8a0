//! Journaling intake: a task becomes a job, a ticket message is kept in
//! `messages` and folded into `tickets`, an alarm is kept in `alarms`; every
//! unreadable message is kept in `rejected` with its reason. A batch is one
//! transaction, so bulk intake costs one sync per batch rather than one per
//! message.

use rusqlite::{CachedStatement, Transaction, params};

use super::jobs::{JobInserter, NewJob};
use super::{Journal, Result};
use crate::config::Priorities;
use crate::model::{AlarmMessage, JobKind, Message, Timestamp, title_of};

/// One line (or file) of intake, read or not.
#[derive(Debug, Clone)]
pub enum Incoming {
    Message {
        message: Message,
    },
    Rejected {
        line: Option<u64>,
        reason: String,
        raw: Vec<u8>,
    },
}

/// What a batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    pub accepted: u64,
    pub rejected: u64,
    /// The jobs that tasks in the batch became.
    pub jobs: Vec<i64>,
}

impl Journal {
    /// Journals a batch of intake from `source` (a file name, `stdin`, …).
    pub fn ingest(
        &mut self,
        batch: &[Incoming],
        source: &str,
        priorities: &Priorities,
        now: Timestamp,
    ) -> Result<IngestOutcome> {
        self.write(|tx| ingest_in(tx, batch, source, priorities, now))
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
            let mut outcomes = Vec::with_capacity(deliveries.len());
            let mut seen = tx.prepare_cached(
                "INSERT OR IGNORE INTO deliveries (id, source, at) VALUES (?1, ?2, ?3)",
            )?;
            for delivery in deliveries {
                if let Some(id) = &delivery.id
                    && seen.execute(params![id, delivery.source, now.millis()])? == 0
                {
                    outcomes.push(DeliveryOutcome::Duplicate);
                    continue;
                }
                outcomes.push(DeliveryOutcome::Journaled(ingest_in(
                    tx,
                    &delivery.items,
                    &delivery.source,
                    priorities,
                    now,
                )?));
            }
            Ok(outcomes)
        })
    }

    /// Whether a delivery id (an SNS or SQS MessageId) was journaled.
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
    /// Where they came from, in the operator's words (shown by `jobs ID`).
    pub source: String,
    /// The SNS or SQS MessageId: a delivery with an id already journaled
    /// is a redelivery, and skipped.
    pub id: Option<String>,
    pub items: Vec<Incoming>,
}

/// What became of a [`Delivery`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Journaled(IngestOutcome),
    /// Its id was journaled before: nothing written.
    Duplicate,
}

/// Journals one batch inside `tx`.
fn ingest_in(
    tx: &Transaction,
    batch: &[Incoming],
    source: &str,
    priorities: &Priorities,
    now: Timestamp,
) -> Result<IngestOutcome> {
    {
        {
            let mut writer = IntakeWriter::new(tx, source, priorities, now)?;
            let mut outcome = IngestOutcome::default();
            // Alarms, the high-rate rows, go in many to a statement.
            let mut alarms: Vec<&AlarmMessage> = Vec::new();
            for item in batch {
                match item {
                    Incoming::Message {
                        message: Message::Alarm(alarm),
                    } => {
                        alarms.push(alarm);
                        outcome.accepted += 1;
                    }
                    Incoming::Message { message } => {
                        if let Some(job) = writer.message(message)? {
                            outcome.jobs.push(job);
                        }
                        outcome.accepted += 1;
                    }
                    Incoming::Rejected { line, reason, raw } => {
                        writer.rejected.execute(params![
                            now.millis(),
                            source,
                            line,
                            reason,
                            raw
                        ])?;
                        outcome.rejected += 1;
                    }
                }
            }
            writer.alarms(tx, &alarms)?;
            Ok(outcome)
        }
    }
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
    source: &'tx str,
}

impl<'tx> IntakeWriter<'tx> {
    fn new(
        tx: &'tx Transaction,
        source: &'tx str,
        priorities: &'tx Priorities,
        now: Timestamp,
    ) -> Result<Self> {
        Ok(IntakeWriter {
            jobs: JobInserter::new(tx)?,
            ticket_message: tx.prepare_cached(
                "INSERT INTO messages (received_at, kind, source, body) VALUES (?1, 'ticket', ?2, ?3)",
            )?,
            ticket: tx.prepare_cached(
                "INSERT INTO tickets (key, project, title, body, first_at, latest_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) \
                 ON CONFLICT (key) DO UPDATE SET title = excluded.title, body = excluded.body, \
                 project = COALESCE(excluded.project, tickets.project), latest_at = excluded.latest_at, \
                 updates = tickets.updates + 1",
            )?,
            alarm: tx.prepare_cached(&alarm_insert(1))?,
            rejected: tx.prepare_cached(
                "INSERT INTO rejected (received_at, source, line, reason, raw) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            task_event: format!("task journaled from {source}"),
            priorities,
            now,
            source,
        })
    }

    /// Journals one message; a task's job id is returned.
    fn message(&mut self, message: &Message) -> Result<Option<i64>> {
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
                };
                Ok(Some(self.jobs.insert(&job, self.now, &self.task_event)?))
            }
            Message::Ticket(ticket) => {
                let body = serde_json::to_string(message)
                    .map_err(|e| super::JournalError::Corrupt(e.to_string()))?;
                self.ticket_message
                    .execute(params![now, self.source, body])?;
                self.ticket.execute(params![
                    ticket.key,
                    ticket.project,
                    ticket.title,
                    ticket.body,
                    now
                ])?;
                Ok(None)
            }
            Message::Alarm(alarm) => {
                self.alarms_one_by_one(std::slice::from_ref(&alarm))?;
                Ok(None)
            }
        }
    }

    /// Inserts alarms in arrival order, [`ALARMS_PER_STATEMENT`] at a time.
    fn alarms(&mut self, tx: &'tx Transaction, alarms: &[&AlarmMessage]) -> Result<()> {
        let mut chunks = alarms.chunks_exact(ALARMS_PER_STATEMENT);
        if chunks.len() > 0 {
            let mut many = tx.prepare_cached(&alarm_insert(ALARMS_PER_STATEMENT))?;
            for chunk in &mut chunks {
                for (i, alarm) in chunk.iter().enumerate() {
                    let base = i * ALARM_COLUMNS;
                    many.raw_bind_parameter(base + 1, &alarm.account)?;
                    many.raw_bind_parameter(base + 2, &alarm.name)?;
                    many.raw_bind_parameter(base + 3, alarm.state.as_str())?;
                    many.raw_bind_parameter(base + 4, alarm.at.unwrap_or(self.now).millis())?;
                    many.raw_bind_parameter(base + 5, self.now.millis())?;
                    many.raw_bind_parameter(base + 6, &alarm.reason)?;
                    many.raw_bind_parameter(base + 7, &alarm.region)?;
                }
                many.raw_execute()?;
            }
        }
        self.alarms_one_by_one(chunks.remainder())
    }

    fn alarms_one_by_one(&mut self, alarms: &[&AlarmMessage]) -> Result<()> {
        let now = self.now.millis();
        for alarm in alarms {
            self.alarm.execute(params![
                alarm.account,
                alarm.name,
                alarm.state.as_str(),
                alarm.at.map_or(now, Timestamp::millis),
                now,
                alarm.reason,
                alarm.region,
            ])?;
        }
        Ok(())
    }
}

/// Alarms bound into one multi-row INSERT.
const ALARMS_PER_STATEMENT: usize = 128;
const ALARM_COLUMNS: usize = 7;

/// `INSERT INTO alarms (…) VALUES (?, …), …` for `rows` rows.
fn alarm_insert(rows: usize) -> String {
    let row = format!("({})", ["?"; ALARM_COLUMNS].join(", "));
    format!(
        "INSERT INTO alarms (account, name, state, at, received_at, reason, region) VALUES {}",
        vec![row; rows].join(", ")
    )
}
