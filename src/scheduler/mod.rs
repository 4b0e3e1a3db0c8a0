//! The scheduler: pure decisions from the journal's state.
//!
//! - [`admit`] decides what one arrival becomes: a ticket's one job or an
//!   update of it, an alarm that opens, joins or resolves its account's
//!   chain, a task's job; every new job is routed to a project.
//! - [`decide`] decides what runs now: timeouts, retries with backoff, and
//!   starts in priority order within the global and per-project limits;
//!   every job that waits gets a reason the operator can read.
//! - [`apply`] carries a decision out on the [`State`], for the engine and
//!   the simulator alike.
//!
//! All three are pure functions of (state, config, now).

mod admit;
mod after;
mod apply;
mod backoff;
mod decide;
mod decision;
mod state;

pub use admit::admit;
pub use after::{
    AfterError, AfterState, MAX_AFTER, after_reason, check_after, parse_after, parse_job_id,
};
pub use apply::{ApplyError, Effect, apply};
pub use backoff::backoff;
pub use decide::{Plan, claimed_reason, decide, room_to_start, wake_at};
pub use decision::{Action, Decision, JobSpec};
pub use state::{
    Arrival, Chain, ChainId, Holds, HostLimits, Pending, ProjectLimits, QueueKey, SchedJob, State,
    Ticket, WaitKind, joins, queue_key,
};

use crate::config::Config;
use crate::model::Timestamp;

/// One applied decision, as `pass` reports it.
pub struct Applied<'a> {
    pub state: &'a State,
    pub decision: &'a Decision,
    pub effects: &'a [Effect],
    /// The arrival the decision admitted, if it admitted one.
    pub arrival: Option<&'a Pending>,
}

/// One pass: admit every pending arrival (each against the state the
/// previous one left), then decide and apply. Every decision goes to
/// `each` with its effects, in order. Returns when to look again.
pub fn pass(
    state: &mut State,
    config: &Config,
    now: Timestamp,
    mut each: impl FnMut(Applied),
) -> Result<Option<Timestamp>, ApplyError> {
    state.release_due(now);
    while let Some(pending) = state.inbox.pop_front() {
        for decision in admit(state, &pending, config, now) {
            let effects = apply(state, &decision)?;
            each(Applied {
                state,
                decision: &decision,
                effects: &effects,
                arrival: Some(&pending),
            });
        }
    }
    let plan = decide(state, config, now);
    let mut again = false;
    for decision in &plan.decisions {
        let effects = apply(state, decision)?;
        // A retry that is due now, or a timeout that freed an agent, can
        // be decided on at once.
        again |= matches!(
            decision.action,
            Action::Timeout { .. } | Action::GiveUp { .. }
        );
        each(Applied {
            state,
            decision,
            effects: &effects,
            arrival: None,
        });
    }
    if again {
        return pass(state, config, now, each);
    }
    Ok(wake_at(state, config, now))
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
