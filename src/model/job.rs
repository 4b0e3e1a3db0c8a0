//! A job and its lifecycle.
//!
//! The state is an enum whose variants carry their own data, so that a
//! queued job cannot have an exit reason and a failed one cannot lack it.
//! Every move is a method that returns the next state or refuses with a
//! [`TransitionError`]; nothing else changes a job's state.
//!
//! ```text
//! queued → starting → running ⇄ waiting → done
//!                     running ⇄ stalled
//! starting|running|waiting|stalled → failed → queued (retry, with a not-before time)
//! starting → queued (held back: its host out of reach, not the job's fault)
//! any state that is not over → killed
//! done → running (rejected, agent still there) | queued (rejected, agent gone)
//! killed → queued (operator retry)
//! ```
//!
//! ```
//! use switchboard::model::{JobState, StateName, Timestamp};
//! let now = Timestamp::from_millis(0);
//! let running = JobState::new(now).start(1, now).and_then(|s| s.run(now)).unwrap();
//! assert_eq!(running.name(), StateName::Running);
//! // A queued job cannot finish: the move is refused, with the reason.
//! let err = JobState::new(now).finish(now).unwrap_err();
//! assert_eq!(err.to_string(), "queued job: cannot finish");
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// Where a job came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// Typed or dispatched by an operator.
    Task,
    /// Opened for a ticket key from a ticket system.
    Ticket,
    /// Opened for a chain of monitoring alarms.
    Incident,
}

impl JobKind {
    pub const ALL: [JobKind; 3] = [JobKind::Task, JobKind::Ticket, JobKind::Incident];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::Task => "task",
            JobKind::Ticket => "ticket",
            JobKind::Incident => "incident",
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown job kind {s:?}; expected task, ticket or incident"))
    }
}

/// The name of a state, without its data: what the journal's `state` column
/// holds, what `--state` filters on, and what the operator reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum StateName {
    Queued,
    Starting,
    Running,
    Waiting,
    Stalled,
    Done,
    Failed,
    Killed,
}

impl StateName {
    pub const ALL: [StateName; 8] = [
        StateName::Queued,
        StateName::Starting,
        StateName::Running,
        StateName::Waiting,
        StateName::Stalled,
        StateName::Done,
        StateName::Failed,
        StateName::Killed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StateName::Queued => "queued",
            StateName::Starting => "starting",
            StateName::Running => "running",
            StateName::Waiting => "waiting",
            StateName::Stalled => "stalled",
            StateName::Done => "done",
            StateName::Failed => "failed",
            StateName::Killed => "killed",
        }
    }

    /// Whether a job in this state is over: nothing more happens to it
    /// unless an operator retries or rejects it.
    pub fn is_over(self) -> bool {
        matches!(
            self,
            StateName::Done | StateName::Failed | StateName::Killed
        )
    }

    /// The states in which a job occupies an agent (it is, or is about to
    /// be, alive): the one list that [`StateName::is_active`] and the
    /// journal's `state IN (…)` queries both read.
    pub const ACTIVE: [StateName; 4] = [
        StateName::Starting,
        StateName::Running,
        StateName::Waiting,
        StateName::Stalled,
    ];

    /// Whether a job in this state occupies an agent.
    pub fn is_active(self) -> bool {
        StateName::ACTIVE.contains(&self)
    }
}

impl fmt::Display for StateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StateName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        StateName::ALL
            .into_iter()
            .find(|n| n.as_str() == lower)
            .ok_or_else(|| {
                let names: Vec<_> = StateName::ALL.iter().map(|n| n.as_str()).collect();
                format!("unknown state {s:?}; expected one of {}", names.join(", "))
            })
    }
}

/// A job's state with the data that belongs to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for the scheduler; `not_before` holds a retry's backoff.
    Queued {
        since: Timestamp,
        not_before: Option<Timestamp>,
    },
    /// An attempt was journaled; its agent is being started.
    Starting { attempt: u32, since: Timestamp },
    /// The agent works.
    Running { attempt: u32, since: Timestamp },
    /// The agent asked something and waits for the operator.
    Waiting {
        attempt: u32,
        since: Timestamp,
        question: String,
    },
    /// No activity for too long; the agent was nudged and needs the operator.
    Stalled { attempt: u32, since: Timestamp },
    /// The agent finished; its work is committed and in review.
    Done { attempt: u32, at: Timestamp },
    /// The attempt failed; the engine retries it or this is for good.
    Failed {
        attempt: u32,
        at: Timestamp,
        reason: String,
    },
    /// An operator (or a timeout) ended the job.
    Killed { at: Timestamp, reason: String },
}

