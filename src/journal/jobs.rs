//! Jobs, their state changes and the events that explain them.

use std::sync::LazyLock;

use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::Serialize;

use super::{Journal, JournalError, Result, crash_point};
use crate::model::{
    Job, JobKind, JobState, Progress, StateName, Timestamp, TransitionError, title_of,
};
use crate::scheduler::{AfterState, after_reason, claimed_reason};

/// Work to be journaled as a new job.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: JobKind,
    pub project: Option<String>,
    pub title: String,
    pub prompt: String,
    pub agent: Option<String>,
    pub priority: i64,
    pub ticket_key: Option<String>,
    /// The jobs it waits for (`dispatch --after`): each must exist.
    pub after: Vec<i64>,
}

impl NewJob {
    /// A task with its title taken from the prompt's first line.
    pub fn task(project: Option<String>, prompt: String, priority: i64) -> NewJob {
        NewJob {
            kind: JobKind::Task,
            project,
            title: title_of(&prompt),
            prompt,
            agent: None,
            priority,
            ticket_key: None,
            after: Vec::new(),
        }
    }
}

/// One journal row saying what happened and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub id: i64,
    pub at: Timestamp,
    pub job: Option<i64>,
    pub kind: String,
    pub message: String,
}

/// Which jobs a listing shows.
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub state: Option<StateName>,
}

/// The jobs in one state (`?1`), oldest first, on the `jobs_by_state`
/// index (the patrol's query, every pass).
pub(super) const JOBS_IN_STATE: &str = "state = ?1 ORDER BY id";

/// The journal's last event, the engine's wake-up mark.
pub(super) const LAST_EVENT: &str = "SELECT COALESCE(MAX(id), 0) FROM events";

/// [`StateName::ACTIVE`] as an SQL list, `('starting', 'running', …)`,
/// for `state IN …`: the journal's queries of jobs with an agent read the
/// same list as [`StateName::is_active`]. The names are the model's own
/// constants, never outside text.
pub(super) fn active_states() -> &'static str {
    static LIST: LazyLock<String> = LazyLock::new(|| {
        let names: Vec<String> = StateName::ACTIVE
            .iter()
            .map(|state| format!("'{}'", state.as_str()))
            .collect();
        format!("({})", names.join(", "))
    });
    &LIST
}

/// The jobs with an agent ([`StateName::is_active`]), counted on the
/// `jobs_by_state` index.
pub(super) fn active_job_count_sql() -> &'static str {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT COUNT(*) FROM jobs WHERE state IN {}",
            active_states()
        )
    });
    &SQL
}

pub(super) const JOB_COLUMNS: &str = "id, kind, state, state_since, not_before, attempt, state_reason, \
     project, title, prompt, agent, priority, attempts, progress, note, reason, created_at";

/// Inserts jobs and their first events inside one transaction, with the
/// statements prepared once (bulk intake inserts thousands).
pub(super) struct JobInserter<'tx> {
    tx: &'tx Transaction<'tx>,
    job: rusqlite::CachedStatement<'tx>,
    event: rusqlite::CachedStatement<'tx>,
}

impl<'tx> JobInserter<'tx> {
    pub(super) fn new(tx: &'tx Transaction) -> Result<Self> {
        Ok(JobInserter {
            tx,
            job: tx.prepare_cached(
                "INSERT INTO jobs (kind, state, state_since, project, title, prompt, agent, priority, \
                 ticket_key, created_at, updated_at) VALUES (?1, 'queued', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?2, ?2)",
            )?,
            event: tx.prepare_cached(EVENT_INSERT)?,
        })
    }

    /// Inserts a job and its first event; the caller commits. A job that
    /// would wait for a job that does not exist is refused
    /// ([`JournalError::Refused`]) before anything is written.
    pub(super) fn insert(&mut self, job: &NewJob, now: Timestamp, why: &str) -> Result<i64> {
        let after = super::after::checked(self.tx, &job.after)?;
        let id = self.job.insert(params![
            job.kind.as_str(),
            now.millis(),
            job.project,
            job.title,
            job.prompt,
            job.agent,
            job.priority,
            job.ticket_key,
        ])?;
        super::after::insert(self.tx, id, &after)?;
        crash_point("between-job-and-event");
        if after.is_empty() {
            self.event
                .execute(params![now.millis(), id, "queued", why])?;
        } else {
            let ids: Vec<String> = after.iter().map(|a| format!("#{a}")).collect();
            let why = format!("{why}; starts after {} merged", ids.join(", "));
            self.event
                .execute(params![now.millis(), id, "queued", why])?;
        }
        Ok(id)
    }
}

const EVENT_INSERT: &str = "INSERT INTO events (at, job_id, kind, message) VALUES (?1, ?2, ?3, ?4)";

