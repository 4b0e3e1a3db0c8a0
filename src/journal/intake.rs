//! Journaling intake: every accepted message is kept in `messages` with the
//! rows it makes (a task's job, a ticket, an alarm); every unreadable one is
//! kept in `rejected` with its reason. A batch is one transaction, so bulk
//! intake costs one sync per batch rather than one per message.

use rusqlite::{Transaction, params};

use super::jobs::{NewJob, insert_job, title_of};
use super::{Journal, Result};
use crate::config::Priorities;
use crate::model::{AlarmMessage, JobKind, Message, TicketMessage, Timestamp};

/// One line (or file) of intake, read or not.
#[derive(Debug, Clone)]
pub enum Incoming {
    Message { message: Message },
    Rejected { line: Option<u64>, reason: String, raw: Vec<u8> },
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
        self.write(|tx| {
            let mut outcome = IngestOutcome::default();
            for item in batch {
                match item {
                    Incoming::Message { message } => {
                        if let Some(job) = record_message(tx, message, source, priorities, now)? {
                            outcome.jobs.push(job);
                        }
                        outcome.accepted += 1;
                    }
                    Incoming::Rejected { line, reason, raw } => {
                        tx.prepare_cached(
                            "INSERT INTO rejected (received_at, source, line, reason, raw) VALUES (?1, ?2, ?3, ?4, ?5)",
                        )?
                        .execute(params![now.millis(), source, line, reason, raw])?;
                        outcome.rejected += 1;
                    }
                }
            }
            Ok(outcome)
        })
    }

    /// How many messages were journaled, and how many were rejected.
    pub fn intake_counts(&self) -> Result<(u64, u64)> {
        Ok(self.conn().query_row(
            "SELECT (SELECT COUNT(*) FROM messages), (SELECT COUNT(*) FROM rejected)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }
}

fn record_message(
    tx: &Transaction,
    message: &Message,
    source: &str,
    priorities: &Priorities,
    now: Timestamp,
) -> Result<Option<i64>> {
    let body = serde_json::to_string(message).map_err(|e| super::JournalError::Corrupt(e.to_string()))?;
    let job = match message {
        Message::Task(task) => {
            let job = NewJob {
                kind: JobKind::Task,
                project: task.project.clone(),
                title: task.title.clone().unwrap_or_else(|| title_of(&task.prompt)),
                prompt: task.prompt.clone(),
                agent: task.agent.clone(),
                priority: task.priority.unwrap_or(priorities.task),
                ticket_key: None,
            };
            Some(insert_job(tx, &job, now, &format!("task journaled from {source}"))?)
        }
        Message::Ticket(ticket) => {
            upsert_ticket(tx, ticket, now)?;
            None
        }
        Message::Alarm(_) => None,
    };
    tx.prepare_cached(
        "INSERT INTO messages (received_at, kind, source, body, job_id, processed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        now.millis(),
        message.kind(),
        source,
        body,
        job,
        // A task is complete once its job exists; tickets and alarms wait
        // for the scheduler.
        job.map(|_| now.millis())
    ])?;
    if let Message::Alarm(alarm) = message {
        insert_alarm(tx, alarm, tx.last_insert_rowid(), now)?;
    }
    Ok(job)
}

fn upsert_ticket(tx: &Transaction, ticket: &TicketMessage, now: Timestamp) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO tickets (key, project, title, body, first_at, latest_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5) \
         ON CONFLICT (key) DO UPDATE SET title = excluded.title, body = excluded.body, \
         project = COALESCE(excluded.project, tickets.project), latest_at = excluded.latest_at, \
         updates = tickets.updates + 1",
    )?
    .execute(params![ticket.key, ticket.project, ticket.title, ticket.body, now.millis()])?;
    Ok(())
}

fn insert_alarm(tx: &Transaction, alarm: &AlarmMessage, message_id: i64, now: Timestamp) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO alarms (message_id, account, name, state, at, received_at, reason, region) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        message_id,
        alarm.account,
        alarm.name,
        alarm.state.as_str(),
        alarm.at.unwrap_or(now).millis(),
        now.millis(),
        alarm.reason,
        alarm.region,
    ])?;
    Ok(())
}
