//! What the scheduler decided, each with a reason an operator can read.

use serde::Serialize;

use super::state::{ChainId, WaitKind};
use crate::model::{JobKind, Timestamp};

/// A job to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobSpec {
    pub kind: JobKind,
    pub project: Option<String>,
    /// Why it has no project, when it has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unrouted: Option<String>,
    pub title: String,
    #[serde(skip)]
    pub prompt: String,
    pub priority: i64,
    /// The jobs it waits for (`dispatch --after`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<i64>,
}

/// One decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Action {
    /// A task becomes a job.
    CreateJob { job: JobSpec },
    /// A ticket key seen for the first time: its one job.
    OpenTicket { key: String, job: JobSpec },
    /// A ticket seen before: updated; forwarded to its agent if it has one.
    UpdateTicket {
        key: String,
        forward_to: Option<i64>,
    },
    /// An ALARM that joins no chain opens one, with its incident job.
    OpenChain {
        account: String,
        alarm: String,
        at: Timestamp,
        job: JobSpec,
    },
    /// An ALARM within the window of its account's chain joins it.
    JoinChain {
        chain: ChainId,
        account: String,
        alarm: String,
        at: Timestamp,
        forward_to: Option<i64>,
    },
    /// An OK or INSUFFICIENT_DATA: recorded, never a job.
    ResolveChain {
        chain: Option<ChainId>,
        account: String,
        alarm: String,
        at: Timestamp,
    },
    /// An agent starts for the job.
    Start { job: i64, attempt: u32 },
    /// The job waits, or the kind of its wait changed; the reason says why.
    Wait {
        job: i64,
        #[serde(rename = "wait")]
        kind: WaitKind,
    },
    /// A failed attempt is retried after `not_before`.
    Retry {
        job: i64,
        attempt: u32,
        not_before: Timestamp,
    },
    /// A job that failed `max_attempts` times fails for good.
    GiveUp { job: i64 },
    /// An attempt ran past the job timeout: it is ended as failed.
    Timeout { job: i64 },
}

/// A decision and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub at: Timestamp,
    #[serde(flatten)]
    pub action: Action,
    pub reason: String,
}

impl Decision {
    /// The machine-readable kind (`start`, `wait`, …).
    pub fn kind(&self) -> &'static str {
        match self.action {
            Action::CreateJob { .. } => "create_job",
            Action::OpenTicket { .. } => "open_ticket",
            Action::UpdateTicket { .. } => "update_ticket",
            Action::OpenChain { .. } => "open_chain",
            Action::JoinChain { .. } => "join_chain",
            Action::ResolveChain { .. } => "resolve_chain",
            Action::Start { .. } => "start",
            Action::Wait { .. } => "wait",
            Action::Retry { .. } => "retry",
            Action::GiveUp { .. } => "give_up",
            Action::Timeout { .. } => "timeout",
        }
    }
}
