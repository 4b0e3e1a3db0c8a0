//! Reports taken from remote agents' panes, by their number there
//! ([`crate::remote::report`]): the newest number taken per job and
//! attempt is journaled with what it brought, in one transaction, so a
//! report is journaled once whatever happens (an engine restart, a host
//! clock ahead of ours), and a gap in the numbers is told.

use rusqlite::{OptionalExtension, params};

use super::jobs::insert_event;
use super::reports::insert_report;
use super::{Journal, ReportSource, ReportStatus, Result};
use crate::model::Timestamp;

/// The newest report taken from an attempt's pane: which pane (its tmux
/// id: a restarted agent's new pane counts from 1 again) and its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaneMark {
    pub pane: String,
    pub seq: u64,
}

/// What one numbered entry of a pane brought.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaneEntry<'a> {
    /// A report, journaled as the agent's.
    Report {
        status: Option<ReportStatus>,
        progress: Option<u8>,
        message: Option<&'a str>,
        source: ReportSource,
        at: Timestamp,
    },
    /// A report this version cannot read: the job's events say why.
    Refused(&'a str),
}

impl Journal {
    /// The newest report taken from attempt `attempt` of job `job`'s pane.
    pub fn pane_mark(&self, job: i64, attempt: u32) -> Result<Option<PaneMark>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT pane, seq FROM pane_marks WHERE job_id = ?1 AND attempt = ?2")?
            .query_row(params![job, attempt], |r| {
                Ok(PaneMark {
                    pane: r.get(0)?,
                    seq: r.get::<_, i64>(1)?.max(0) as u64,
                })
            })
            .optional()?)
    }

    /// Journals entry `seq` of `pane` (attempt `attempt` of job `job`),
    /// after `lost` entries that were pushed out before they could be read
    /// (said in the job's events), and marks it taken, in one
    /// transaction. An entry at or below the mark of the same pane is
    /// not journaled again (false).
    #[allow(clippy::too_many_arguments)]
    pub fn take_pane_entry(
        &mut self,
        job: i64,
        attempt: u32,
        pane: &str,
        seq: u64,
        lost: u64,
        entry: &PaneEntry,
        now: Timestamp,
    ) -> Result<bool> {
        self.write(|tx| {
            let mark: Option<(String, i64)> = tx
                .prepare_cached("SELECT pane, seq FROM pane_marks WHERE job_id = ?1 AND attempt = ?2")?
                .query_row(params![job, attempt], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if mark.is_some_and(|(p, s)| p == pane && s >= seq as i64) {
                return Ok(false);
            }
            if lost > 0 {
                insert_event(
                    tx,
                    now,
                    Some(job),
                    "report",
                    &format!(
                        "{lost} report(s) from the agent's pane were lost: more than {} came between two looks, the oldest were pushed out",
                        crate::remote::report::HISTORY
                    ),
                )?;
            }
            match entry {
                PaneEntry::Report {
                    status,
                    progress,
                    message,
                    source,
                    at,
                } => {
                    insert_report(tx, job, *status, *progress, *message, *source, *at)?;
                }
                PaneEntry::Refused(why) => {
                    insert_event(
                        tx,
                        now,
                        Some(job),
                        "report",
                        &format!("a report from the agent's pane was refused: {why}"),
                    )?;
                }
            }
            tx.prepare_cached(
                "INSERT INTO pane_marks (job_id, attempt, pane, seq) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (job_id, attempt) DO UPDATE SET pane = ?3, seq = ?4",
            )?
            .execute(params![job, attempt, pane, seq as i64])?;
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::NewJob;

    #[test]
    fn an_entry_is_taken_once_per_pane_and_a_gap_is_told() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("journal.db")).unwrap();
        let t = Timestamp::from_millis;
        let job = j
            .dispatch(&NewJob::task(Some("api".into()), "x".into(), 0), t(0))
            .unwrap();
        assert_eq!(j.pane_mark(job, 1).unwrap(), None);
        let report = |m: &'static str| PaneEntry::Report {
            status: None,
            progress: None,
            message: Some(m),
            source: ReportSource::ClaudeHook,
            // A host clock far ahead: the number decides, not the time.
            at: t(9_000_000),
        };
        assert!(
            j.take_pane_entry(job, 1, "%3", 1, 0, &report("one"), t(1))
                .unwrap()
        );
        assert!(
            !j.take_pane_entry(job, 1, "%3", 1, 0, &report("one"), t(2))
                .unwrap()
        );
        assert!(
            j.take_pane_entry(job, 1, "%3", 4, 2, &PaneEntry::Refused("bad"), t(3))
                .unwrap()
        );
        assert_eq!(
            j.pane_mark(job, 1).unwrap(),
            Some(PaneMark {
                pane: "%3".into(),
                seq: 4
            })
        );
        // A restarted agent's new pane counts from 1 again.
        assert!(
            j.take_pane_entry(job, 1, "%9", 1, 0, &report("two"), t(4))
                .unwrap()
        );
        let events: Vec<String> = j
            .events(job)
            .unwrap()
            .into_iter()
            .map(|e| e.message)
            .collect();
        let text = events.join("\n");
        assert_eq!(text.matches("— one").count(), 1, "{text}");
        assert!(
            text.contains("2 report(s) from the agent's pane were lost"),
            "{text}"
        );
        assert!(text.contains("refused: bad"), "{text}");
        assert!(text.contains("— two"), "{text}");
    }
}
