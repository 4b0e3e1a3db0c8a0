//! Jobs that wait for each other, in the journal: `job_after` holds, for
//! each job, the jobs it waits for. Checked when a job is journaled (every
//! one exists, no cycle), read by the scheduler's load and by listings.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{Journal, Result};
use crate::model::{ReviewState, StateName};
use crate::scheduler::{AfterState, check_after};

/// The jobs job `id` waits for, with where each stands now.
pub type Waits = Vec<(i64, AfterState)>;

/// Checks the jobs a new job is to wait for (refused with the reason when
/// one does not exist) and returns them once each, in order.
pub(super) fn checked(tx: &Transaction, after: &[i64]) -> Result<Vec<i64>> {
    if after.is_empty() {
        return Ok(Vec::new());
    }
    let mut lookup_failed = None;
    let ids = check_after(None, after, |id| match waits_for(tx, id) {
        Ok(found) => found,
        Err(e) => {
            lookup_failed.get_or_insert(e);
            None
        }
    });
    if let Some(e) = lookup_failed {
        return Err(e);
    }
    Ok(ids?)
}

/// The jobs job `id` waits for; `None` when there is no job `id`.
fn waits_for(conn: &Connection, id: i64) -> Result<Option<Vec<i64>>> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM jobs WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?;
    if exists.is_none() {
        return Ok(None);
    }
    let mut stmt =
        conn.prepare_cached("SELECT after_id FROM job_after WHERE job_id = ?1 ORDER BY after_id")?;
    let ids = stmt.query_map([id], |r| r.get(0))?;
    Ok(Some(ids.collect::<rusqlite::Result<_>>()?))
}

/// Records that job `job` waits for `after` (checked ids).
pub(super) fn insert(tx: &Transaction, job: i64, after: &[i64]) -> Result<()> {
    let mut stmt =
        tx.prepare_cached("INSERT OR IGNORE INTO job_after (job_id, after_id) VALUES (?1, ?2)")?;
    for id in after {
        stmt.execute(params![job, id])?;
    }
    Ok(())
}

/// Per job that waits for others (all of them, or only the queued ones),
/// the jobs it waits for and where each stands now.
pub(super) fn waits_where(conn: &Connection, queued_only: bool) -> Result<HashMap<i64, Waits>> {
    let sql = format!(
        "SELECT a.job_id, a.after_id, d.state, d.reason, r.state FROM job_after a \
         JOIN jobs q ON q.id = a.job_id \
         LEFT JOIN jobs d ON d.id = a.after_id \
         LEFT JOIN review_items r ON r.job_id = a.after_id \
         {} ORDER BY a.job_id, a.after_id",
        if queued_only {
            "WHERE q.state = 'queued'"
        } else {
            ""
        }
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
        ))
    })?;
    let mut waits: HashMap<i64, Waits> = HashMap::new();
    for row in rows {
        let (job, after, state, reason, review) = row?;
        let standing = match state.as_deref().map(str::parse::<StateName>) {
            Some(Ok(name)) => AfterState::of(
                name,
                name == StateName::Failed && reason.is_some(),
                // A review state this version does not know is not merged.
                review
                    .as_deref()
                    .map(|w| ReviewState::parse(w).unwrap_or(ReviewState::Ready)),
            ),
            _ => AfterState::Missing,
        };
        waits.entry(job).or_default().push((after, standing));
    }
    Ok(waits)
}

impl Journal {
    /// Per job that waits for others, the jobs it waits for and where
    /// each stands now (for listings).
    pub fn waits(&self) -> Result<HashMap<i64, Waits>> {
        waits_where(self.conn(), false)
    }

    /// The jobs job `id` waits for and where each stands now.
    pub fn waits_of(&self, id: i64) -> Result<Waits> {
        Ok(waits_where(self.conn(), false)?
            .remove(&id)
            .unwrap_or_default())
    }
}
