//! Why an agent shows the status it does: the signal that decided it
//! (hook, report, exit, title, screen, quiet), what matched, and the last
//! changes with their sources, read from the `status` events the engine's
//! patrol journals. `switchboard explain` prints it; the room's details
//! show its first line.

use serde::Serialize;

use super::status::{Signal, parse_status_note};
use crate::journal::Event;
use crate::model::{Job, Timestamp};

/// How many changes of status are kept.
const HISTORY: usize = 20;

/// One change of the agent's status.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub at: String,
    pub status: String,
    pub signal: Signal,
    pub detail: String,
    #[serde(skip)]
    pub when: Timestamp,
}

/// A job's agent's status and its story.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub job: i64,
    /// The job's state in the journal.
    pub state: String,
    /// The agent's status now (the latest change), or null before the
    /// engine has looked at it.
    pub status: Option<String>,
    pub signal: Option<Signal>,
    pub detail: Option<String>,
    pub at: Option<String>,
    /// The last changes, oldest first.
    pub history: Vec<Change>,
}

impl Explanation {
    /// The explanation of `job` from its events.
    pub fn of(job: &Job, events: &[Event]) -> Explanation {
        let mut history: Vec<Change> = events
            .iter()
            .filter(|e| e.kind == "status")
            .filter_map(|e| {
                let (status, signal, detail) = parse_status_note(&e.message)?;
                Some(Change {
                    at: e.at.rfc3339(),
                    status,
                    signal,
                    detail,
                    when: e.at,
                })
            })
            .collect();
        let skip = history.len().saturating_sub(HISTORY);
        history.drain(..skip);
        let now = history.last().cloned();
        Explanation {
            job: job.id,
            state: job.state.name().to_string(),
            status: now.as_ref().map(|c| c.status.clone()),
            signal: now.as_ref().map(|c| c.signal),
            detail: now.as_ref().map(|c| c.detail.clone()),
            at: now.map(|c| c.at),
            history,
        }
    }

    /// The latest change, if the engine has read the agent's status.
    pub fn now(&self) -> Option<&Change> {
        self.history.last()
    }
}
