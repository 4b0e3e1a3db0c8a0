//! The scheduler's side of the journal: loading the [`State`] it decides
//! on, and recording each applied decision with its effects, one
//! transaction each, so a crash between two decisions loses neither.

use rusqlite::{OptionalExtension, Transaction, params};

use super::jobs::{insert_event, read_job};
use super::{CommandKind, Journal, JournalError, Result};
use crate::config::Config;
use crate::model::{AlarmMessage, AlarmState, JobState, Message, StateName, Timestamp};
use crate::scheduler::{
    Action, Applied, Arrival, Decision, Effect, Pending, ProjectLimits, SchedJob, State, Ticket,
    pass,
};

impl Journal {
    /// The scheduler's state as the journal has it now: projects, jobs that
    /// are not over (and failed ones not yet retried), tickets, the chains
    /// that may still be joined, and the intake not yet admitted.
    pub fn scheduler_state(&self, window: std::time::Duration) -> Result<State> {
        let mut state = State::new();
        for p in self.projects()? {
            state.projects.insert(
                p.name,
                ProjectLimits {
                    max_agents: p.max_agents,
                },
            );
        }
        let conn = self.conn();
        let ids: Vec<i64> = conn
            .prepare(
                "SELECT id FROM jobs WHERE state NOT IN ('done', 'killed') \
                 AND NOT (state = 'failed' AND reason IS NOT NULL) ORDER BY id",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in ids {
            let job = read_job(conn, id)?.ok_or(JournalError::NoJob(id))?;
            let active = job.state.name().is_active();
            let unrouted = job
                .project
                .is_none()
                .then(|| job.reason.clone().unwrap_or_else(|| "no project".into()));
            state.put_job(SchedJob {
                id,
                kind: job.kind,
                project: job.project,
                title: job.title,
                priority: job.priority,
                attempts: job.attempts,
                created_at: job.created_at,
                started_at: active.then(|| job.state.since()),
                first_started_at: None,
                gave_up: job.state.name() == StateName::Failed && job.reason.is_some(),
                reason: job.reason,
                unrouted,
                state: job.state,
            });
        }
        state.next_job = conn.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM jobs", [], |r| {
            r.get(0)
        })?;
        state.next_chain =
            conn.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM chains", [], |r| {
                r.get(0)
            })?;
        let mut tickets =
            conn.prepare("SELECT key, job_id, updates FROM tickets WHERE job_id IS NOT NULL")?;
        for row in tickets.query_map([], |r| {
            Ok(Ticket {
                key: r.get(0)?,
                job: r.get(1)?,
                updates: r.get(2)?,
            })
        })? {
            let ticket = row?;
            state.tickets.insert(ticket.key.clone(), ticket);
        }
        let mut chains = self.chains()?;
        chains.sort_by(|a, b| (&a.account, a.first_at).cmp(&(&b.account, b.first_at)));
        for chain in chains {
            let account = chain.account.clone();
            state.chains.entry(account.clone()).or_default().push(chain);
            state.prune_chains(&account, window);
        }
        // Intake not yet admitted, in arrival order: alarms without a chain
        // decision, ticket messages not processed.
        let mut pending: Vec<(i64, i64, Pending)> = Vec::new();
        let mut alarms = conn.prepare(
            "SELECT id, received_at, account, name, state, at, reason, region FROM alarms WHERE chain_id IS NULL",
        )?;
        for row in alarms.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })? {
            let (id, received, account, name, alarm_state, at, reason, region) = row?;
            let at = Timestamp::from_millis(at);
            let alarm = AlarmMessage {
                account,
                name,
                state: AlarmState::parse(&alarm_state).map_err(JournalError::Corrupt)?,
                at: Some(at),
                reason,
                region,
            };
            pending.push((
                received,
                0,
                Pending {
                    row: id,
                    arrival: Arrival::Alarm { alarm, at },
                },
            ));
        }
        let mut messages =
            conn.prepare("SELECT id, received_at, body FROM messages WHERE kind = 'ticket' AND processed_at IS NULL")?;
        for row in messages.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })? {
            let (id, received, body) = row?;
            match serde_json::from_str::<Message>(&body) {
                Ok(Message::Ticket(ticket)) => pending.push((
                    received,
                    1,
                    Pending {
                        row: id,
                        arrival: Arrival::Ticket(ticket),
                    },
                )),
                _ => {
                    return Err(JournalError::Corrupt(format!(
                        "ticket message {id} cannot be read"
                    )));
                }
            }
        }
        pending.sort_by_key(|(received, kind, p)| (*received, *kind, p.row));
        state.inbox = pending.into_iter().map(|(_, _, p)| p).collect();
        Ok(state)
    }

    /// One scheduler pass on the journal: load the state, admit the
    /// pending intake and decide (the same `pass` the simulator runs), and
    /// record every decision as it is applied. Returns the decisions and
    /// when to look again. A pass that fails part way (say a job id taken
    /// by a concurrent dispatch) stops; what it recorded stands, and the
    /// next pass starts from the journal again.
    pub fn schedule(
        &mut self,
        config: &Config,
        now: Timestamp,
        draining: bool,
    ) -> Result<(Vec<Decision>, Option<Timestamp>)> {
        let mut state = self.scheduler_state(config.scheduler.chain_window)?;
        state.draining = draining;
        let mut failure = None;
        let mut decided = Vec::new();
        let wake = pass(&mut state, config, now, |applied| {
            if failure.is_none() {
                match self.record_decision(&applied) {
                    Ok(()) => decided.push(applied.decision.clone()),
                    Err(e) => failure = Some(e),
                }
            }
        })
        .map_err(|e| {
            JournalError::Refused(format!(
                "the scheduler's state and the journal disagree: {e}"
            ))
        })?;
        match failure {
            Some(e) => Err(e),
            None => Ok((decided, wake)),
        }
    }

    /// Records one applied decision and its effects, with an event that
    /// carries its reason, in one transaction.
    pub fn record_decision(&mut self, applied: &Applied) -> Result<()> {
        self.write(|tx| record(tx, applied))
    }
}

