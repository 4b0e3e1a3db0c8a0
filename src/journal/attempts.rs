//! Attempts (one agent run of a job) and review items: the rows the engine
//! writes as agents start and finish.

use rusqlite::{OptionalExtension, params};

use super::jobs::insert_event;
use super::{Journal, Result};
use crate::model::{RemoteDelivery, ReviewState, Timestamp};
use crate::workspace::DiffStat;

/// One agent run of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub job: i64,
    pub number: u32,
    pub session: String,
    pub worktree: Option<String>,
    pub branch: Option<String>,
    pub base_commit: Option<String>,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub exit_code: Option<i32>,
    pub restarts: u32,
}

const ATTEMPT_COLUMNS: &str = "SELECT job_id, number, session, worktree, branch, base_commit, \
     started_at, ended_at, exit_code, restarts FROM attempts";

fn attempt_from_row(r: &rusqlite::Row) -> rusqlite::Result<Attempt> {
    Ok(Attempt {
        job: r.get(0)?,
        number: r.get(1)?,
        session: r.get(2)?,
        worktree: r.get(3)?,
        branch: r.get(4)?,
        base_commit: r.get(5)?,
        started_at: Timestamp::from_millis(r.get(6)?),
        ended_at: r.get::<_, Option<i64>>(7)?.map(Timestamp::from_millis),
        exit_code: r.get(8)?,
        restarts: r.get(9)?,
    })
}

impl Journal {
    /// Journals an attempt's start, before its session exists: the session
    /// name is derived from it, so a crash never starts it twice.
    pub fn begin_attempt(&mut self, attempt: &Attempt) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO attempts (job_id, number, session, worktree, branch, base_commit, started_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (job_id, number) DO NOTHING",
                params![
                    attempt.job,
                    attempt.number,
                    attempt.session,
                    attempt.worktree,
                    attempt.branch,
                    attempt.base_commit,
                    attempt.started_at.millis()
                ],
            )?;
            Ok(())
        })
    }

    /// The attempt `number` of `job`.
    pub fn attempt(&self, job: i64, number: u32) -> Result<Option<Attempt>> {
        Ok(self
            .conn()
            .query_row(
                &format!("{ATTEMPT_COLUMNS} WHERE job_id = ?1 AND number = ?2"),
                params![job, number],
                attempt_from_row,
            )
            .optional()?)
    }

    /// Which of `attempts` (job, number) the journal has, in one
    /// statement (the engine tells its sessions from orphans each pass).
    pub fn known_attempts(
        &self,
        attempts: &[(i64, u32)],
    ) -> Result<std::collections::HashSet<(i64, u32)>> {
        if attempts.is_empty() {
            return Ok(Default::default());
        }
        let mut stmt = self.conn().prepare_cached(
            "SELECT a.job_id, a.number FROM json_each(?1) AS w \
             JOIN attempts a ON a.job_id = json_extract(w.value, '$[0]') \
             AND a.number = json_extract(w.value, '$[1]')",
        )?;
        let wanted = serde_json::to_string(attempts)
            .map_err(|e| super::JournalError::Corrupt(e.to_string()))?;
        let rows = stmt.query_map([wanted], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every attempt of `job`, first first.
    pub fn attempts(&self, job: i64) -> Result<Vec<Attempt>> {
        let mut stmt = self.conn().prepare_cached(&format!(
            "{ATTEMPT_COLUMNS} WHERE job_id = ?1 ORDER BY number"
        ))?;
        let rows = stmt.query_map([job], attempt_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records an attempt's end.
    pub fn end_attempt(
        &mut self,
        job: i64,
        number: u32,
        exit_code: Option<i32>,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|tx| end_attempt_in(tx, job, number, exit_code, now))
    }

    /// Counts a restart of an attempt's agent; returns the new count.
    pub fn count_restart(
        &mut self,
        job: i64,
        number: u32,
        why: &str,
        now: Timestamp,
    ) -> Result<u32> {
        self.write(|tx| {
            tx.execute(
                "UPDATE attempts SET restarts = restarts + 1 WHERE job_id = ?1 AND number = ?2",
                params![job, number],
            )?;
            insert_event(tx, now, Some(job), "restart", why)?;
            Ok(tx.query_row(
                "SELECT restarts FROM attempts WHERE job_id = ?1 AND number = ?2",
                params![job, number],
                |r| r.get(0),
            )?)
        })
    }

    /// Puts a finished attempt's branch in the review queue, ready, with
    /// its diff stat and `head`, the commit its work ends at (what an
    /// approve of this item names): one write, so that every refresh of
    /// the item (late work too) names the commit its stat describes.
    #[allow(clippy::too_many_arguments)]
    pub fn add_review_item(
        &mut self,
        job: i64,
        attempt: u32,
        project: &str,
        branch: &str,
        stat: DiffStat,
        head: Option<&str>,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|tx| add_review_item_in(tx, job, attempt, project, branch, stat, head, now))
    }

    /// A finished turn, in one transaction: the job `done` with `why`, the
    /// attempt ended (exit 0), and its branch in the review queue as
    /// `committing`. The job shows done as soon as the turn's end is known,
    /// not after git has committed the work: the engine commits it next
    /// ([`Journal::add_review_item`] makes the item ready with its diff
    /// stat, or it goes `uncommitted` with the reason). A crash never
    /// leaves a review item on a running job or a done job without one; an
    /// item left `committing` by a crash is committed by the next engine.
    /// `false`, with nothing written, when the job is no longer at work on
    /// that attempt (its agent's done report finished it meanwhile).
    pub fn finish_attempt(
        &mut self,
        job: i64,
        attempt: u32,
        project: &str,
        branch: &str,
        why: &str,
        now: Timestamp,
    ) -> Result<bool> {
        self.write(|tx| super::turn_end::finish_in(tx, job, attempt, project, branch, why, now))
    }

    /// The jobs whose review item is still `committing` (a finish that an
    /// engine's end cut short): read once when an engine starts.
    pub fn committing_review_items(&self) -> Result<Vec<i64>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT job_id FROM review_items WHERE state = 'committing' ORDER BY job_id",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Sets a review item's state (`merged`, `conflict`, `rejected`) with
    /// an event that says why.
    pub fn set_review_state(
        &mut self,
        job: i64,
        state: ReviewState,
        why: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE review_items SET state = ?2, updated_at = ?3 WHERE job_id = ?1",
                params![job, state.as_str(), now.millis()],
            )?;
            insert_event(tx, now, Some(job), "review", why)?;
            Ok(())
        })
    }

    /// Records where a review item's work went on the remote and sets
    /// the item's state, with an event that says why.
    pub fn set_delivery(
        &mut self,
        job: i64,
        delivery: &RemoteDelivery,
        review: ReviewState,
        why: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE review_items SET state = ?2, delivery_kind = ?3, delivery_remote = ?4, \
                 delivery_url = ?5, delivery_state = ?6, delivery_checked_at = ?7, updated_at = ?8 \
                 WHERE job_id = ?1",
                params![
                    job,
                    review.as_str(),
                    delivery.kind.as_str(),
                    delivery.remote,
                    delivery.url,
                    delivery.state.as_str(),
                    delivery.checked_at.map(Timestamp::millis),
                    now.millis()
                ],
            )?;
            insert_event(tx, now, Some(job), "review", why)?;
            Ok(())
        })
    }

    /// Notes that a delivery was looked at and is unchanged (no event).
    pub fn delivery_checked(&mut self, job: i64, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE review_items SET delivery_checked_at = ?2 WHERE job_id = ?1",
                params![job, now.millis()],
            )?;
            Ok(())
        })
    }

    /// Marks an operator command carried out (or not), with the result as
    /// an event the operator can read.
    pub fn complete_command(
        &mut self,
        id: i64,
        job: Option<i64>,
        ok: bool,
        result: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE commands SET state = ?2, result = ?3, done_at = ?4 WHERE id = ?1",
                params![id, if ok { "done" } else { "failed" }, result, now.millis()],
            )?;
            insert_event(tx, now, job, "command", result)?;
            Ok(())
        })
    }
}

