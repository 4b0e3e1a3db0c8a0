//! The figures of a simulation.

use serde::Serialize;

use crate::model::{JobKind, Timestamp};
use crate::scheduler::{Action, Decision, Effect, State};

/// Jobs created, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ByKind {
    pub task: u64,
    pub ticket: u64,
    pub incident: u64,
}

/// What a simulation did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub jobs_by_kind: ByKind,
    /// Chains opened.
    pub chains: u64,
    /// ALARMs that joined an existing chain instead of making a job.
    pub alarms_chained: u64,
    /// Ticket messages whose key already had its job.
    pub tickets_deduplicated: u64,
    pub agents_started: u64,
    pub max_concurrency: u64,
    pub retries: u64,
    /// Jobs that failed for good.
    pub failed: u64,
    pub timeouts: u64,
    pub done: u64,
    /// Journal events: decisions and agents' ends.
    pub events: u64,
    pub decisions: u64,
    pub messages: u64,
    /// From a job's creation to its first start, in seconds.
    pub mean_wait_s: f64,
    pub max_wait_s: f64,
    #[serde(skip)]
    waits: u64,
    #[serde(skip)]
    wait_total_ms: u128,
    #[serde(skip)]
    wait_max_ms: i64,
}

impl Summary {
    /// Counts one applied decision.
    pub fn count(
        &mut self,
        state: &State,
        decision: &Decision,
        effects: &[Effect],
        now: Timestamp,
    ) {
        self.decisions += 1;
        self.events += 1;
        for effect in effects {
            if let Effect::JobCreated { job, .. } = effect {
                match job.kind {
                    JobKind::Task => self.jobs_by_kind.task += 1,
                    JobKind::Ticket => self.jobs_by_kind.ticket += 1,
                    JobKind::Incident => self.jobs_by_kind.incident += 1,
                }
            }
        }
        match &decision.action {
            Action::OpenChain { .. } => self.chains += 1,
            Action::JoinChain { .. } => self.alarms_chained += 1,
            Action::UpdateTicket { .. } => self.tickets_deduplicated += 1,
            Action::Retry { .. } => self.retries += 1,
            Action::GiveUp { .. } => self.failed += 1,
            Action::Timeout { .. } => self.timeouts += 1,
            Action::Start { job, attempt } => {
                self.agents_started += 1;
                if *attempt == 1
                    && let Some(j) = state.jobs.get(job)
                {
                    let wait = now.millis() - j.created_at.millis();
                    self.waits += 1;
                    self.wait_total_ms += wait.max(0) as u128;
                    self.wait_max_ms = self.wait_max_ms.max(wait);
                    self.mean_wait_s =
                        (self.wait_total_ms as f64 / self.waits as f64 / 1000.0 * 10.0).round()
                            / 10.0;
                    self.max_wait_s = self.wait_max_ms as f64 / 1000.0;
                }
            }
            _ => {}
        }
    }
}