/// A move the job's state machine refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{from} job: cannot {action}")]
pub struct TransitionError {
    pub from: StateName,
    pub action: &'static str,
}

impl JobState {
    /// A newly journaled job.
    pub fn new(now: Timestamp) -> Self {
        JobState::Queued {
            since: now,
            not_before: None,
        }
    }

    pub fn name(&self) -> StateName {
        match self {
            JobState::Queued { .. } => StateName::Queued,
            JobState::Starting { .. } => StateName::Starting,
            JobState::Running { .. } => StateName::Running,
            JobState::Waiting { .. } => StateName::Waiting,
            JobState::Stalled { .. } => StateName::Stalled,
            JobState::Done { .. } => StateName::Done,
            JobState::Failed { .. } => StateName::Failed,
            JobState::Killed { .. } => StateName::Killed,
        }
    }

    /// When the job entered this state.
    pub fn since(&self) -> Timestamp {
        match self {
            JobState::Queued { since, .. }
            | JobState::Starting { since, .. }
            | JobState::Running { since, .. }
            | JobState::Waiting { since, .. }
            | JobState::Stalled { since, .. } => *since,
            JobState::Done { at, .. }
            | JobState::Failed { at, .. }
            | JobState::Killed { at, .. } => *at,
        }
    }

    /// The attempt this state belongs to, if any.
    pub fn attempt(&self) -> Option<u32> {
        match self {
            JobState::Starting { attempt, .. }
            | JobState::Running { attempt, .. }
            | JobState::Waiting { attempt, .. }
            | JobState::Stalled { attempt, .. }
            | JobState::Done { attempt, .. }
            | JobState::Failed { attempt, .. } => Some(*attempt),
            JobState::Queued { .. } | JobState::Killed { .. } => None,
        }
    }

    fn refuse(&self, action: &'static str) -> TransitionError {
        TransitionError {
            from: self.name(),
            action,
        }
    }

    /// queued → starting, as attempt number `attempt`, once its not-before
    /// time has passed.
    pub fn start(&self, attempt: u32, now: Timestamp) -> Result<JobState, TransitionError> {
        match self {
            JobState::Queued { not_before, .. } if not_before.is_none_or(|t| t <= now) => {
                Ok(JobState::Starting {
                    attempt,
                    since: now,
                })
            }
            JobState::Queued { .. } => Err(TransitionError {
                from: StateName::Queued,
                action: "start before its retry time",
            }),
            _ => Err(self.refuse("start")),
        }
    }

    /// starting, waiting, stalled → running; done → running when a rejected
    /// agent takes up its work again.
    pub fn run(&self, now: Timestamp) -> Result<JobState, TransitionError> {
        match self {
            JobState::Starting { attempt, .. }
            | JobState::Waiting { attempt, .. }
            | JobState::Stalled { attempt, .. }
            | JobState::Done { attempt, .. } => Ok(JobState::Running {
                attempt: *attempt,
                since: now,
            }),
            _ => Err(self.refuse("resume running")),
        }
    }

    /// starting, running, stalled → waiting for the operator's answer.
    pub fn wait(&self, question: &str, now: Timestamp) -> Result<JobState, TransitionError> {
        match self {
            JobState::Starting { attempt, .. }
            | JobState::Running { attempt, .. }
            | JobState::Stalled { attempt, .. } => Ok(JobState::Waiting {
                attempt: *attempt,
                since: now,
                question: question.to_string(),
            }),
            _ => Err(self.refuse("wait on")),
        }
    }

    /// running → stalled, after no activity for too long.
    pub fn stall(&self, now: Timestamp) -> Result<JobState, TransitionError> {
        match self {
            JobState::Running { attempt, .. } => Ok(JobState::Stalled {
                attempt: *attempt,
                since: now,
            }),
            _ => Err(self.refuse("stall")),
        }
    }