pub(super) fn insert_event(
    tx: &Transaction,
    now: Timestamp,
    job: Option<i64>,
    kind: &str,
    message: &str,
) -> Result<()> {
    tx.prepare_cached(EVENT_INSERT)?
        .execute(params![now.millis(), job, kind, message])?;
    Ok(())
}

pub(super) fn job_from_row(row: &Row) -> rusqlite::Result<std::result::Result<Job, String>> {
    let id: i64 = row.get(0)?;
    let kind: String = row.get(1)?;
    let state: String = row.get(2)?;
    let since = Timestamp::from_millis(row.get(3)?);
    let not_before: Option<i64> = row.get(4)?;
    let attempt: Option<u32> = row.get(5)?;
    let state_reason: Option<String> = row.get(6)?;
    let progress: Option<i64> = row.get(13)?;
    let build = || -> std::result::Result<Job, String> {
        let kind: JobKind = kind.parse()?;
        let name: StateName = state.parse()?;
        let attempt_of =
            || attempt.ok_or_else(|| format!("job #{id} is {name} without an attempt"));
        let reason = || state_reason.clone().unwrap_or_default();
        let state = match name {
            StateName::Queued => JobState::Queued {
                since,
                not_before: not_before.map(Timestamp::from_millis),
            },
            StateName::Starting => JobState::Starting {
                attempt: attempt_of()?,
                since,
            },
            StateName::Running => JobState::Running {
                attempt: attempt_of()?,
                since,
            },
            StateName::Waiting => JobState::Waiting {
                attempt: attempt_of()?,
                since,
                question: reason(),
            },
            StateName::Stalled => JobState::Stalled {
                attempt: attempt_of()?,
                since,
            },
            StateName::Done => JobState::Done {
                attempt: attempt_of()?,
                at: since,
            },
            StateName::Failed => JobState::Failed {
                attempt: attempt_of()?,
                at: since,
                reason: reason(),
            },
            StateName::Killed => JobState::Killed {
                at: since,
                reason: reason(),
            },
        };
        Ok(Job {
            id,
            kind,
            state,
            project: row.get(7).map_err(|e| e.to_string())?,
            title: row.get(8).map_err(|e| e.to_string())?,
            prompt: row.get(9).map_err(|e| e.to_string())?,
            agent: row.get(10).map_err(|e| e.to_string())?,
            priority: row.get(11).map_err(|e| e.to_string())?,
            attempts: row.get(12).map_err(|e| e.to_string())?,
            created_at: Timestamp::from_millis(row.get(16).map_err(|e| e.to_string())?),
            progress: Progress {
                percent: progress.map(|p| p.clamp(0, 100) as u8),
                note: row.get(14).map_err(|e| e.to_string())?,
            },
            reason: row.get(15).map_err(|e| e.to_string())?,
            after: Vec::new(),
        })
    };
    Ok(build())
}

/// The columns a state writes: (state, attempt, state_reason, not_before).
fn state_columns(state: &JobState) -> (StateName, Option<u32>, Option<&str>, Option<i64>) {
    let reason = match state {
        JobState::Waiting { question, .. } => Some(question.as_str()),
        JobState::Failed { reason, .. } | JobState::Killed { reason, .. } => Some(reason.as_str()),
        _ => None,
    };
    let not_before = match state {
        JobState::Queued { not_before, .. } => not_before.map(Timestamp::millis),
        _ => None,
    };
    (state.name(), state.attempt(), reason, not_before)
}

pub(super) fn read_job(tx: &rusqlite::Connection, id: i64) -> Result<Option<Job>> {
    let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?1");
    let row = tx
        .prepare_cached(&sql)?
        .query_row([id], |r| {
            Ok((job_from_row(r)?, r.get::<_, Option<String>>(6)?))
        })
        .optional()?;
    let Some((job, wait)) = row else {
        return Ok(None);
    };
    let mut job = job.map_err(JournalError::Corrupt)?;
    Claims::default().show(tx, &mut job, wait.as_deref())?;
    Ok(Some(job))
}

/// The agents of each project now, read once per listing: a queued job
/// that waits for its project's agents shows who holds the claim now. The
/// scheduler tells the kind of a wait once (`claimed`, `project_full`);
/// the holder is computed when shown, so the queue moving writes nothing.
#[derive(Default)]
struct Claims {
    agents: Option<std::collections::HashMap<String, ProjectAgents>>,
    /// What each job waits for (`dispatch --after`), read once.
    waits: Option<std::collections::HashMap<i64, super::after::Waits>>,
}

/// A project's agents now: how many, the lowest job id with one, its max.
type ProjectAgents = (u32, i64, Option<u32>);

