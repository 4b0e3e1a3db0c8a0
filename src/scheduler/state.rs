//! What the scheduler knows: the part of the journal that decisions depend
//! on, held in memory. The engine loads it from the journal; the simulator
//! keeps it as its only journal.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use super::after::AfterState;
use crate::model::{AlarmMessage, HostName, JobKind, JobState, TicketMessage, Timestamp};

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
    /// The reason last told to the operator.
    pub reason: Option<String>,
    /// The kind of wait last told, for a queued job; `None` until told.
    /// A new kind is a decision; a new holder of the same claim is not.
    pub wait: Option<WaitKind>,
    /// Why it has no project ("no project for account 1234"), when so.
    pub unrouted: Option<String>,
    /// A failed job the scheduler has given up on.
    pub gave_up: bool,
    /// The jobs it waits for that have not landed yet (`dispatch --after`);
    /// a queued job with any never starts.
    pub after: Vec<i64>,
}

impl SchedJob {
    pub fn is_active(&self) -> bool {
        self.state.name().is_active()
    }
}

/// The kind of a queued job's wait. The journal gets an event when it
/// changes, not when the job ahead changes: "repository of project api claimed by #12" and
/// "… by #13" are one kind, told once (the holder is computed when shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitKind {
    /// The project's one agent slot is taken (max agents 1).
    Claimed,
    /// The project has its max agents (more than 1).
    ProjectFull,
    /// Every agent slot of the engine is taken.
    AgentsBusy,
    /// A failed attempt's retry time has not come.
    RetryAt,
    /// The engine is draining: no new agents start.
    Draining,
    /// The operator paused the queue: no new agents start, the engine
    /// keeps running (`switchboard resume` ends it).
    Paused,
    /// No project could be found for the work.
    Unrouted,
    /// The work names a project that is not registered.
    NotRegistered,
    /// The project's host has its max agents.
    HostFull,
    /// The project's host cannot be reached now: nothing starts there.
    HostUnreachable,
    /// The project names a host that is neither registered nor in the
    /// config (its `[hosts.NAME]` was removed, say).
    HostUnknown,
    /// Jobs it waits for have not landed yet.
    After,
    /// A job it waits for failed for good or was killed: the operator
    /// retries that job or cancels this one.
    AfterFailed,
}

impl WaitKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WaitKind::Claimed => "claimed",
            WaitKind::ProjectFull => "project_full",
            WaitKind::AgentsBusy => "agents_busy",
            WaitKind::RetryAt => "retry_at",
            WaitKind::Draining => "draining",
            WaitKind::Paused => "paused",
            WaitKind::Unrouted => "unrouted",
            WaitKind::NotRegistered => "not_registered",
            WaitKind::HostFull => "host_full",
            WaitKind::HostUnreachable => "host_unreachable",
            WaitKind::HostUnknown => "host_unknown",
            WaitKind::After => "after",
            WaitKind::AfterFailed => "after_failed",
        }
    }

    pub fn parse(text: &str) -> Option<WaitKind> {
        [
            WaitKind::Claimed,
            WaitKind::ProjectFull,
            WaitKind::AgentsBusy,
            WaitKind::RetryAt,
            WaitKind::Draining,
            WaitKind::Paused,
            WaitKind::Unrouted,
            WaitKind::NotRegistered,
            WaitKind::HostFull,
            WaitKind::HostUnreachable,
            WaitKind::HostUnknown,
            WaitKind::After,
            WaitKind::AfterFailed,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// What the operator holds back, as the engine reads it each pass: a
/// drain (no new starts; the engine ends after its last agent) and a pause
/// (no new starts; the engine keeps running). `switchboard resume` ends
/// both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Holds {
    pub draining: bool,
    pub paused: bool,
}

/// The limits of a registered project, and where it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectLimits {
    pub max_agents: u32,
    /// Its host; [`HostName::local`] is the engine's machine, which only
    /// the global limit bounds.
    pub host: HostName,
}

impl ProjectLimits {
    /// A project on the engine's own machine.
    pub fn local(max_agents: u32) -> ProjectLimits {
        ProjectLimits {
            max_agents,
            host: HostName::local(),
        }
    }
}

/// What the scheduler knows of a remote host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostLimits {
    /// Agents at once there; `None`: only the global and project limits.
    pub max_agents: Option<u32>,
    /// The SSH side cannot reach it now: nothing starts there, and its
    /// agents' timeouts wait until it can be seen again.
    pub unreachable: bool,
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
        /// The jobs it waits for, checked when it arrived.
        after: Vec<i64>,
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

