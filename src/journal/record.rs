//! Writing the scheduler's decisions: one transaction a decision, its
//! effects and the event that carries its reason. New rows take their ids
//! from SQLite (`INSERT … RETURNING id`), never from a number read earlier;
//! rows that cannot be read or written are journaled as faults of their own.

use rusqlite::{ErrorCode, OptionalExtension, Transaction, params};

use super::jobs::insert_event;
use super::{CommandKind, JournalError, Result};
use crate::model::{JobState, Timestamp};
use crate::scheduler::{Action, Applied, Effect, SchedJob, WaitKind};

/// How a decision was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// As the state has it.
    AsDecided,
    /// SQLite gave a new job or chain another id than the state's
    /// provisional one (someone else inserted meanwhile): the rows are
    /// right, the state is not, so the pass must start again.
    Renumbered,
    /// The journal refused the decision; it was journaled as a fault of
    /// its row instead.
    Refused,
}

/// A row that the scheduler cannot use, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A ticket message: marked processed, kept in `rejected`.
    Message { id: i64, reason: String },
    /// An alarm: chained to nothing, kept in `rejected`.
    Alarm { id: i64, reason: String },
    /// A job: failed for good, with the reason.
    Job { id: i64, reason: String },
}

impl Fault {
    /// The fault that a refused write makes of its row: a constraint
    /// belongs to the decision's arrival, else to its job. Anything else
    /// (I/O, busy past the timeout) is the journal's and stays an error.
    pub fn of(applied: &Applied, error: &JournalError) -> Option<Fault> {
        let JournalError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) = error else {
            return None;
        };
        if e.code != ErrorCode::ConstraintViolation {
            return None;
        }
        let reason = format!("the journal refused {}: {error}", applied.decision.kind());
        match (applied.arrival, &applied.decision.action) {
            (Some(p), Action::OpenTicket { .. } | Action::UpdateTicket { .. }) => {
                Some(Fault::Message { id: p.row, reason })
            }
            (Some(p), _) => Some(Fault::Alarm { id: p.row, reason }),
            (
                None,
                Action::Start { job, .. }
                | Action::Wait { job, .. }
                | Action::Retry { job, .. }
                | Action::GiveUp { job }
                | Action::Timeout { job },
            ) => Some(Fault::Job { id: *job, reason }),
            _ => None,
        }
    }
}

