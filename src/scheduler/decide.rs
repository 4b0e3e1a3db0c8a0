//! Deciding what runs: timeouts, retries, and starts in priority order
//! within the limits, each waiting job with its reason.
//!
//! A decision costs what changes, not what waits: with every agent slot
//! taken the queue is not walked at all; otherwise only the heads of the
//! projects that have room are, until the slots are filled. A waiting job
//! is told its wait when it starts waiting and when the kind of its wait
//! changes, never because the job ahead of it changed.

use super::after::{AfterState, after_reason};
use super::backoff::backoff;
use super::decision::{Action, Decision};
use super::state::{QueueKey, SchedJob, State, WaitKind};
use crate::config::Config;
use crate::model::{HostName, JobState, Timestamp, short_age};

/// What to do now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub decisions: Vec<Decision>,
}

/// The earliest time something will be due (a retry's not-before time, an
/// attempt's timeout) if nothing else happens first: when the engine's
/// alarm, or the simulator's clock, must look again.
pub fn wake_at(state: &State, config: &Config, now: Timestamp) -> Option<Timestamp> {
    let timeouts = state
        .agents()
        .filter_map(|j| j.started_at.map(|t| t.plus(config.scheduler.job_timeout)));
    timeouts
        .chain(state.next_retry())
        .filter(|t| *t > now)
        .min()
}

/// The decisions due at `now` for the jobs in `state`. Pure: the same
/// state, config and time give the same plan.
pub fn decide(state: &State, config: &Config, now: Timestamp) -> Plan {
    let mut plan = Plan::default();
    let s = &config.scheduler;

    // Attempts past the job timeout end as failed; not while their host
    // cannot be reached (nothing is decided about an agent that cannot be
    // seen; the timeout comes when it can be again).
    for job in state.agents() {
        if state.on_unreachable_host(job) {
            continue;
        }
        if let Some(started) = job.started_at {
            let deadline = started.plus(s.job_timeout);
            if deadline <= now {
                plan.decisions.push(Decision {
                    at: now,
                    action: Action::Timeout { job: job.id },
                    reason: format!(
                        "attempt {} ran past the job timeout of {}",
                        job.attempts,
                        humantime::format_duration(s.job_timeout)
                    ),
                });
            }
        }
    }

    // Failed attempts are retried with backoff, until max_attempts.
    for job in state.failed() {
        let why = match &job.state {
            JobState::Failed { reason, .. } => reason.as_str(),
            _ => "",
        };
        if job.attempts < s.max_attempts {
            let wait = backoff(
                s.retry_backoff,
                s.retry_backoff_max,
                state.seed,
                job.id,
                job.attempts,
            );
            let not_before = now.plus(wait);
            plan.decisions.push(Decision {
                at: now,
                action: Action::Retry {
                    job: job.id,
                    attempt: job.attempts + 1,
                    not_before,
                },
                reason: format!(
                    "attempt {} failed ({why}); retry in {} (attempt {} of {})",
                    job.attempts,
                    short_age(wait),
                    job.attempts + 1,
                    s.max_attempts
                ),
            });
        } else {
            plan.decisions.push(Decision {
                at: now,
                action: Action::GiveUp { job: job.id },
                reason: format!(
                    "failed {} of {} attempts; last: {why}",
                    job.attempts, s.max_attempts
                ),
            });
        }
    }

    let mut slots = Slots::new(state, s.max_agents);
    if !state.draining && !state.paused && slots.active < s.max_agents {
        slots.start(state, &mut plan, now);
    }
    // Who waits: the jobs not yet told, the next job of every project
    // (its wait may have changed kind), and the jobs told that a drain or
    // a pause held them once it has ended; nobody else is looked at.
    let heads = state
        .queues()
        .values()
        .filter_map(|q| q.iter().find(|k| !slots.started.contains(&k.2)));
    let untold = state.untold().map(|j| (-j.priority, j.created_at, j.id));
    // Not walked while the hold lasts: a paused queue costs nothing.
    let ended = |kind: WaitKind, on: bool| (!on).then(|| state.told(kind)).into_iter().flatten();
    let released = ended(WaitKind::Draining, state.draining)
        .chain(ended(WaitKind::Paused, state.paused))
        .map(|j| (-j.priority, j.created_at, j.id));
    let mut waiting: Vec<QueueKey> = heads.copied().chain(untold).chain(released).collect();
    waiting.sort_unstable();
    waiting.dedup();
    for (_, _, id) in waiting {
        let Some(job) = state.jobs.get(&id) else {
            continue;
        };
        if slots.started.contains(&id) {
            continue;
        }
        let kind = slots.wait_of(state, job);
        if job.wait != Some(kind) {
            plan.decisions.push(Decision {
                at: now,
                action: Action::Wait { job: id, kind },
                reason: slots.why(state, job, kind),
            });
        }
    }
    // Jobs that wait for others are told when the kind of their wait
    // changes: one they wait for failed for good or was killed (the
    // operator decides), or is back in hand.
    for job in state.blocked() {
        let waits: Vec<(i64, AfterState)> = job
            .after
            .iter()
            .map(|&id| (id, state.after_state(id)))
            .collect();
        let kind = if waits.iter().any(|(_, s)| s.needs_operator()) {
            WaitKind::AfterFailed
        } else {
            WaitKind::After
        };
        if job.wait != Some(kind) {
            plan.decisions.push(Decision {
                at: now,
                action: Action::Wait { job: job.id, kind },
                reason: after_reason(&waits),
            });
        }
    }
    plan
}