/// The start order within a project: higher priority first, then older,
/// then lower id.
pub type QueueKey = (i64, Timestamp, i64);

/// The scheduler's state. Jobs are indexed by what `decide` asks of them,
/// so that a decision costs what changes, not what waits: queued jobs in
/// start order per project, retries by their time, agents per project,
/// failed jobs, and queued jobs whose wait has not been told.
#[derive(Debug, Clone)]
pub struct State {
    pub projects: BTreeMap<String, ProjectLimits>,
    /// The remote hosts known (the engine's machine is not among them).
    pub hosts: BTreeMap<HostName, HostLimits>,
    /// Jobs that are not over, and failed jobs not yet retried or given up.
    pub jobs: BTreeMap<i64, SchedJob>,
    /// Per account, its chains that may still be joined.
    pub chains: HashMap<String, Vec<Chain>>,
    pub tickets: HashMap<String, Ticket>,
    /// Arrivals to admit, in arrival order.
    pub inbox: VecDeque<Pending>,
    /// Where the jobs that queued jobs wait for stand, for those no longer
    /// in `jobs` (a job in `jobs` speaks for itself).
    pub settled: BTreeMap<i64, AfterState>,
    /// No new starts while draining.
    pub draining: bool,
    /// No new starts while the operator has paused the queue.
    pub paused: bool,
    /// The jobs indexed by what `decide` asks of them.
    index: Index,
    pub next_job: i64,
    pub next_chain: ChainId,
    /// Seeds the retry jitter.
    pub seed: u64,
}

impl Default for State {
    fn default() -> State {
        State::new()
    }
}

impl State {
    pub fn new() -> State {
        State {
            projects: BTreeMap::new(),
            hosts: BTreeMap::new(),
            jobs: BTreeMap::new(),
            chains: HashMap::new(),
            tickets: HashMap::new(),
            inbox: VecDeque::new(),
            settled: BTreeMap::new(),
            draining: false,
            paused: false,
            index: Index {
                queues: BTreeMap::new(),
                delayed: BTreeSet::new(),
                released_until: Timestamp::from_millis(i64::MIN),
                agents: BTreeMap::new(),
                agents_total: 0,
                failed: BTreeSet::new(),
                untold: BTreeSet::new(),
                blocked: BTreeSet::new(),
                told_draining: BTreeSet::new(),
                told_paused: BTreeSet::new(),
            },
            next_job: 1,
            next_chain: 1,
            seed: 0,
        }
    }

    /// Inserts or replaces a job, keeping every index in step.
    pub fn put_job(&mut self, job: SchedJob) {
        self.next_job = self.next_job.max(job.id + 1);
        match self.jobs.get_mut(&job.id) {
            Some(slot) => {
                self.index.remove(slot);
                self.index.add(&job);
                *slot = job;
            }
            None => {
                self.index.add(&job);
                self.jobs.insert(job.id, job);
            }
        }
    }

    /// Changes a job in place, keeping every index in step; nothing
    /// changes if `f` refuses. Returns the job as it is now (`None`: no
    /// such job).
    pub fn change_job<E>(
        &mut self,
        id: i64,
        f: impl FnOnce(&mut SchedJob) -> Result<(), E>,
    ) -> Option<Result<&SchedJob, E>> {
        let slot = self.jobs.get_mut(&id)?;
        let mut job = slot.clone();
        if let Err(e) = f(&mut job) {
            return Some(Err(e));
        }
        self.index.remove(slot);
        self.index.add(&job);
        *slot = job;
        Some(Ok(slot))
    }

    /// Forgets a job that is over (memory stays flat in long simulations).
    pub fn drop_job(&mut self, id: i64) {
        if let Some(old) = self.jobs.remove(&id) {
            self.index.remove(&old);
        }
    }

    /// Moves the retries due at `now` into their projects' queues; their
    /// wait is told again (it is no longer the retry time).
    pub fn release_due(&mut self, now: Timestamp) {
        if now <= self.index.released_until {
            return;
        }
        self.index.released_until = now;
        while let Some(&(t, id)) = self.index.delayed.first() {
            if t > now {
                break;
            }
            self.index.delayed.pop_first();
            if let Some(job) = self.jobs.get_mut(&id) {
                self.index.remove(job);
                if job.wait == Some(WaitKind::RetryAt) {
                    job.wait = None;
                }
                self.index.add(job);
            }
        }
    }