impl Claims {
    fn show(
        &mut self,
        conn: &rusqlite::Connection,
        job: &mut Job,
        wait: Option<&str>,
    ) -> Result<()> {
        if self.waits.is_none() {
            self.waits = Some(super::after::waits_where(conn, false)?);
        }
        if let Some(waits) = self.waits.as_ref().and_then(|w| w.get(&job.id)) {
            job.after = waits.iter().map(|(id, _)| *id).collect();
            // Where the jobs it waits for stand now, not when the wait was
            // told (nor before the scheduler told it at all).
            if job.state.name() == StateName::Queued {
                let open: Vec<_> = waits
                    .iter()
                    .filter(|(_, s)| *s != AfterState::Landed)
                    .copied()
                    .collect();
                if !open.is_empty() {
                    job.reason = Some(after_reason(&open));
                }
            }
            return Ok(());
        }
        if job.state.name() != StateName::Queued
            || !matches!(wait, Some("claimed" | "project_full"))
        {
            return Ok(());
        }
        let Some(project) = job.project.as_deref() else {
            return Ok(());
        };
        if self.agents.is_none() {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT j.project, COUNT(*), MIN(j.id), p.max_agents FROM jobs j \
                 LEFT JOIN projects p ON p.name = j.project \
                 WHERE j.state IN {} AND j.project IS NOT NULL \
                 GROUP BY j.project",
                active_states()
            ))?;
            let rows =
                stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))))?;
            self.agents = Some(rows.collect::<rusqlite::Result<_>>()?);
        }
        if let Some(&(count, holder, max)) = self.agents.as_ref().and_then(|a| a.get(project)) {
            job.reason = Some(match (wait, max) {
                (Some("claimed"), _) => claimed_reason(project, Some(holder)),
                (_, Some(max)) => format!("project {project} has {count}/{max} agents"),
                _ => format!("project {project} has {count} agents"),
            });
        }
        Ok(())
    }
}

impl Journal {
    /// Journals a new job with its first event, durably, and returns its id.
    pub fn dispatch(&mut self, job: &NewJob, now: Timestamp) -> Result<i64> {
        let why = match (&job.project, job.kind) {
            (Some(p), JobKind::Task) => format!("task for {p} journaled"),
            (None, JobKind::Task) => "task journaled; no project yet".to_string(),
            (_, kind) => format!("{kind} journaled"),
        };
        self.write(|tx| JobInserter::new(tx)?.insert(job, now, &why))
    }