/// Whether an agent of `project` may start now, by the rules a start of
/// [`decide`] follows (a drain or a pause, the project's host, its claim
/// or limit, the global limit): `None`, or the wait and the reason the
/// operator reads. A rejected job whose agent is still there asks this
/// before its agent takes up the work again: a resume is a start.
pub fn room_to_start<'a>(
    state: &'a State,
    config: &Config,
    project: &'a str,
) -> Option<(WaitKind, String)> {
    let mut slots = Slots::new(state, config.scheduler.max_agents);
    let kind = if state.draining {
        WaitKind::Draining
    } else if state.paused {
        WaitKind::Paused
    } else if let Some(limits) = state.projects.get(project) {
        let host = slots.host_room(state, project);
        match host {
            HostRoom::No(kind @ (WaitKind::HostUnreachable | WaitKind::HostUnknown)) => kind,
            _ if slots.of(state, project).0 >= limits.max_agents => {
                if limits.max_agents == 1 {
                    WaitKind::Claimed
                } else {
                    WaitKind::ProjectFull
                }
            }
            HostRoom::No(kind) => kind,
            _ if slots.active >= slots.max => WaitKind::AgentsBusy,
            _ => return None,
        }
    } else {
        WaitKind::NotRegistered
    };
    Some((kind, slots.why_in(state, project, kind)))
}