    /// Agents at work, all projects together.
    pub fn active(&self) -> usize {
        self.index.agents_total
    }

    /// The jobs with an agent in `project` (`""`: no project), lowest id first.
    pub fn agents_of(&self, project: &str) -> Option<&BTreeSet<i64>> {
        self.index.agents.get(project)
    }

    /// The host of `project` (`None`: not registered).
    pub fn host_of(&self, project: &str) -> Option<&HostName> {
        self.projects.get(project).map(|p| &p.host)
    }

    /// Whether `job` runs on a host that cannot be reached now.
    pub fn on_unreachable_host(&self, job: &SchedJob) -> bool {
        job.project
            .as_deref()
            .and_then(|p| self.host_of(p))
            .and_then(|h| self.hosts.get(h))
            .is_some_and(|h| h.unreachable)
    }

    /// Agents at work on `host`, all its projects together.
    pub fn agents_on(&self, host: &HostName) -> u32 {
        self.projects
            .iter()
            .filter(|(_, p)| &p.host == host)
            .map(|(name, _)| self.agents_of(name).map_or(0, |a| a.len() as u32))
            .sum()
    }

    /// Every job with an agent.
    pub fn agents(&self) -> impl Iterator<Item = &SchedJob> + '_ {
        self.index
            .agents
            .values()
            .flatten()
            .filter_map(|id| self.jobs.get(id))
    }

    /// Per project (`""`: no project), its queued jobs that may start, in
    /// start order.
    pub fn queues(&self) -> &BTreeMap<String, BTreeSet<QueueKey>> {
        &self.index.queues
    }

    /// Every queued job that may start, in start order across projects.
    pub fn queue(&self) -> Vec<i64> {
        let mut all: Vec<QueueKey> = self.index.queues.values().flatten().copied().collect();
        all.sort_unstable();
        all.into_iter().map(|(_, _, id)| id).collect()
    }

    /// The earliest retry time still to come.
    pub fn next_retry(&self) -> Option<Timestamp> {
        self.index.delayed.first().map(|&(t, _)| t)
    }

    /// Failed jobs awaiting a retry or give-up decision.
    pub fn failed(&self) -> impl Iterator<Item = &SchedJob> + '_ {
        self.index.failed.iter().filter_map(|id| self.jobs.get(id))
    }

    /// Queued jobs whose wait has not been told yet.
    pub fn untold(&self) -> impl Iterator<Item = &SchedJob> + '_ {
        self.index.untold.iter().filter_map(|id| self.jobs.get(id))
    }

    /// Queued jobs last told that a drain (`WaitKind::Draining`) or a
    /// pause (`WaitKind::Paused`) holds them; no other kind is kept.
    pub fn told(&self, kind: WaitKind) -> impl Iterator<Item = &SchedJob> + '_ {
        let ids = match kind {
            WaitKind::Draining => Some(&self.index.told_draining),
            WaitKind::Paused => Some(&self.index.told_paused),
            _ => None,
        };
        ids.into_iter().flatten().filter_map(|id| self.jobs.get(id))
    }

    /// Queued jobs that wait for other jobs, lowest id first.
    pub fn blocked(&self) -> impl Iterator<Item = &SchedJob> + '_ {
        self.index.blocked.iter().filter_map(|id| self.jobs.get(id))
    }

    /// Where job `id` stands for the jobs that wait for it.
    pub fn after_state(&self, id: i64) -> AfterState {
        match self.jobs.get(&id) {
            Some(job) => match &job.state {
                JobState::Queued { .. } => AfterState::Queued,
                JobState::Failed { .. } if job.gave_up => AfterState::Failed,
                JobState::Failed { .. } => AfterState::Retrying,
                JobState::Killed { .. } => AfterState::Killed,
                JobState::Done { .. } => AfterState::InReview,
                _ => AfterState::Running,
            },
            None => self
                .settled
                .get(&id)
                .copied()
                .unwrap_or(AfterState::Missing),
        }
    }

    /// Job `id` landed (merged, or done without review): the jobs waiting
    /// for it wait for it no more, and those waiting for nothing else join
    /// their project's queue.
    pub fn land(&mut self, id: i64) {
        self.settled.remove(&id);
        let waiting: Vec<i64> = self
            .blocked()
            .filter(|j| j.after.contains(&id))
            .map(|j| j.id)
            .collect();
        for job in waiting {
            self.change_job(job, |j| {
                j.after.retain(|a| *a != id);
                if j.after.is_empty() {
                    // Its wait is told again: it is no longer the others.
                    j.wait = None;
                }
                Ok::<_, std::convert::Infallible>(())
            });
        }
    }

    /// Job `id`, about to be forgotten, stands at `state` for the jobs
    /// that wait for it now or will.
    pub fn settle(&mut self, id: i64, state: AfterState) {
        if state == AfterState::Landed {
            return self.land(id);
        }
        self.settled.insert(id, state);
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

    pub fn chain_mut(&mut self, account: &str, id: ChainId) -> Option<&mut Chain> {
        self.chains
            .get_mut(account)?
            .iter_mut()
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

/// The jobs of a [`State`] indexed by what `decide` asks of them.
#[derive(Debug, Clone)]
struct Index {
    /// Queued jobs that may start, per project (`""`: no project), in
    /// start order.
    queues: BTreeMap<String, BTreeSet<QueueKey>>,
    /// Queued jobs whose retry time is after `released_until`.
    delayed: BTreeSet<(Timestamp, i64)>,
    /// Retries due up to this time are in the queues.
    released_until: Timestamp,
    /// Jobs with an agent, per project (`""`: no project).
    agents: BTreeMap<String, BTreeSet<i64>>,
    agents_total: usize,
    /// Failed jobs not yet retried or given up.
    failed: BTreeSet<i64>,
    /// Queued jobs whose wait has not been told.
    untold: BTreeSet<i64>,
    /// Queued jobs that wait for other jobs: never in `queues`.
    blocked: BTreeSet<i64>,
    /// Queued jobs last told that a drain, or a pause, holds them: told
    /// again once it ends, wherever they stand in their queue.
    told_draining: BTreeSet<i64>,
    told_paused: BTreeSet<i64>,
}

impl Index {
    fn add(&mut self, job: &SchedJob) {
        match job.state {
            JobState::Queued { not_before, .. } => match not_before {
                Some(t) if t > self.released_until => {
                    self.delayed.insert((t, job.id));
                }
                _ if !job.after.is_empty() => {
                    self.blocked.insert(job.id);
                }
                _ => {
                    let project = job.project.as_deref().unwrap_or_default();
                    match self.queues.get_mut(project) {
                        Some(q) => {
                            q.insert(queue_key(job));
                        }
                        None => {
                            self.queues
                                .insert(project.to_string(), BTreeSet::from([queue_key(job)]));
                        }
                    }
                    match job.wait {
                        None => {
                            self.untold.insert(job.id);
                        }
                        Some(WaitKind::Draining) => {
                            self.told_draining.insert(job.id);
                        }
                        Some(WaitKind::Paused) => {
                            self.told_paused.insert(job.id);
                        }
                        Some(_) => {}
                    }
                }
            },
            _ if job.is_active() => {
                let project = job.project.as_deref().unwrap_or_default();
                match self.agents.get_mut(project) {
                    Some(a) => {
                        a.insert(job.id);
                    }
                    None => {
                        self.agents
                            .insert(project.to_string(), BTreeSet::from([job.id]));
                    }
                }
                self.agents_total += 1;
            }
            JobState::Failed { .. } if !job.gave_up => {
                self.failed.insert(job.id);
            }
            _ => {}
        }
    }

    fn remove(&mut self, job: &SchedJob) {
        match job.state {
            JobState::Queued { not_before, .. } => {
                if let Some(t) = not_before {
                    self.delayed.remove(&(t, job.id));
                }
                let project = job.project.as_deref().unwrap_or_default();
                if let Some(q) = self.queues.get_mut(project) {
                    q.remove(&queue_key(job));
                    if q.is_empty() {
                        self.queues.remove(project);
                    }
                }
                self.untold.remove(&job.id);
                self.blocked.remove(&job.id);
                self.told_draining.remove(&job.id);
                self.told_paused.remove(&job.id);
            }
            _ if job.is_active() => {
                let project = job.project.as_deref().unwrap_or_default();
                if let Some(a) = self.agents.get_mut(project) {
                    if a.remove(&job.id) {
                        self.agents_total -= 1;
                    }
                    if a.is_empty() {
                        self.agents.remove(project);
                    }
                }
            }
            _ => {
                self.failed.remove(&job.id);
            }
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
pub fn queue_key(job: &SchedJob) -> QueueKey {
    (-job.priority, job.created_at, job.id)
}
