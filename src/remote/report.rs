//! Reports from agents on remote hosts.
//!
//! An agent on a host has no journal to write to. Its `switchboard report`
//! (its hooks, the demo agent) sets the report as a user option of its own
//! pane, `@switchboard_report`, on the host's private tmux server (the
//! session's `TMUX` and `TMUX_PANE` say which); the engine's patrol reads
//! it in the `list-panes` it already makes each pass, so a report costs no
//! extra round trip and needs no connection back to the engine. The
//! engine journals a report it has not seen (by the report's time) once.
//!
//! The pane keeps the latest report only: progress a patrol pass did not
//! see in time is superseded by the next, which is what the room shows
//! anyway; a status (done, failed, waiting) is the agent's last word until
//! it says another.

use serde::{Deserialize, Serialize};

use crate::journal::ReportStatus;

/// The pane option the report is kept in.
pub const OPTION: &str = "@switchboard_report";

/// Set to [`PANE`] in the environment of agents on remote hosts.
pub const MODE_VAR: &str = "SWITCHBOARD_REPORT";
pub const PANE: &str = "pane";

/// Longest message kept (a pane option is not a log).
const MAX_MESSAGE: usize = 2000;

/// One report, as it travels in the pane option.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaneReport {
    /// When the agent reported (its host's clock), milliseconds.
    pub at: i64,
    pub job: i64,
    pub status: Option<String>,
    pub progress: Option<u8>,
    pub message: Option<String>,
    pub source: String,
}

impl PaneReport {
    pub fn status(&self) -> Option<ReportStatus> {
        self.status.as_deref().and_then(ReportStatus::parse)
    }
}

/// Whether this process reports through its pane (it runs on a host).
pub fn through_pane() -> bool {
    std::env::var(MODE_VAR).is_ok_and(|v| v == PANE)
}

/// Sets `report` on this process's pane.
pub fn send(
    job: i64,
    status: Option<ReportStatus>,
    progress: Option<u8>,
    message: Option<&str>,
    source: &str,
) -> Result<(), String> {
    let pane = std::env::var("TMUX_PANE")
        .map_err(|_| "not inside a tmux pane (no TMUX_PANE): cannot report".to_string())?;
    let report = PaneReport {
        at: crate::model::Timestamp::now().millis(),
        job,
        status: status.map(|s| s.as_str().to_string()),
        progress,
        message: message.map(|m| m.chars().take(MAX_MESSAGE).collect()),
        source: source.to_string(),
    };
    let json = serde_json::to_string(&report).map_err(|e| e.to_string())?;
    // The session's own server (TMUX): argv only, the JSON one argument.
    let out = std::process::Command::new("tmux")
        .args(["set-option", "-p", "-t", &pane, OPTION, &json])
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run tmux: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "tmux set-option: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The report in a pane option's text, if it holds one.
pub fn parse(text: &str) -> Option<PaneReport> {
    if text.is_empty() {
        return None;
    }
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_survives_the_option_round_trip() {
        let r = PaneReport {
            at: 5,
            job: 7,
            status: Some("done".into()),
            progress: Some(100),
            message: Some("tab\there \"q\" $(x) #{pane_id} #(id)".into()),
            source: "demo-agent".into(),
        };
        let text = serde_json::to_string(&r).expect("json");
        assert!(!text.contains('\t') && !text.contains('\n'), "{text}");
        assert_eq!(parse(&text), Some(r.clone()));
        assert_eq!(r.status(), Some(ReportStatus::Done));
        assert_eq!(parse(""), None);
        assert_eq!(parse("garbage"), None);
    }
}