/// The agent slots as the plan fills them.
struct Slots<'a> {
    max: u32,
    active: u32,
    /// Per project looked at: agents now (planned starts included), and
    /// the job that holds its claim. Few projects: a list is quickest.
    projects: Vec<(&'a str, u32, Option<i64>)>,
    /// Per remote host looked at: agents now, planned starts included.
    hosts: Vec<(&'a HostName, u32)>,
    started: Vec<i64>,
}

/// Whether a project's host lets one more agent start.
enum HostRoom<'a> {
    /// The engine's own machine: only the global limit.
    Local,
    /// A remote host with room (and its limit, if any).
    Remote(&'a HostName, Option<u32>),
    /// Nothing starts: full, unreachable or unknown.
    No(WaitKind),
}

impl<'a> Slots<'a> {
    fn new(state: &State, max: u32) -> Slots<'a> {
        Slots {
            max,
            active: state.active() as u32,
            projects: Vec::new(),
            hosts: Vec::new(),
            started: Vec::new(),
        }
    }

    /// Agents on remote `host`, planned starts included.
    fn on_host(&mut self, state: &State, host: &'a HostName) -> u32 {
        if let Some(&(_, count)) = self.hosts.iter().find(|h| h.0 == host) {
            return count;
        }
        let count = state.agents_on(host);
        self.hosts.push((host, count));
        count
    }

    /// Whether `project`'s host has room for one more agent now.
    fn host_room(&mut self, state: &'a State, project: &str) -> HostRoom<'a> {
        let Some((host, limits)) = state.projects.get(project).and_then(|p| {
            if p.host.is_local() {
                None
            } else {
                Some((&p.host, state.hosts.get(&p.host)))
            }
        }) else {
            return HostRoom::Local;
        };
        let Some(limits) = limits else {
            return HostRoom::No(WaitKind::HostUnknown);
        };
        if limits.unreachable {
            return HostRoom::No(WaitKind::HostUnreachable);
        }
        match limits.max_agents {
            Some(max) if self.on_host(state, host) >= max => HostRoom::No(WaitKind::HostFull),
            max => HostRoom::Remote(host, max),
        }
    }

    /// Agents in `project` and its holder, planned starts included.
    fn of(&mut self, state: &'a State, project: &'a str) -> (u32, Option<i64>) {
        if let Some(&(_, count, holder)) = self.projects.iter().find(|p| p.0 == project) {
            return (count, holder);
        }
        let agents = state.agents_of(project);
        let count = agents.map_or(0, |a| a.len() as u32);
        let holder = agents.and_then(|a| a.first().copied());
        self.projects.push((project, count, holder));
        (count, holder)
    }

    /// Starts the best queued jobs of the projects with room, in priority
    /// order across projects, until the slots are filled.
    fn start(&mut self, state: &'a State, plan: &mut Plan, now: Timestamp) {
        struct Head<'a> {
            project: &'a str,
            limit: u32,
            queue: std::collections::btree_set::Iter<'a, QueueKey>,
            next: Option<QueueKey>,
        }
        let mut heads: Vec<Head> = Vec::new();
        for (project, queue) in state.queues() {
            let Some(limits) = state.projects.get(project.as_str()) else {
                continue; // no project, or not registered: never starts
            };
            if self.of(state, project).0 >= limits.max_agents {
                continue;
            }
            if matches!(self.host_room(state, project), HostRoom::No(_)) {
                continue;
            }
            let mut queue = queue.iter();
            let next = queue.next().copied();
            heads.push(Head {
                project,
                limit: limits.max_agents,
                queue,
                next,
            });
        }
        while self.active < self.max {
            let Some(best) = heads
                .iter_mut()
                .filter(|h| h.next.is_some())
                .min_by_key(|h| h.next)
            else {
                break;
            };
            let Some((_, _, id)) = best.next else {
                break;
            };
            let Some(job) = state.jobs.get(&id) else {
                best.next = best.queue.next().copied();
                continue;
            };
            let project = best.project;
            let limit = best.limit;
            // Another project's start may have filled the host.
            let host = match self.host_room(state, project) {
                HostRoom::No(_) => {
                    best.next = None;
                    continue;
                }
                HostRoom::Local => None,
                HostRoom::Remote(host, max) => Some((host, max)),
            };
            self.of(state, project);
            let Some(entry) = self.projects.iter_mut().find(|p| p.0 == project) else {
                break;
            };
            entry.1 += 1;
            entry.2 = entry.2.or(Some(id));
            let count = entry.1;
            best.next = if count >= limit {
                None
            } else {
                best.queue.next().copied()
            };
            self.active += 1;
            self.started.push(id);
            let mut reason = format!(
                "agent {} of {}; {project} {count} of {limit}",
                self.active, self.max
            );
            if let Some((host, max)) = host {
                if let Some(slot) = self.hosts.iter_mut().find(|h| h.0 == host) {
                    slot.1 += 1;
                }
                let on = self.on_host(state, host);
                match max {
                    Some(max) => reason.push_str(&format!("; host {host} {on} of {max}")),
                    None => reason.push_str(&format!("; on host {host}")),
                }
            }
            plan.decisions.push(Decision {
                at: now,
                action: Action::Start {
                    job: id,
                    attempt: job.attempts + 1,
                },
                reason,
            });
        }
    }

    /// The kind of wait of a queued job that may start (its retry time, if
    /// any, has come), once the plan's starts are counted.
    fn wait_of(&mut self, state: &'a State, job: &'a SchedJob) -> WaitKind {
        if state.draining {
            return WaitKind::Draining;
        }
        if state.paused {
            return WaitKind::Paused;
        }
        if job.unrouted.is_some() {
            return WaitKind::Unrouted;
        }
        let Some(project) = job.project.as_deref() else {
            return WaitKind::Unrouted;
        };
        let Some(limits) = state.projects.get(project) else {
            return WaitKind::NotRegistered;
        };
        let host = self.host_room(state, project);
        if let HostRoom::No(kind @ (WaitKind::HostUnreachable | WaitKind::HostUnknown)) = host {
            return kind;
        }
        if self.of(state, project).0 >= limits.max_agents {
            return if limits.max_agents == 1 {
                WaitKind::Claimed
            } else {
                WaitKind::ProjectFull
            };
        }
        if let HostRoom::No(kind) = host {
            return kind;
        }
        WaitKind::AgentsBusy
    }

    /// What the operator reads for a wait of `kind` (only written when the
    /// kind is new, so the text is made only then).
    fn why(&mut self, state: &'a State, job: &'a SchedJob, kind: WaitKind) -> String {
        match kind {
            WaitKind::Unrouted => job.unrouted.clone().unwrap_or_else(|| "no project".into()),
            WaitKind::After | WaitKind::AfterFailed => {
                let waits: Vec<_> = job
                    .after
                    .iter()
                    .map(|&id| (id, state.after_state(id)))
                    .collect();
                after_reason(&waits)
            }
            _ => self.why_in(state, job.project.as_deref().unwrap_or_default(), kind),
        }
    }

    /// What the operator reads for a wait of `kind` of work in `project`
    /// (the kinds that depend on the project alone).
    fn why_in(&mut self, state: &'a State, project: &'a str, kind: WaitKind) -> String {
        match kind {
            WaitKind::Draining => "draining: no new agents start".into(),
            WaitKind::Paused => "paused: no new agents start (switchboard resume)".into(),
            WaitKind::Unrouted => "no project".into(),
            WaitKind::NotRegistered => format!("project {project} is not registered"),
            WaitKind::Claimed => claimed_reason(project, self.of(state, project).1),
            WaitKind::ProjectFull => {
                let max = state.projects.get(project).map_or(0, |l| l.max_agents);
                format!(
                    "project {project} has {}/{max} agents",
                    self.of(state, project).0
                )
            }
            WaitKind::HostFull | WaitKind::HostUnreachable | WaitKind::HostUnknown => {
                let Some(host) = state.host_of(project) else {
                    return format!("project {project} is not registered");
                };
                match kind {
                    WaitKind::HostUnreachable => format!("host {host} is unreachable"),
                    WaitKind::HostUnknown => format!(
                        "project {project} is on host {host}, which is not registered (`switchboard host list`)"
                    ),
                    _ => {
                        let max = state.hosts.get(host).and_then(|h| h.max_agents);
                        format!(
                            "host {host} has {}/{} agents",
                            self.on_host(state, host),
                            max.unwrap_or(0)
                        )
                    }
                }
            }
            WaitKind::AgentsBusy | WaitKind::RetryAt => {
                format!("{}/{} agents busy", self.active, self.max)
            }
            WaitKind::After | WaitKind::AfterFailed => "waits for other jobs".into(),
        }
    }
}

/// What the operator reads while `project`'s repository is claimed by
/// `holder`: worded so that a project named `repo` still reads plainly.
pub fn claimed_reason(project: &str, holder: Option<i64>) -> String {
    match holder {
        Some(holder) => format!("repository of project {project} claimed by #{holder}"),
        None => format!("repository of project {project} claimed"),
    }
}
