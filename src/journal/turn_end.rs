//! An agent's turn end, journaled. The patrol finishes a job it reads as
//! done; a done report (Claude's `Stop` hook, Codex's `notify`, the demo
//! agent, `switchboard report --done`) finishes it in the very transaction
//! that journals the report, since the patrol takes such a report at once
//! anyway (see `agents::status` and the patrol's `judge`): the job shows
//! `done` as soon as the agent says so, not a pass later. The engine then
//! commits the work (the review item is `committing` until then).

use rusqlite::{OptionalExtension, Transaction, params};

use super::Result;
use super::jobs::{change_state_in, insert_event, read_job};
use super::reports::ReportSource;
use crate::agents::status::{AgentStatus, Signal, status_note};
use crate::model::{JobState, Timestamp};

/// Finishes attempt `attempt` of job `job`: the job `done` with `why`,
/// the attempt ended (exit 0), its branch in review as `committing`.
/// `false`, with nothing written, when the job is no longer at work on
/// that attempt (a report finished it, or it was killed, meanwhile).
pub(super) fn finish_in(
    tx: &Transaction,
    job: i64,
    attempt: u32,
    project: &str,
    branch: &str,
    why: &str,
    now: Timestamp,
) -> Result<bool> {
    let at_work = read_job(tx, job)?.is_some_and(|j| at_work(&j.state) == Some(attempt));
    if !at_work {
        return Ok(false);
    }
    change_state_in(tx, job, now, |s| s.finish(now), why)?;
    super::attempts::end_attempt_in(tx, job, attempt, Some(0), now)?;
    tx.execute(
        "INSERT INTO review_items (job_id, attempt, project, branch, state, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, 'committing', ?5, ?5) \
         ON CONFLICT (job_id) DO UPDATE SET attempt = excluded.attempt, state = 'committing', \
         files = 0, insertions = 0, deletions = 0, updated_at = excluded.updated_at",
        params![job, attempt, project, branch, now.millis()],
    )?;
    insert_event(
        tx,
        now,
        Some(job),
        "review",
        &format!("committing the work on {branch}"),
    )?;
    Ok(true)
}

/// The turn's end a done report says, journaled with it: for a job whose
/// agent is at work (running, waiting, stalled), the status note the
/// patrol would write (for `explain`) and the finish. A job not at work
/// (still starting, or already done: work after done) is left as it is.
pub(super) fn end_turn_on_report(
    tx: &Transaction,
    job: i64,
    source: ReportSource,
    message: Option<&str>,
    now: Timestamp,
) -> Result<bool> {
    let Some(found) = read_job(tx, job)? else {
        return Ok(false);
    };
    let Some(attempt) = at_work(&found.state) else {
        return Ok(false);
    };
    let branch: Option<String> = tx
        .query_row(
            "SELECT branch FROM attempts WHERE job_id = ?1 AND number = ?2",
            params![job, attempt],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    // No attempt journaled with a branch (a journal written by hand): the
    // patrol decides.
    let Some(branch) = branch else {
        return Ok(false);
    };
    let signal = Signal::of_report_source(source.as_str());
    let detail = format!("done: {}", message.unwrap_or(""));
    insert_event(
        tx,
        now,
        Some(job),
        "status",
        &status_note(AgentStatus::Idle, signal, &detail),
    )?;
    let why = format!("the agent ended its turn ({signal}: {detail})");
    let project = found.project.unwrap_or_default();
    finish_in(tx, job, attempt, &project, &branch, &why, now)
}

/// The attempt a job's agent is at work on, if it is.
fn at_work(state: &JobState) -> Option<u32> {
    match state {
        JobState::Running { attempt, .. }
        | JobState::Waiting { attempt, .. }
        | JobState::Stalled { attempt, .. } => Some(*attempt),
        _ => None,
    }
}