fn record(tx: &Transaction, applied: &Applied) -> Result<()> {
    let Applied {
        state,
        decision,
        effects,
        arrival,
    } = *applied;
    let now = decision.at;
    let arrival_row = arrival.map(|p| p.row);
    for effect in effects {
        match effect {
            Effect::JobCreated { job, ticket, chain } => {
                let j = state.jobs.get(job).ok_or(JournalError::NoJob(*job))?;
                let prompt = match &decision.action {
                    Action::CreateJob { job }
                    | Action::OpenTicket { job, .. }
                    | Action::OpenChain { job, .. } => job.prompt.as_str(),
                    _ => "",
                };
                if let Some(chain_id) = chain {
                    let c = state
                        .chains
                        .values()
                        .flatten()
                        .find(|c| c.id == *chain_id)
                        .ok_or_else(|| {
                            JournalError::Corrupt(format!("chain {chain_id} vanished"))
                        })?;
                    tx.execute(
                        "INSERT INTO chains (id, account, first_at, latest_at, alarms, resolved, job_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![c.id, c.account, c.first_at.millis(), c.latest_at.millis(), c.alarms, c.resolved, job],
                    )?;
                }
                tx.execute(
                    "INSERT INTO jobs (id, kind, state, state_since, project, title, prompt, priority, ticket_key, chain_id, \
                     reason, created_at, updated_at) VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?3, ?3)",
                    params![job, j.kind.as_str(), now.millis(), j.project, j.title, prompt, j.priority, ticket, chain, j.unrouted],
                )?;
                if let Some(key) = ticket {
                    tx.execute(
                        "UPDATE tickets SET job_id = ?2 WHERE key = ?1",
                        params![key, job],
                    )?;
                }
                insert_event(tx, now, Some(*job), "queued", &decision.reason)?;
            }
            Effect::JobChanged { job } => {
                let j = state.jobs.get(job).ok_or(JournalError::NoJob(*job))?;
                write_job(tx, j, now)?;
                insert_event(tx, now, Some(*job), decision.kind(), &decision.reason)?;
            }
            Effect::ChainChanged { chain } => {
                if let Some(c) = state.chains.values().flatten().find(|c| c.id == *chain) {
                    tx.execute(
                        "UPDATE chains SET first_at = ?2, latest_at = ?3, alarms = ?4, resolved = ?5 WHERE id = ?1",
                        params![c.id, c.first_at.millis(), c.latest_at.millis(), c.alarms, c.resolved],
                    )?;
                }
            }
            Effect::TicketChanged { .. } => {}
            Effect::Forward { job, text } => {
                // Delivered by the engine like an operator's nudge.
                tx.execute(
                    "INSERT INTO commands (at, kind, job_id, text) VALUES (?1, ?2, ?3, ?4)",
                    params![now.millis(), CommandKind::Nudge.as_str(), job, text],
                )?;
                insert_event(tx, now, Some(*job), "forward", &decision.reason)?;
            }
        }
    }
    // The arrival is admitted: it never comes up again.
    if let Some(row) = arrival_row {
        match &decision.action {
            Action::OpenChain { .. } | Action::JoinChain { .. } | Action::ResolveChain { .. } => {
                let chain = match &decision.action {
                    Action::JoinChain { chain, .. } => Some(*chain),
                    Action::ResolveChain { chain, .. } => *chain,
                    _ => effects.iter().find_map(|e| match e {
                        Effect::JobCreated { chain, .. } => *chain,
                        _ => None,
                    }),
                };
                // 0: recorded on no chain (an OK with no chain to resolve).
                tx.execute(
                    "UPDATE alarms SET chain_id = ?2 WHERE id = ?1",
                    params![row, chain.unwrap_or(0)],
                )?;
            }
            Action::OpenTicket { .. } | Action::UpdateTicket { .. } => {
                let job: Option<i64> =
                    tx.query_row("SELECT job_id FROM tickets WHERE key = (SELECT json_extract(body, '$.key') FROM messages WHERE id = ?1)", [row], |r| r.get(0)).optional()?.flatten();
                tx.execute(
                    "UPDATE messages SET processed_at = ?2, job_id = ?3 WHERE id = ?1",
                    params![row, now.millis(), job],
                )?;
            }
            _ => {}
        }
    }
    if effects.is_empty() && arrival_row.is_none() {
        insert_event(tx, now, None, decision.kind(), &decision.reason)?;
    }
    Ok(())
}

/// Writes a job's state columns as the scheduler left them.
fn write_job(tx: &Transaction, job: &SchedJob, now: Timestamp) -> Result<()> {
    let (attempt, state_reason, not_before) = match &job.state {
        JobState::Queued { not_before, .. } => (None, None, not_before.map(Timestamp::millis)),
        JobState::Waiting {
            attempt, question, ..
        } => (Some(*attempt), Some(question.as_str()), None),
        JobState::Failed {
            attempt, reason, ..
        } => (Some(*attempt), Some(reason.as_str()), None),
        JobState::Killed { reason, .. } => (None, Some(reason.as_str()), None),
        other => (other.attempt(), None, None),
    };
    tx.execute(
        "UPDATE jobs SET state = ?2, state_since = ?3, attempt = ?4, state_reason = ?5, not_before = ?6, \
         attempts = ?7, reason = ?8, updated_at = ?9 WHERE id = ?1",
        params![
            job.id,
            job.state.name().as_str(),
            job.state.since().millis(),
            attempt,
            state_reason,
            not_before,
            job.attempts,
            job.reason,
            now.millis()
        ],
    )?;
    Ok(())
}