    /// Adds text to a job's task (a rejection's reason for its next agent).
    pub fn append_to_prompt(&mut self, id: i64, text: &str) -> Result<()> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE jobs SET prompt = prompt || ?2 WHERE id = ?1",
                params![id, text],
            )?;
            if n == 0 {
                return Err(JournalError::NoJob(id));
            }
            Ok(())
        })
    }

    /// One job.
    pub fn job(&self, id: i64) -> Result<Option<Job>> {
        read_job(self.conn(), id)
    }

    /// Calls `each` with every job that passes `filter`, oldest first, without
    /// holding them all in memory.
    pub fn each_job(
        &self,
        filter: &JobFilter,
        mut each: impl FnMut(Job) -> Result<()>,
    ) -> Result<()> {
        let sql = match filter.state {
            Some(_) => format!("SELECT {JOB_COLUMNS} FROM jobs WHERE {JOBS_IN_STATE}"),
            None => format!("SELECT {JOB_COLUMNS} FROM jobs ORDER BY id"),
        };
        let mut stmt = self.conn().prepare(&sql)?;
        let mut rows = match filter.state {
            Some(s) => stmt.query([s.as_str()])?,
            None => stmt.query([])?,
        };
        let mut claims = Claims::default();
        while let Some(row) = rows.next()? {
            let mut job = job_from_row(row)?.map_err(JournalError::Corrupt)?;
            let wait: Option<String> = row.get(6)?;
            claims.show(self.conn(), &mut job, wait.as_deref())?;
            each(job)?;
        }
        Ok(())
    }

    /// The jobs of `ids` that exist, by id, in one statement (the engine
    /// looks up the job of every session on its servers each pass).
    pub fn jobs_by_id(&self, ids: &[i64]) -> Result<std::collections::HashMap<i64, Job>> {
        let mut out = std::collections::HashMap::with_capacity(ids.len());
        if ids.is_empty() {
            return Ok(out);
        }
        let sql =
            format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id IN (SELECT value FROM json_each(?1))");
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let ids = serde_json::to_string(ids).map_err(|e| JournalError::Corrupt(e.to_string()))?;
        let mut rows = stmt.query([ids])?;
        let mut claims = Claims::default();
        while let Some(row) = rows.next()? {
            let mut job = job_from_row(row)?.map_err(JournalError::Corrupt)?;
            let wait: Option<String> = row.get(6)?;
            claims.show(self.conn(), &mut job, wait.as_deref())?;
            out.insert(job.id, job);
        }
        Ok(out)
    }

    /// Every job that passes `filter`, oldest first.
    pub fn jobs(&self, filter: &JobFilter) -> Result<Vec<Job>> {
        let mut out = Vec::new();
        self.each_job(filter, |job| {
            out.push(job);
            Ok(())
        })?;
        Ok(out)
    }

    /// How many jobs have an agent (starting, running, waiting, stalled):
    /// an index search on those states, not a count of the whole history.
    pub fn active_job_count(&self) -> Result<u64> {
        Ok(self
            .conn()
            .prepare_cached(active_job_count_sql())?
            .query_row([], |r| r.get(0))?)
    }

    /// How many jobs are in each state.
    pub fn job_counts(&self) -> Result<Vec<(StateName, u64)>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, n) = row?;
            out.push((name.parse().map_err(JournalError::Corrupt)?, n));
        }
        out.sort();
        Ok(out)
    }

    /// The events of one job, oldest first.
    pub fn events(&self, job: i64) -> Result<Vec<Event>> {
        self.events_where("job_id = ?1", job)
    }

    /// Every event after event `after`, oldest first: for following the
    /// journal as it grows.
    pub fn events_after(&self, after: i64) -> Result<Vec<Event>> {
        self.events_where("id > ?1", after)
    }

    /// The id of the newest event, 0 when there is none.
    pub fn last_event_id(&self) -> Result<i64> {
        Ok(self.conn().query_row(LAST_EVENT, [], |r| r.get(0))?)
    }

    fn events_where(&self, clause: &str, value: i64) -> Result<Vec<Event>> {
        let sql =
            format!("SELECT id, at, job_id, kind, message FROM events WHERE {clause} ORDER BY id");
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map([value], |r| {
            Ok(Event {
                id: r.get(0)?,
                at: Timestamp::from_millis(r.get(1)?),
                job: r.get(2)?,
                kind: r.get(3)?,
                message: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Moves job `id` with `transition` and journals `why` as its event, in
    /// one transaction. An illegal move changes nothing and says why.
    pub fn change_state(
        &mut self,
        id: i64,
        now: Timestamp,
        transition: impl FnOnce(&JobState) -> std::result::Result<JobState, TransitionError>,
        why: &str,
    ) -> Result<Job> {
        self.write(|tx| change_state_in(tx, id, now, transition, why))
    }
}

/// [`Journal::change_state`] inside a transaction of the caller's.
pub(super) fn change_state_in(
    tx: &Transaction,
    id: i64,
    now: Timestamp,
    transition: impl FnOnce(&JobState) -> std::result::Result<JobState, TransitionError>,
    why: &str,
) -> Result<Job> {
    let mut job = read_job(tx, id)?.ok_or(JournalError::NoJob(id))?;
    let next = transition(&job.state)?;
    let (name, attempt, reason, not_before) = state_columns(&next);
    let attempts = match (&job.state, &next) {
        (_, JobState::Starting { attempt, .. }) => (*attempt).max(job.attempts),
        // A start held back (its host out of reach) that journaled
        // no attempt was none: its number is given back, so that
        // it neither counts against max_attempts nor leaves a gap.
        (JobState::Starting { attempt, .. }, JobState::Queued { .. })
            if !attempt_begun(tx, id, *attempt)? =>
        {
            attempt.saturating_sub(1).min(job.attempts)
        }
        _ => job.attempts,
    };
    tx.prepare_cached(
        "UPDATE jobs SET state = ?2, state_since = ?3, attempt = ?4, state_reason = ?5, \
         not_before = ?6, attempts = ?7, updated_at = ?3, \
         progress = CASE WHEN ?8 THEN NULL ELSE progress END, \
         note = CASE WHEN ?8 THEN NULL ELSE note END WHERE id = ?1",
    )?
    .execute(params![
        id,
        name.as_str(),
        next.since().millis(),
        attempt,
        reason,
        not_before,
        attempts,
        starts_afresh(&next)
    ])?;
    crash_point("between-state-and-event");
    insert_event(tx, now, Some(id), name.as_str(), why)?;
    job.state = next;
    job.attempts = attempts;
    Ok(job)
}

/// Whether attempt `number` of job `id` was journaled as begun.
fn attempt_begun(tx: &rusqlite::Transaction, id: i64, number: u32) -> rusqlite::Result<bool> {
    tx.prepare_cached("SELECT 1 FROM attempts WHERE job_id = ?1 AND number = ?2")?
        .exists(params![id, number])
}

/// Whether a job entering `state` leaves its last attempt's progress
/// behind: back in the queue or starting an attempt, the old figure and
/// words (a rejected job's "100%") are no longer its own.
pub(super) fn starts_afresh(state: &JobState) -> bool {
    matches!(state, JobState::Queued { .. } | JobState::Starting { .. })
}
