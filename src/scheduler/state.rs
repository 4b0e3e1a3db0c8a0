//! What the scheduler knows: the part of the journal that decisions depend
//! on, held in memory. The engine loads it from the journal; the simulator
//! keeps it as its only journal.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use crate::model::{AlarmMessage, JobKind, JobState, StateName, TicketMessage, Timestamp};

/// A chain's id.
pub type ChainId = i64;

/// A job as the scheduler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchedJob {
    pub id: i64,
    pub kind: JobKind,
    pub state: JobState,
    pub project: Option<String>,
    pub title: String,
    pub priority: i64,
    pub attempts: u32,
    pub created_at: Timestamp,
    /// When the current attempt started (for the timeout).
    pub started_at: Option<Timestamp>,
    /// When the job first started (for the wait figures).
    pub first_started_at: Option<Timestamp>,
    /// The reason last told to the operator; a new one is a decision.
    pub reason: Option<String>,
    /// Why it has no project ("no project for account 1234"), when so.
    pub unrouted: Option<String>,
    /// A failed job the scheduler has given up on.
    pub gave_up: bool,
}

impl SchedJob {
    pub fn is_active(&self) -> bool {
        self.state.name().is_active()
    }
}

/// The limits of a registered project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectLimits {
    pub max_agents: u32,
}

/// A chain of ALARMs of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chain {
    pub id: ChainId,
    pub account: String,
    pub first_at: Timestamp,
    /// The latest ALARM's own time; OKs never move it.
    pub latest_at: Timestamp,
    pub alarms: u64,
    /// An OK or INSUFFICIENT_DATA came after the latest ALARM.
    pub resolved: bool,
    pub job: Option<i64>,
}

impl Chain {
    /// `open`, `resolved` (an OK came, the window still runs) or `closed`
    /// (the window passed with no new ALARM).
    pub fn state(&self, now: Timestamp, window: std::time::Duration) -> &'static str {
        if now.since(self.latest_at) > window {
            "closed"
        } else if self.resolved {
            "resolved"
        } else {
            "open"
        }
    }
}

/// A ticket key and its one job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub key: String,
    pub job: Option<i64>,
    pub updates: u64,
}

/// Work that arrived and was journaled but not yet admitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arrival {
    /// A task message (the engine's tasks are jobs already; the simulator's
    /// arrive like this).
    Task {
        project: Option<String>,
        prompt: String,
        title: Option<String>,
        priority: Option<i64>,
    },
    Ticket(TicketMessage),
    /// An alarm, with its own time (its timestamp, else its arrival).
    Alarm {
        alarm: AlarmMessage,
        at: Timestamp,
    },
}

/// One arrival with the journal row it came from (0 in the simulator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub row: i64,
    pub arrival: Arrival,
}

/// The scheduler's state.
#[derive(Debug, Clone, Default)]
pub struct State {
    pub projects: BTreeMap<String, ProjectLimits>,
    /// Jobs that are not over, and failed jobs not yet retried or given up.
    pub jobs: BTreeMap<i64, SchedJob>,
    /// Per account, its chains that may still be joined, oldest first.
    pub chains: HashMap<String, Vec<Chain>>,
    pub tickets: HashMap<String, Ticket>,
    /// Arrivals to admit, in arrival order.
    pub inbox: VecDeque<Pending>,
    /// No new starts while draining.
    pub draining: bool,
    /// Queued jobs in start order: (-priority, created_at, id).
    pub queue: BTreeSet<(i64, Timestamp, i64)>,
    pub next_job: i64,
    pub next_chain: ChainId,
    /// Seeds the retry jitter.
    pub seed: u64,
}

impl State {
    pub fn new() -> State {
        State {
            next_job: 1,
            next_chain: 1,
            ..State::default()
        }
    }

    /// Inserts or replaces a job, keeping the start order in step.
    pub fn put_job(&mut self, job: SchedJob) {
        if let Some(old) = self.jobs.get(&job.id) {
            self.queue.remove(&queue_key(old));
        }
        if job.state.name() == StateName::Queued {
            self.queue.insert(queue_key(&job));
        }
        self.next_job = self.next_job.max(job.id + 1);
        self.jobs.insert(job.id, job);
    }

    /// Forgets a job that is over (memory stays flat in long simulations).
    pub fn drop_job(&mut self, id: i64) {
        if let Some(old) = self.jobs.remove(&id) {
            self.queue.remove(&queue_key(&old));
        }
    }

    /// Agents at work, all projects together.
    pub fn active(&self) -> usize {
        self.jobs.values().filter(|j| j.is_active()).count()
    }

    /// Whether job `id` has an agent now.
    pub fn job_is_active(&self, id: Option<i64>) -> bool {
        id.and_then(|id| self.jobs.get(&id))
            .is_some_and(SchedJob::is_active)
    }

    /// The chain of `account` that an alarm at `at` belongs to: of those it
    /// joins, the one with the latest ALARM (then the newest), whatever
    /// order the chains were loaded or opened in.
    pub fn chain_for(
        &self,
        account: &str,
        at: Timestamp,
        window: std::time::Duration,
    ) -> Option<&Chain> {
        self.chains
            .get(account)?
            .iter()
            .filter(|c| joins(c, at, window))
            .max_by_key(|c| (c.latest_at, c.id))
    }

    pub fn chain_mut(&mut self, id: ChainId) -> Option<&mut Chain> {
        self.chains
            .values_mut()
            .flat_map(|v| v.iter_mut())
            .find(|c| c.id == id)
    }

    /// Forgets the chains of `account` that closed long ago: those that
    /// ended more than a window before its newest chain could reach back.
    /// Alarm times, not the clock, decide, so a replay of old alarms chains
    /// them as they happened. Only the simulator forgets chains (to keep
    /// its memory flat); the journal loads, for each pass, exactly the
    /// chains its pending alarms can join.
    pub fn prune_chains(&mut self, account: &str, window: std::time::Duration) {
        if let Some(chains) = self.chains.get_mut(account)
            && let Some(newest) = chains.iter().map(|c| c.first_at).max()
        {
            chains.retain(|c| c.latest_at.plus(window).plus(window) >= newest);
        }
    }
}

/// Whether an ALARM at `at` joins `chain`: at most one window after its
/// latest ALARM (inclusive), and, for an alarm that arrives late, no more
/// than one window before its first.
pub fn joins(chain: &Chain, at: Timestamp, window: std::time::Duration) -> bool {
    at <= chain.latest_at.plus(window) && chain.first_at <= at.plus(window)
}

/// The start order: higher priority first, then older, then lower id.
pub fn queue_key(job: &SchedJob) -> (i64, Timestamp, i64) {
    (-job.priority, job.created_at, job.id)
}
