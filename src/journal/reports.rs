//! What agents say about themselves (`switchboard report`): the strongest
//! status signal the monitor has.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::jobs::insert_event;
use super::{Journal, JournalError, Result};
use crate::model::Timestamp;

/// The status an agent reports, if it reports one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportStatus {
    /// The agent finished its work.
    Done,
    /// The agent gave up.
    Failed,
    /// The agent waits for the operator.
    Waiting,
    /// The agent works (a hook saw it take a prompt or use a tool).
    Working,
}

impl ReportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Done => "done",
            ReportStatus::Failed => "failed",
            ReportStatus::Waiting => "waiting",
            ReportStatus::Working => "working",
        }
    }

    pub fn parse(text: &str) -> Option<ReportStatus> {
        match text {
            "done" => Some(ReportStatus::Done),
            "failed" => Some(ReportStatus::Failed),
            "waiting" => Some(ReportStatus::Waiting),
            "working" => Some(ReportStatus::Working),
            _ => None,
        }
    }
}

/// Who made a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportSource {
    /// `switchboard report` with flags, by the agent or a person.
    Cli,
    /// Claude Code's hook JSON on stdin.
    ClaudeHook,
    /// Codex's `notify` JSON.
    CodexNotify,
    /// The demo agent.
    DemoAgent,
}

impl ReportSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportSource::Cli => "cli",
            ReportSource::ClaudeHook => "claude-hook",
            ReportSource::CodexNotify => "codex-notify",
            ReportSource::DemoAgent => "demo-agent",
        }
    }
}

/// One report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub id: i64,
    pub at: Timestamp,
    pub job: i64,
    pub status: Option<ReportStatus>,
    pub progress: Option<u8>,
    pub message: Option<String>,
    /// Who said it: `cli`, `claude-hook`, `codex-notify`, `demo-agent`.
    pub source: String,
}

impl Journal {
    /// Journals a report; the job's progress and note follow it, and an
    /// event says what the agent said. A done report on a job at work
    /// ends its turn in the same transaction (`turn_end`).
    pub fn record_report(
        &mut self,
        job: i64,
        status: Option<ReportStatus>,
        progress: Option<u8>,
        message: Option<&str>,
        source: ReportSource,
        now: Timestamp,
    ) -> Result<i64> {
        self.write(|tx| {
            let id = insert_report(tx, job, status, progress, message, source, now)?;
            if status == Some(ReportStatus::Done) {
                super::turn_end::end_turn_on_report(tx, job, source, message, now)?;
            }
            Ok(id)
        })
    }

    /// The newest report of a job that carries a status, if any.
    pub fn latest_status_report(&self, job: i64) -> Result<Option<Report>> {
        Ok(self.latest_status_reports(&[job])?.remove(&job))
    }

    /// The newest report that carries a status of each of `jobs` that has
    /// one, in one statement (an index search per job): the patrol reads
    /// every active agent's at once.
    pub fn latest_status_reports(
        &self,
        jobs: &[i64],
    ) -> Result<std::collections::HashMap<i64, Report>> {
        if jobs.is_empty() {
            return Ok(Default::default());
        }
        let mut stmt = self.conn().prepare_cached(
            "SELECT r.id, r.at, r.job_id, r.status, r.progress, r.message, r.source \
             FROM json_each(?1) AS j JOIN reports r ON r.id = \
             (SELECT id FROM reports WHERE job_id = j.value AND status IS NOT NULL \
              ORDER BY id DESC LIMIT 1)",
        )?;
        let ids = serde_json::to_string(jobs).map_err(|e| JournalError::Corrupt(e.to_string()))?;
        let rows = stmt.query_map([ids], |r| {
            Ok(Report {
                id: r.get(0)?,
                at: Timestamp::from_millis(r.get(1)?),
                job: r.get(2)?,
                status: r
                    .get::<_, Option<String>>(3)?
                    .as_deref()
                    .and_then(ReportStatus::parse),
                progress: r.get::<_, Option<i64>>(4)?.map(|p| p.clamp(0, 100) as u8),
                message: r.get(5)?,
                source: r.get(6)?,
            })
        })?;
        let mut out = std::collections::HashMap::with_capacity(jobs.len());
        for report in rows {
            let report = report?;
            out.insert(report.job, report);
        }
        Ok(out)
    }
}

/// From the review items waiting for the operator (the partial index
/// `review_items_waiting`; CROSS JOIN keeps them first), never from every
/// done job.
pub(super) const LATE_DONE_REPORTS: &str = "SELECT r.job_id FROM review_items r CROSS JOIN jobs j ON j.id = r.job_id \
     WHERE r.state IN ('ready', 'conflict') AND j.state = 'done' \
     AND EXISTS (SELECT 1 FROM reports p WHERE p.job_id = r.job_id \
                 AND p.status = 'done' AND p.at > r.updated_at) \
     ORDER BY r.job_id";

impl Journal {
    /// Whether job `job` has this very report: from `source`, made at
    /// exactly `at`, saying the same (a report read from a remote agent's
    /// pane is journaled once, also across engine restarts).
    pub fn has_report(
        &self,
        job: i64,
        at: Timestamp,
        source: ReportSource,
        status: Option<ReportStatus>,
        message: Option<&str>,
    ) -> Result<bool> {
        let found: Option<i64> = self
            .conn()
            .query_row(
                "SELECT 1 FROM reports WHERE job_id = ?1 AND at = ?2 AND source = ?3 \
                 AND status IS ?4 AND message IS ?5 LIMIT 1",
                params![
                    job,
                    at.millis(),
                    source.as_str(),
                    status.map(ReportStatus::as_str),
                    message
                ],
                |r| r.get(0),
            )
            .optional()?;
        Ok(found.is_some())
    }

    /// Done jobs whose agent reported done again after their review item
    /// was last refreshed, while the item still waits for the operator:
    /// work after "done" (the operator gave the agent more to do).
    pub fn late_done_reports(&self) -> Result<Vec<i64>> {
        let mut stmt = self.conn().prepare_cached(LATE_DONE_REPORTS)?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Inserts a report and its event, and moves the job's progress and note,
/// inside `tx`.
pub(super) fn insert_report(
    tx: &rusqlite::Transaction,
    job: i64,
    status: Option<ReportStatus>,
    progress: Option<u8>,
    message: Option<&str>,
    source: ReportSource,
    now: Timestamp,
) -> Result<i64> {
    let source = source.as_str();
    let exists: Option<i64> = tx
        .query_row("SELECT id FROM jobs WHERE id = ?1", [job], |r| r.get(0))
        .optional()?;
    exists.ok_or(JournalError::NoJob(job))?;
    tx.execute(
                "INSERT INTO reports (at, job_id, status, progress, message, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![now.millis(), job, status.map(ReportStatus::as_str), progress, message, source],
            )?;
    let id = tx.last_insert_rowid();
    tx.execute(
                "UPDATE jobs SET progress = COALESCE(?2, progress), note = COALESCE(?3, note), updated_at = ?4 WHERE id = ?1",
                params![job, progress, message, now.millis()],
            )?;
    let mut text = format!("agent reports ({source})");
    if let Some(s) = status {
        text.push_str(&format!(": {}", s.as_str()));
    }
    if let Some(p) = progress {
        text.push_str(&format!(" {p}%"));
    }
    if let Some(m) = message {
        text.push_str(&format!(" — {m}"));
    }
    insert_event(tx, now, Some(job), "report", &text)?;
    Ok(id)
}
