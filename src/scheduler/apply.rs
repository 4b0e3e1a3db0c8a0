//! Carrying out decisions on the scheduler's state. The same function
//! serves the engine and the simulator; what it changed comes back as
//! [`Effect`]s, which the engine writes to the journal and the simulator
//! counts.

use super::decision::{Action, Decision, JobSpec};
use super::state::{Chain, ChainId, SchedJob, State, Ticket, WaitKind};
use crate::model::{JobState, Timestamp, TransitionError};

/// What applying a decision changed. Each effect carries everything a
/// journal needs to write it, so recording never looks anything up in a
/// state that may since have forgotten it (a chain pruned, a job dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A new job, and the chain it was opened for. Their ids are the
    /// state's provisional ones: a journal takes its own from SQLite and
    /// says when they differ.
    JobCreated {
        job: Box<SchedJob>,
        prompt: String,
        ticket: Option<String>,
        chain: Option<Box<Chain>>,
    },
    /// A job as it is after the decision.
    JobChanged {
        job: Box<SchedJob>,
    },
    /// A chain as it is after the decision.
    ChainChanged {
        chain: Box<Chain>,
    },
    TicketChanged {
        key: String,
    },
    /// Text for an agent: a ticket update or an alarm that joined its chain.
    Forward {
        job: i64,
        text: String,
    },
}

/// Applies one decision; a decision that does not fit the state (a job
/// that is not where the decision expects it) is refused and changes
/// nothing.
pub fn apply(state: &mut State, decision: &Decision) -> Result<Vec<Effect>, ApplyError> {
    let now = decision.at;
    let mut effects = Vec::new();
    match &decision.action {
        Action::CreateJob { job } => {
            let created = create(state, job, now);
            effects.push(Effect::JobCreated {
                job: created,
                prompt: job.prompt.clone(),
                ticket: None,
                chain: None,
            });
        }
        Action::OpenTicket { key, job } => {
            let created = create(state, job, now);
            let id = created.id;
            state.tickets.insert(
                key.clone(),
                Ticket {
                    key: key.clone(),
                    job: Some(id),
                    updates: 0,
                },
            );
            effects.push(Effect::JobCreated {
                job: created,
                prompt: job.prompt.clone(),
                ticket: Some(key.clone()),
                chain: None,
            });
        }
        Action::UpdateTicket { key, forward_to } => {
            let ticket = state.tickets.entry(key.clone()).or_insert_with(|| Ticket {
                key: key.clone(),
                job: None,
                updates: 0,
            });
            ticket.updates += 1;
            effects.push(Effect::TicketChanged { key: key.clone() });
            if let Some(job) = forward_to {
                effects.push(Effect::Forward {
                    job: *job,
                    text: format!("Ticket {key} was updated; read it again."),
                });
            }
        }
        Action::OpenChain {
            account, at, job, ..
        } => {
            let created = create(state, job, now);
            let chain = Chain {
                id: state.next_chain,
                account: account.clone(),
                first_at: *at,
                latest_at: *at,
                alarms: 1,
                resolved: false,
                job: Some(created.id),
            };
            state.next_chain += 1;
            state
                .chains
                .entry(account.clone())
                .or_default()
                .push(chain.clone());
            effects.push(Effect::JobCreated {
                job: created,
                prompt: job.prompt.clone(),
                ticket: None,
                chain: Some(Box::new(chain)),
            });
        }
        Action::JoinChain {
            chain,
            account,
            alarm,
            at,
            forward_to,
        } => {
            let c = state
                .chain_mut(account, *chain)
                .ok_or(ApplyError::NoChain(*chain))?;
            c.alarms += 1;
            c.latest_at = c.latest_at.max(*at);
            c.first_at = c.first_at.min(*at);
            c.resolved = false;
            effects.push(Effect::ChainChanged {
                chain: Box::new(c.clone()),
            });
            if let Some(job) = forward_to {
                effects.push(Effect::Forward {
                    job: *job,
                    text: format!("Another alarm of this incident: {alarm} went to ALARM at {at}."),
                });
            }
        }
        Action::ResolveChain { chain, account, .. } => {
            if let Some(chain) = chain {
                let c = state
                    .chain_mut(account, *chain)
                    .ok_or(ApplyError::NoChain(*chain))?;
                c.resolved = true;
                effects.push(Effect::ChainChanged {
                    chain: Box::new(c.clone()),
                });
            }
        }
        Action::Start { job, attempt } => {
            change(state, *job, &mut effects, |j| {
                j.state = j.state.start(*attempt, now)?;
                j.attempts = *attempt;
                j.started_at = Some(now);
                j.first_started_at.get_or_insert(now);
                j.reason = None;
                j.wait = None;
                Ok(())
            })?;
        }
        Action::Wait { job, kind } => {
            change(state, *job, &mut effects, |j| {
                j.reason = Some(decision.reason.clone());
                j.wait = Some(*kind);
                Ok(())
            })?;
        }
        Action::Retry {
            job, not_before, ..
        } => {
            change(state, *job, &mut effects, |j| {
                j.state = j.state.requeue(Some(*not_before), now)?;
                j.started_at = None;
                j.reason = Some(decision.reason.clone());
                j.wait = Some(WaitKind::RetryAt);
                Ok(())
            })?;
        }
        Action::GiveUp { job } => {
            change(state, *job, &mut effects, |j| {
                j.gave_up = true;
                j.reason = Some(decision.reason.clone());
                Ok(())
            })?;
        }
        Action::Timeout { job } => {
            change(state, *job, &mut effects, |j| {
                j.state = j.state.fail("timed out", now)?;
                j.started_at = None;
                Ok(())
            })?;
        }
    }
    Ok(effects)
}

/// Why a decision could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("no job #{0} in the scheduler's state")]
    NoJob(i64),
    #[error("no chain {0} in the scheduler's state")]
    NoChain(ChainId),
    #[error(transparent)]
    Transition(#[from] TransitionError),
}

/// Creates a job under the state's next provisional id.
fn create(state: &mut State, spec: &JobSpec, now: Timestamp) -> Box<SchedJob> {
    let id = state.next_job;
    let job = SchedJob {
        id,
        kind: spec.kind,
        state: JobState::new(now),
        project: spec.project.clone(),
        title: spec.title.clone(),
        priority: spec.priority,
        attempts: 0,
        created_at: now,
        started_at: None,
        first_started_at: None,
        reason: None,
        wait: None,
        unrouted: spec.unrouted.clone(),
        gave_up: false,
        after: spec.after.clone(),
    };
    state.put_job(job.clone());
    Box::new(job)
}

/// Changes one job in place, keeping the state's indexes in step; nothing
/// changes if `f` refuses.
fn change(
    state: &mut State,
    id: i64,
    effects: &mut Vec<Effect>,
    f: impl FnOnce(&mut SchedJob) -> Result<(), TransitionError>,
) -> Result<(), ApplyError> {
    let job = state.change_job(id, f).ok_or(ApplyError::NoJob(id))??;
    effects.push(Effect::JobChanged {
        job: Box::new(job.clone()),
    });
    Ok(())
}
