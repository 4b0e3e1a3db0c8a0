//! The scheduler's side of the journal: loading the [`State`] it decides
//! on, and running the same `pass` as the simulator with every applied
//! decision recorded in its own transaction (see [`super::record`]), so a
//! crash between two decisions loses neither.
//!
//! Two rules keep a pass from ever failing for good:
//! - ids come from SQLite inside the transaction that writes the row. The
//!   state numbers new jobs and chains provisionally; when SQLite gives
//!   another id (another process dispatched meanwhile), the pass stops
//!   recording and starts again from the journal.
//! - a row that cannot be read (a ticket message, an alarm, a job) is a
//!   fault of that row: it is journaled against it, with the reason, and
//!   the pass goes on without it.

use std::collections::HashSet;
use std::time::Duration;

use rusqlite::{OptionalExtension, params};

use super::jobs::{JOB_COLUMNS, job_from_row};
use super::record::{Fault, Recorded, record, write_fault};
use super::{Journal, JournalError, Result};
use crate::config::Config;
use crate::model::{AlarmMessage, AlarmState, HostName, JobState, Message, StateName, Timestamp};
use crate::scheduler::{
    AfterState, Applied, Arrival, Chain, Decision, Holds, HostLimits, Pending, ProjectLimits,
    SchedJob, State, Ticket, WaitKind, pass,
};

/// How many times one `schedule` starts again from the journal after a
/// concurrent writer took an id; each round records at least one decision,
/// and the engine's next pass carries on where this one stopped.
const ROUNDS: usize = 64;

/// Jobs that are not over, as the partial index `jobs_open` has them
/// (word for word: SQLite uses a partial index only for its own WHERE).
pub(super) const OPEN_JOBS: &str =
    "state NOT IN ('done', 'killed') AND NOT (state = 'failed' AND reason IS NOT NULL)";

/// Alarms the scheduler has not admitted (index `alarms_unadmitted`).
pub(super) const UNADMITTED_ALARMS: &str = "SELECT id, received_at, account, name, state, at, reason, region \
     FROM alarms WHERE chain_id IS NULL";

/// Ticket messages not processed (index `messages_unprocessed`).
pub(super) const UNPROCESSED_TICKET_MESSAGES: &str =
    "SELECT id, received_at, body FROM messages WHERE kind = 'ticket' AND processed_at IS NULL";

/// The scheduler's state and the rows that could not be read.
pub(super) struct Loaded {
    pub state: State,
    pub faults: Vec<Fault>,
}

impl Journal {
    /// The scheduler's state as the journal has it now: projects, jobs that
    /// are not over (and failed ones not yet retried), the tickets and
    /// chains the pending intake can touch, and the intake not yet admitted. Rows
    /// that cannot be read are left out (`schedule` journals them).
    pub fn scheduler_state(&self, window: Duration) -> Result<State> {
        Ok(self.load(window, None)?.state)
    }

    /// [`Journal::scheduler_state`] with `config`'s hosts laid over the
    /// journal's: what a start decided outside a pass (a reject's resume)
    /// is checked against.
    pub fn scheduler_state_for(&self, config: &Config) -> Result<State> {
        Ok(self
            .load(config.scheduler.chain_window, Some(config))?
            .state)
    }

    /// Remote hosts with their limits (the journal's with `config`'s laid
    /// over, when given) and whether the SSH side finds them unreachable.
    fn load_hosts(&self, state: &mut State, config: Option<&Config>) -> Result<()> {
        let registered = self.hosts()?;
        let hosts = match config {
            Some(config) => config.hosts_with(registered),
            None => registered,
        };
        let unreachable: HashSet<HostName> = self
            .host_health()?
            .into_iter()
            .filter(|h| h.reachability.is_unreachable())
            .map(|h| h.host)
            .collect();
        for host in hosts {
            let limits = HostLimits {
                max_agents: host.max_agents,
                unreachable: unreachable.contains(&host.name),
            };
            state.hosts.insert(host.name, limits);
        }
        Ok(())
    }