    /// running, waiting, stalled → done.
    pub fn finish(&self, now: Timestamp) -> Result<JobState, TransitionError> {
        match self {
            JobState::Running { attempt, .. }
            | JobState::Waiting { attempt, .. }
            | JobState::Stalled { attempt, .. } => Ok(JobState::Done {
                attempt: *attempt,
                at: now,
            }),
            _ => Err(self.refuse("finish")),
        }
    }

    /// Any state with an agent at work → failed, with the reason.
    pub fn fail(&self, reason: &str, now: Timestamp) -> Result<JobState, TransitionError> {
        match self {
            JobState::Starting { attempt, .. }
            | JobState::Running { attempt, .. }
            | JobState::Waiting { attempt, .. }
            | JobState::Stalled { attempt, .. } => Ok(JobState::Failed {
                attempt: *attempt,
                at: now,
                reason: reason.to_string(),
            }),
            _ => Err(self.refuse("fail")),
        }
    }

    /// failed, killed, done → queued again: a retry (with its backoff as
    /// `not_before`), an operator's retry, or a rejected job whose agent is
    /// gone.
    /// A start that did not happen through no fault of the job (its host
    /// was out of reach when the start was tried, or dropped while the
    /// worktree or setup was made): back to the queue, to be started
    /// again once its place allows.
    pub fn hold_back(&self, now: Timestamp) -> Result<JobState, TransitionError> {
        match self {
            JobState::Starting { .. } => Ok(JobState::Queued {
                since: now,
                not_before: None,
            }),
            _ => Err(self.refuse("hold back")),
        }
    }

    pub fn requeue(
        &self,
        not_before: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<JobState, TransitionError> {
        match self {
            JobState::Failed { .. } | JobState::Killed { .. } | JobState::Done { .. } => {
                Ok(JobState::Queued {
                    since: now,
                    not_before,
                })
            }
            _ => Err(self.refuse("requeue")),
        }
    }

    /// Any state that is not over → killed.
    pub fn kill(&self, reason: &str, now: Timestamp) -> Result<JobState, TransitionError> {
        if self.name().is_over() {
            return Err(self.refuse("kill"));
        }
        Ok(JobState::Killed {
            at: now,
            reason: reason.to_string(),
        })
    }
}

/// The first line of a prompt, shortened to fit a list: a job's default
/// title.
pub fn title_of(prompt: &str) -> String {
    let line = prompt
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    if line.chars().count() > 80 {
        let mut short: String = line.chars().take(79).collect();
        short.push('…');
        short
    } else {
        line.to_string()
    }
}

/// Agent progress as the agent reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Progress {
    /// 0 to 100, when the agent gave a figure.
    pub percent: Option<u8>,
    /// The agent's last words about what it does.
    pub note: Option<String>,
}

/// A job as the journal knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: i64,
    pub kind: JobKind,
    pub state: JobState,
    /// The project it runs in; `None` while it cannot be routed.
    pub project: Option<String>,
    pub title: String,
    /// The text the agent is given.
    pub prompt: String,
    /// The agent profile; `None` means the project's default.
    pub agent: Option<String>,
    /// Higher starts first.
    pub priority: i64,
    /// Attempts made so far.
    pub attempts: u32,
    pub created_at: Timestamp,
    pub progress: Progress,
    /// Why the job is as it is (why it waits, why it failed), for the operator.
    pub reason: Option<String>,
    /// The jobs it waits for (`dispatch --after`): it starts once they
    /// are merged.
    pub after: Vec<i64>,
}

impl Job {
    /// Why the job is where it is now: the scheduler's reason while it is
    /// queued, the question while its agent asks, the reason it ended when
    /// it failed or was killed; nothing otherwise (an earlier reason, such
    /// as a failed attempt's, is stale once the job moved on). The word
    /// says which, empty for the scheduler's own.
    pub fn why_now(&self) -> Option<(&'static str, &str)> {
        match &self.state {
            JobState::Queued { .. } => self.reason.as_deref().map(|r| ("", r)),
            JobState::Waiting { question, .. } => Some(("asks", question.as_str())),
            JobState::Failed { reason, .. } => Some(("failed", reason.as_str())),
            JobState::Killed { reason, .. } => Some(("killed", reason.as_str())),
            _ => None,
        }
    }
}

#[cfg(test)]
#[path = "job_tests.rs"]
mod tests;