/// Journals a fault against its row, so it never comes up again and the
/// operator sees why.
pub fn write_fault(tx: &Transaction, fault: &Fault, now: Timestamp) -> Result<()> {
    match fault {
        Fault::Message { id, reason } => {
            tx.execute(
                "UPDATE messages SET processed_at = ?2 WHERE id = ?1",
                params![id, now.millis()],
            )?;
            let body: Option<String> = tx
                .query_row("SELECT body FROM messages WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()?;
            reject(tx, now, reason, body.unwrap_or_default().as_bytes())?;
            insert_event(tx, now, None, "rejected", reason)?;
        }
        Fault::Alarm { id, reason } => {
            tx.execute("UPDATE alarms SET chain_id = 0 WHERE id = ?1", [id])?;
            let raw: Option<String> = tx
                .query_row(
                    "SELECT json_object('account', account, 'name', name, 'state', state, 'at', at) \
                     FROM alarms WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()?;
            reject(tx, now, reason, raw.unwrap_or_default().as_bytes())?;
            insert_event(tx, now, None, "rejected", reason)?;
        }
        Fault::Job { id, reason } => {
            tx.execute(
                "UPDATE jobs SET state = 'failed', state_since = ?2, state_reason = ?3, reason = ?3, \
                 attempt = COALESCE(attempt, attempts), updated_at = ?2 WHERE id = ?1",
                params![id, now.millis(), reason],
            )?;
            insert_event(tx, now, Some(*id), "give_up", reason)?;
        }
    }
    Ok(())
}

fn reject(tx: &Transaction, now: Timestamp, reason: &str, raw: &[u8]) -> Result<()> {
    tx.execute(
        "INSERT INTO rejected (received_at, source, line, reason, raw) VALUES (?1, 'scheduler', NULL, ?2, ?3)",
        params![now.millis(), reason, raw],
    )?;
    Ok(())
}

/// Writes one applied decision: its effects, its event, and the arrival it
/// admitted marked done.
pub fn record(tx: &Transaction, applied: &Applied) -> Result<Recorded> {
    let Applied {
        decision,
        effects,
        arrival,
        ..
    } = *applied;
    let now = decision.at;
    let mut recorded = Recorded::AsDecided;
    let mut opened_chain = None;
    for effect in effects {
        match effect {
            Effect::JobCreated {
                job: j,
                prompt,
                ticket,
                chain,
            } => {
                let chain_id = match chain {
                    Some(c) => Some(tx.query_row(
                        "INSERT INTO chains (account, first_at, latest_at, alarms, resolved) \
                         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                        params![
                            c.account,
                            c.first_at.millis(),
                            c.latest_at.millis(),
                            c.alarms,
                            c.resolved
                        ],
                        |r| r.get::<_, i64>(0),
                    )?),
                    None => None,
                };
                let id: i64 = tx.query_row(
                    "INSERT INTO jobs (kind, state, state_since, project, title, prompt, priority, ticket_key, chain_id, \
                     reason, created_at, updated_at) VALUES (?1, 'queued', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?2, ?2) RETURNING id",
                    params![j.kind.as_str(), now.millis(), j.project, j.title, prompt, j.priority, ticket, chain_id, j.unrouted],
                    |r| r.get(0),
                )?;
                if let Some(chain_id) = chain_id {
                    tx.execute(
                        "UPDATE chains SET job_id = ?2 WHERE id = ?1",
                        params![chain_id, id],
                    )?;
                    opened_chain = Some(chain_id);
                }
                if id != j.id || chain_id != chain.as_ref().map(|c| c.id) {
                    recorded = Recorded::Renumbered;
                }
                if let Some(key) = ticket {
                    tx.execute(
                        "UPDATE tickets SET job_id = ?2 WHERE key = ?1",
                        params![key, id],
                    )?;
                }
                insert_event(tx, now, Some(id), "queued", &decision.reason)?;
            }
            Effect::JobChanged { job } => {
                write_job(tx, job, now)?;
                insert_event(tx, now, Some(job.id), decision.kind(), &decision.reason)?;
            }
            Effect::ChainChanged { chain: c } => {
                tx.execute(
                    "UPDATE chains SET first_at = ?2, latest_at = ?3, alarms = ?4, resolved = ?5 WHERE id = ?1",
                    params![c.id, c.first_at.millis(), c.latest_at.millis(), c.alarms, c.resolved],
                )?;
            }
            Effect::TicketChanged { .. } => {}
            Effect::Forward { job, text } => {
                // Delivered by the engine like an operator's nudge.
                tx.execute(
                    "INSERT INTO commands (at, kind, job_id, text) VALUES (?1, ?2, ?3, ?4)",
                    params![now.millis(), CommandKind::Nudge.as_str(), job, text],
                )?;
                insert_event(tx, now, Some(*job), "forward", &decision.reason)?;
            }
        }
    }
    // The arrival is admitted: it never comes up again.
    if let Some(row) = arrival.map(|p| p.row) {
        match &decision.action {
            Action::OpenChain { .. } | Action::JoinChain { .. } | Action::ResolveChain { .. } => {
                let chain = match &decision.action {
                    Action::JoinChain { chain, .. } => Some(*chain),
                    Action::ResolveChain { chain, .. } => *chain,
                    _ => opened_chain,
                };
                // 0: recorded on no chain (an OK with no chain to resolve).
                tx.execute(
                    "UPDATE alarms SET chain_id = ?2 WHERE id = ?1",
                    params![row, chain.unwrap_or(0)],
                )?;
            }
            Action::OpenTicket { .. } | Action::UpdateTicket { .. } => {
                let job: Option<i64> =
                    tx.query_row("SELECT job_id FROM tickets WHERE key = (SELECT json_extract(body, '$.key') FROM messages WHERE id = ?1)", [row], |r| r.get(0)).optional()?.flatten();
                tx.execute(
                    "UPDATE messages SET processed_at = ?2, job_id = ?3 WHERE id = ?1",
                    params![row, now.millis(), job],
                )?;
            }
            _ => {}
        }
    }
    if effects.is_empty() && arrival.is_none() {
        insert_event(tx, now, None, decision.kind(), &decision.reason)?;
    }
    Ok(recorded)
}

/// Writes a job's state columns as the scheduler left them.
fn write_job(tx: &Transaction, job: &SchedJob, now: Timestamp) -> Result<()> {
    let (attempt, state_reason, not_before) = match &job.state {
        // A queued job's state reason is the kind of wait it was told.
        JobState::Queued { not_before, .. } => (
            None,
            job.wait.map(WaitKind::as_str),
            not_before.map(Timestamp::millis),
        ),
        JobState::Waiting {
            attempt, question, ..
        } => (Some(*attempt), Some(question.as_str()), None),
        JobState::Failed {
            attempt, reason, ..
        } => (Some(*attempt), Some(reason.as_str()), None),
        JobState::Killed { reason, .. } => (None, Some(reason.as_str()), None),
        other => (other.attempt(), None, None),
    };
    tx.execute(
        "UPDATE jobs SET state = ?2, state_since = ?3, attempt = ?4, state_reason = ?5, not_before = ?6, \
         attempts = ?7, reason = ?8, updated_at = ?9, \
         progress = CASE WHEN ?10 THEN NULL ELSE progress END, \
         note = CASE WHEN ?10 THEN NULL ELSE note END WHERE id = ?1",
        params![
            job.id,
            job.state.name().as_str(),
            job.state.since().millis(),
            attempt,
            state_reason,
            not_before,
            job.attempts,
            job.reason,
            now.millis(),
            super::jobs::starts_afresh(&job.state)
        ],
    )?;
    Ok(())
}