    fn load(&self, window: Duration, config: Option<&Config>) -> Result<Loaded> {
        let mut state = State::new();
        let mut faults = Vec::new();
        for p in self.projects()? {
            state.projects.insert(
                p.name,
                ProjectLimits {
                    max_agents: p.max_agents,
                    host: p.host,
                },
            );
        }
        self.load_hosts(&mut state, config)?;
        let conn = self.conn();
        // What the queued jobs wait for, and where each of those stands.
        let mut waits = super::after::waits_where(conn, true)?;
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE {OPEN_JOBS} ORDER BY id");
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                job_from_row(r)?,
                r.get::<_, Option<String>>(6)?,
            ))
        })?;
        for row in rows {
            let (job, state_reason) = match row? {
                (_, Ok(job), state_reason) => (job, state_reason),
                (id, Err(why), _) => {
                    faults.push(Fault::Job {
                        id,
                        reason: format!("job #{id} cannot be read: {why}"),
                    });
                    continue;
                }
            };
            let active = job.state.name().is_active();
            let unrouted = job
                .project
                .is_none()
                .then(|| job.reason.clone().unwrap_or_else(|| "no project".into()));
            let mut after = Vec::new();
            for (id, standing) in waits.remove(&job.id).unwrap_or_default() {
                if standing != AfterState::Landed {
                    after.push(id);
                    state.settled.insert(id, standing);
                }
            }
            state.put_job(SchedJob {
                after,
                id: job.id,
                kind: job.kind,
                project: job.project,
                title: job.title,
                priority: job.priority,
                attempts: job.attempts,
                created_at: job.created_at,
                started_at: active.then(|| job.state.since()),
                first_started_at: None,
                gave_up: job.state.name() == StateName::Failed && job.reason.is_some(),
                // A queued job's state reason is the kind of wait it was told.
                wait: match job.state {
                    JobState::Queued { .. } => state_reason.as_deref().and_then(WaitKind::parse),
                    _ => None,
                },
                reason: job.reason,
                unrouted,
                state: job.state,
            });
        }
        // Provisional: the ids the pass gives new jobs and chains are
        // checked against SQLite's when they are written.
        state.next_job = conn.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM jobs", [], |r| {
            r.get(0)
        })?;
        state.next_chain =
            conn.query_row("SELECT COALESCE(MAX(id), 0) + 1 FROM chains", [], |r| {
                r.get(0)
            })?;
        let pending = self.pending(&mut faults)?;
        self.load_tickets(&mut state, &pending)?;
        self.load_chains(&mut state, &pending, window)?;
        state.inbox = pending.into();
        Ok(Loaded { state, faults })
    }

    /// Intake not yet admitted, in arrival order: alarms without a chain
    /// decision, ticket messages not processed.
    fn pending(&self, faults: &mut Vec<Fault>) -> Result<Vec<Pending>> {
        let conn = self.conn();
        let mut pending: Vec<(i64, i64, Pending)> = Vec::new();
        let mut alarms = conn.prepare_cached(UNADMITTED_ALARMS)?;
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
            let alarm_state = match AlarmState::parse(&alarm_state) {
                Ok(s) => s,
                Err(why) => {
                    faults.push(Fault::Alarm {
                        id,
                        reason: format!("alarm {id} cannot be read: {why}"),
                    });
                    continue;
                }
            };
            let at = Timestamp::from_millis(at);
            let alarm = AlarmMessage {
                account,
                name,
                state: alarm_state,
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
        let mut messages = conn.prepare_cached(UNPROCESSED_TICKET_MESSAGES)?;
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
                Ok(_) => faults.push(Fault::Message {
                    id,
                    reason: format!("ticket message {id} holds another kind of message"),
                }),
                Err(e) => faults.push(Fault::Message {
                    id,
                    reason: format!("ticket message {id} cannot be read: {e}"),
                }),
            }
        }
        pending.sort_by_key(|(received, kind, p)| (*received, *kind, p.row));
        Ok(pending.into_iter().map(|(_, _, p)| p).collect())
    }

    /// Loads the tickets that the pending ticket messages name (a key
    /// primary key lookup each), not every ticket ever seen.
    fn load_tickets(&self, state: &mut State, pending: &[Pending]) -> Result<()> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT key, job_id, updates FROM tickets WHERE key = ?1 AND job_id IS NOT NULL",
        )?;
        for p in pending {
            let Arrival::Ticket(ticket) = &p.arrival else {
                continue;
            };
            if state.tickets.contains_key(&ticket.key) {
                continue;
            }
            let row = stmt
                .query_row([&ticket.key], |r| {
                    Ok(Ticket {
                        key: r.get(0)?,
                        job: r.get(1)?,
                        updates: r.get(2)?,
                    })
                })
                .optional()?;
            if let Some(known) = row {
                state.tickets.insert(known.key.clone(), known);
            }
        }
        Ok(())
    }

    /// Loads the chains that the pending alarms can join: for each, the
    /// chains of its account that reach its time within the window. A chain
    /// that reaches none of them cannot be touched by this pass (only
    /// loaded chains change), so nothing else is needed, however old or
    /// late the alarms are.
    fn load_chains(&self, state: &mut State, pending: &[Pending], window: Duration) -> Result<()> {
        let w = window.as_millis().min(i64::MAX as u128) as i64;
        let mut stmt = self.conn().prepare_cached(
            "SELECT id, account, alarms, first_at, latest_at, resolved, job_id FROM chains \
             WHERE account = ?1 AND latest_at >= ?2 AND first_at <= ?3",
        )?;
        let mut seen = HashSet::new();
        for p in pending {
            let Arrival::Alarm { alarm, at } = &p.arrival else {
                continue;
            };
            let at = at.millis();
            let rows = stmt.query_map(
                params![alarm.account, at.saturating_sub(w), at.saturating_add(w)],
                |r| {
                    Ok(Chain {
                        id: r.get(0)?,
                        account: r.get(1)?,
                        alarms: r.get(2)?,
                        first_at: Timestamp::from_millis(r.get(3)?),
                        latest_at: Timestamp::from_millis(r.get(4)?),
                        resolved: r.get(5)?,
                        job: r.get(6)?,
                    })
                },
            )?;
            for chain in rows {
                let chain = chain?;
                if seen.insert(chain.id) {
                    state
                        .chains
                        .entry(chain.account.clone())
                        .or_default()
                        .push(chain);
                }
            }
        }
        Ok(())
    }

    /// One scheduler pass on the journal: load the state, admit the
    /// pending intake and decide (the same `pass` the simulator runs), and
    /// record every decision as it is applied. Returns the decisions and
    /// when to look again.
    ///
    /// A row that cannot be read, or whose decision the journal refuses
    /// (a constraint), is journaled against that row and the pass goes on;
    /// when SQLite numbers a new job or chain differently from the state
    /// (a concurrent dispatch), the pass starts again from the journal.
    /// Only a fault of the journal itself (I/O, a busy database past the
    /// timeout) is returned.
    pub fn schedule(
        &mut self,
        config: &Config,
        now: Timestamp,
        draining: bool,
    ) -> Result<(Vec<Decision>, Option<Timestamp>)> {
        let holds = Holds {
            draining,
            paused: false,
        };
        self.schedule_held(config, now, holds)
    }

    /// `schedule` with what the operator holds back (a drain, a pause):
    /// the engine's pass.
    pub fn schedule_held(
        &mut self,
        config: &Config,
        now: Timestamp,
        holds: Holds,
    ) -> Result<(Vec<Decision>, Option<Timestamp>)> {
        let loaded = self.load(config.scheduler.chain_window, Some(config))?;
        self.schedule_from(loaded.state, loaded.faults, config, now, holds)
    }

    /// `schedule` from a state loaded earlier (tests put a concurrent
    /// writer between the load and the pass this way).
    #[doc(hidden)]
    pub fn schedule_loaded(
        &mut self,
        state: State,
        config: &Config,
        now: Timestamp,
        draining: bool,
    ) -> Result<(Vec<Decision>, Option<Timestamp>)> {
        let holds = Holds {
            draining,
            paused: false,
        };
        self.schedule_from(state, Vec::new(), config, now, holds)
    }

    fn schedule_from(
        &mut self,
        mut state: State,
        mut faults: Vec<Fault>,
        config: &Config,
        now: Timestamp,
        holds: Holds,
    ) -> Result<(Vec<Decision>, Option<Timestamp>)> {
        let mut decided = Vec::new();
        for _ in 0..ROUNDS {
            for fault in faults.drain(..) {
                self.write(|tx| write_fault(tx, &fault, now))?;
            }
            state.draining = holds.draining;
            state.paused = holds.paused;
            let mut outcome: Result<Recorded> = Ok(Recorded::AsDecided);
            let wake = pass(&mut state, config, now, |applied| {
                if !matches!(outcome, Ok(Recorded::AsDecided)) {
                    return;
                }
                outcome = self.record_decision(&applied);
                match &outcome {
                    Ok(_) => decided.push(applied.decision.clone()),
                    Err(e) => {
                        if let Some(fault) = Fault::of(&applied, e) {
                            faults.push(fault);
                            outcome = Ok(Recorded::Refused);
                        }
                    }
                }
            })
            .map_err(|e| {
                JournalError::Refused(format!(
                    "the scheduler's state and the journal disagree: {e}"
                ))
            })?;
            match outcome? {
                Recorded::AsDecided => return Ok((decided, wake)),
                Recorded::Renumbered | Recorded::Refused => {
                    let loaded = self.load(config.scheduler.chain_window, Some(config))?;
                    state = loaded.state;
                    faults.extend(loaded.faults);
                }
            }
        }
        // Busy: the engine's next pass goes on from the journal.
        Ok((decided, Some(now)))
    }

    /// Records one applied decision and its effects, with an event that
    /// carries its reason, in one transaction. Says whether SQLite gave a
    /// new job or chain another id than the state's.
    pub fn record_decision(&mut self, applied: &Applied) -> Result<Recorded> {
        self.write(|tx| record(tx, applied))
    }
}