/// [`Journal::add_review_item`] inside a transaction of the caller's.
#[allow(clippy::too_many_arguments)]
fn add_review_item_in(
    tx: &rusqlite::Transaction,
    job: i64,
    attempt: u32,
    project: &str,
    branch: &str,
    stat: DiffStat,
    head: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    tx.execute(
        "INSERT INTO review_items (job_id, attempt, project, branch, state, files, insertions, deletions, head, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, 'ready', ?5, ?6, ?7, ?8, ?9, ?9) \
         ON CONFLICT (job_id) DO UPDATE SET attempt = excluded.attempt, state = 'ready', files = excluded.files, \
         insertions = excluded.insertions, deletions = excluded.deletions, head = excluded.head, updated_at = excluded.updated_at",
        params![job, attempt, project, branch, stat.files, stat.insertions, stat.deletions, head, now.millis()],
    )?;
    insert_event(
        tx,
        now,
        Some(job),
        "review",
        &format!("{branch} is ready for review: {stat}"),
    )?;
    Ok(())
}

/// [`Journal::end_attempt`] inside a transaction of the caller's.
pub(super) fn end_attempt_in(
    tx: &rusqlite::Transaction,
    job: i64,
    number: u32,
    exit_code: Option<i32>,
    now: Timestamp,
) -> Result<()> {
    tx.execute(
        "UPDATE attempts SET ended_at = ?3, exit_code = ?4 WHERE job_id = ?1 AND number = ?2",
        params![job, number, now.millis(), exit_code],
    )?;
    Ok(())
}
