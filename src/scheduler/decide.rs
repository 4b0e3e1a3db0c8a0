//! Deciding what runs: timeouts, retries, and starts in priority order
//! within the limits, each waiting job with its reason.

use std::borrow::Cow;
use std::collections::HashMap;

use super::backoff::backoff;
use super::decision::{Action, Decision};
use super::state::State;
use crate::config::Config;
use crate::model::{JobState, StateName, Timestamp, short_age};

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
        .jobs
        .values()
        .filter(|j| j.is_active())
        .filter_map(|j| j.started_at.map(|t| t.plus(config.scheduler.job_timeout)));
    let retries = state.jobs.values().filter_map(|j| match j.state {
        JobState::Queued { not_before, .. } => not_before,
        _ => None,
    });
    timeouts.chain(retries).filter(|t| *t > now).min()
}

/// The decisions due at `now` for the jobs in `state`. Pure: the same
/// state, config and time give the same plan.
pub fn decide(state: &State, config: &Config, now: Timestamp) -> Plan {
    let mut plan = Plan::default();
    let s = &config.scheduler;

    // Attempts past the job timeout end as failed.
    for job in state.jobs.values().filter(|j| j.is_active()) {
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
    for job in state
        .jobs
        .values()
        .filter(|j| j.state.name() == StateName::Failed && !j.gave_up)
    {
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

    // Starts in priority order, then age, within the limits.
    let mut active = state.active() as u32;
    let mut per_project: HashMap<&str, (u32, i64)> = HashMap::new();
    for job in state.jobs.values().filter(|j| j.is_active()) {
        if let Some(p) = job.project.as_deref() {
            let entry = per_project.entry(p).or_insert((0, job.id));
            entry.0 += 1;
            entry.1 = entry.1.min(job.id);
        }
    }
    // Once every agent is busy, most of the queue waits for the same
    // reason: it is written once, and compared without allocating.
    let mut busy = String::new();
    for &(_, _, id) in &state.queue {
        let Some(job) = state.jobs.get(&id) else {
            continue;
        };
        let JobState::Queued { not_before, .. } = job.state else {
            continue;
        };
        let reason: Cow<str> = if not_before.is_some_and(|t| t > now) {
            // The retry decision told the operator when; keep that reason.
            continue;
        } else if state.draining {
            Cow::Borrowed("draining: no new agents start")
        } else if let Some(why) = &job.unrouted {
            Cow::Borrowed(why)
        } else if let Some(project) = job.project.as_deref() {
            match state.projects.get(project) {
                None => Cow::Owned(format!("project {project} is not registered")),
                Some(_) if active >= s.max_agents => {
                    if busy.is_empty() {
                        busy = format!("{active}/{} agents busy", s.max_agents);
                    }
                    Cow::Borrowed(busy.as_str())
                }
                Some(limits) => {
                    let (count, holder) = per_project.get(project).copied().unwrap_or((0, 0));
                    if count >= limits.max_agents {
                        Cow::Owned(if limits.max_agents == 1 {
                            format!("repo {project} claimed by #{holder}")
                        } else {
                            format!("project {project} has {count}/{} agents", limits.max_agents)
                        })
                    } else {
                        active += 1;
                        let entry = per_project.entry(project).or_insert((0, id));
                        entry.0 += 1;
                        plan.decisions.push(Decision {
                            at: now,
                            action: Action::Start {
                                job: id,
                                attempt: job.attempts + 1,
                            },
                            reason: format!(
                                "agent {active} of {}; {project} {} of {}",
                                s.max_agents, entry.0, limits.max_agents
                            ),
                        });
                        continue;
                    }
                }
            }
        } else {
            Cow::Borrowed("no project")
        };
        if job.reason.as_deref() != Some(&*reason) {
            plan.decisions.push(Decision {
                at: now,
                action: Action::Wait { job: id },
                reason: reason.into_owned(),
            });
        }
    }
    plan
}
