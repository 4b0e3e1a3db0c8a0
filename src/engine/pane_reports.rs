//! The reports agents on hosts leave in their panes
//! ([`crate::remote::report`]), journaled each once and in the order they
//! were made, by their number in the pane: the journal keeps the newest
//! number taken per attempt (`pane_marks`), so neither an engine restart
//! nor a host clock ahead of ours journals one twice, and a gap in the
//! numbers (more reports between two looks than the pane keeps) is told
//! with how many were lost.

use std::collections::HashSet;

use super::Engine;
use crate::journal::PaneEntry;
use crate::model::Timestamp;
use crate::remote::report;
use crate::runtime::SessionInfo;

/// What the engine took last from one session's pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Taken {
    /// The newest number taken, from the pane with this tmux id.
    Numbered { pane: String, seq: u64 },
    /// The newest report's text (a switchboard on the host that does not
    /// number its reports).
    Text(String),
}

impl Engine {
    /// Journals the reports agents on hosts left in their panes, each once
    /// and in the order they were made; a report this version cannot read
    /// is told in the job's events, once.
    pub(super) fn take_pane_reports(&mut self, sessions: &[SessionInfo]) -> anyhow::Result<()> {
        for session in sessions {
            let Some((job, attempt)) = super::parse_session_name(&session.name) else {
                continue;
            };
            let numbered = session.reports.iter().any(|t| report::entry(t).0.is_some());
            if numbered {
                self.take_numbered(session, job, attempt)?;
            } else {
                self.take_unnumbered(session, job)?;
            }
        }
        // Forget sessions no longer listed (a host out of reach is not
        // listed: its panes are read again when it returns, the journal
        // telling what it already holds).
        let listed: HashSet<&str> = sessions.iter().map(|s| s.name.as_str()).collect();
        self.pane_reports
            .retain(|name, _| listed.contains(name.as_str()));
        Ok(())
    }

    fn take_numbered(
        &mut self,
        session: &SessionInfo,
        job: i64,
        attempt: u32,
    ) -> anyhow::Result<()> {
        // The newest number taken from this very pane (another pane of
        // the attempt, a restarted agent's, counts from 1 again).
        let taken = match self.pane_reports.get(&session.name) {
            Some(Taken::Numbered { pane, seq }) if *pane == session.pane => *seq,
            Some(Taken::Numbered { .. }) => 0,
            _ => self
                .journal
                .pane_mark(job, attempt)?
                .filter(|m| m.pane == session.pane)
                .map_or(0, |m| m.seq),
        };
        let (fresh, lost) = report::fresh(&session.reports, taken);
        let mut newest = taken;
        for (i, (seq, text)) in fresh.into_iter().enumerate() {
            let lost = if i == 0 { lost } else { 0 };
            let now = Timestamp::now();
            let parsed = report::parse(text);
            let other_job;
            let entry = match &parsed {
                Ok(Some(r)) if r.job == job => PaneEntry::Report {
                    status: r.status,
                    progress: r.progress,
                    message: r.message.as_deref(),
                    source: r.source,
                    // A host's clock ahead of ours must not put a report
                    // after what the operator does next.
                    at: Timestamp::from_millis(r.at.min(now.millis())),
                },
                Ok(Some(r)) => {
                    other_job = format!("it is of job {}, not of this session's", r.job);
                    PaneEntry::Refused(&other_job)
                }
                Ok(None) => PaneEntry::Refused("it is empty"),
                Err(e) => {
                    tracing::warn!("session {}: {e}", session.name);
                    PaneEntry::Refused(e)
                }
            };
            self.journal
                .take_pane_entry(job, attempt, &session.pane, seq, lost, &entry, now)?;
            newest = seq;
        }
        self.pane_reports.insert(
            session.name.clone(),
            Taken::Numbered {
                pane: session.pane.clone(),
                seq: newest,
            },
        );
        Ok(())
    }

    /// A pane whose reports carry no number (an older switchboard on the
    /// host): the reports above the newest text taken, as before
    /// numbering; after an engine restart, those the journal does not
    /// hold (same time, source, status and message).
    fn take_unnumbered(&mut self, session: &SessionInfo, job: i64) -> anyhow::Result<()> {
        let seen = match self.pane_reports.get(&session.name) {
            Some(Taken::Text(t)) => Some(t.clone()),
            _ => None,
        };
        let fresh = report::unseen(&session.reports, seen.as_deref());
        let Some(newest) = fresh.last() else {
            return Ok(());
        };
        self.pane_reports
            .insert(session.name.clone(), Taken::Text(newest.to_string()));
        for text in fresh {
            let report = match report::parse(text) {
                Ok(Some(report)) => report,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!("session {}: {e}", session.name);
                    self.journal.record_event(
                        job,
                        "report",
                        &format!("a report from the agent's pane was refused: {e}"),
                        Timestamp::now(),
                    )?;
                    continue;
                }
            };
            if report.job != job {
                continue;
            }
            let at = Timestamp::from_millis(report.at.min(Timestamp::now().millis()));
            if seen.is_none()
                && self.journal.has_report(
                    job,
                    at,
                    report.source,
                    report.status,
                    report.message.as_deref(),
                )?
            {
                continue;
            }
            self.journal.record_report(
                job,
                report.status,
                report.progress,
                report.message.as_deref(),
                report.source,
                at,
            )?;
        }
        Ok(())
    }
}
