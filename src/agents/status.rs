//! An agent's status, from every signal, strongest first: an explicit
//! report (`switchboard report`), the process's exit, the profile's screen
//! patterns, and content-hash quiet. Pure: the monitor gathers the signals.

use std::time::Duration;

use serde::Serialize;

use crate::config::AgentProfile;
use crate::journal::ReportStatus;
use crate::runtime::SessionInfo;

/// What an agent is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "status", content = "code")]
pub enum AgentStatus {
    /// Started, nothing to go by yet.
    Starting,
    /// Working.
    Busy,
    /// Waiting for its next task (its turn ended).
    Idle,
    /// Needs the operator: a question, a permission.
    Asking,
    /// The process ended, with its exit status when known.
    Exited(Option<i32>),
    /// The session is missing.
    Gone,
}

/// Everything the status is read from.
#[derive(Debug, Clone, Copy)]
pub struct Signals<'a> {
    /// The agent's latest report that is still current (made since it was
    /// last given input).
    pub report: Option<ReportStatus>,
    pub session: Option<&'a SessionInfo>,
    /// The visible screen.
    pub screen: &'a str,
    /// How long the screen has not changed.
    pub quiet_for: Duration,
    /// Whether the screen ever changed since the agent started.
    pub has_output: bool,
}

/// The status, and which signal said so.
pub fn agent_status(
    signals: &Signals,
    profile: &AgentProfile,
    idle_after: Duration,
) -> (AgentStatus, &'static str) {
    let Some(session) = signals.session else {
        return (AgentStatus::Gone, "no session");
    };
    if session.dead {
        return (AgentStatus::Exited(session.exit_status), "process exit");
    }
    match signals.report {
        Some(ReportStatus::Waiting) => return (AgentStatus::Asking, "report"),
        Some(ReportStatus::Done) | Some(ReportStatus::Failed) => {
            return (AgentStatus::Idle, "report");
        }
        None => {}
    }
    if let Some(status) = screen_status(signals.screen, profile) {
        return (status, "screen");
    }
    if !signals.has_output {
        (AgentStatus::Starting, "no output yet")
    } else if signals.quiet_for >= idle_after {
        (AgentStatus::Idle, "quiet")
    } else {
        (AgentStatus::Busy, "output")
    }
}

/// What the profile's patterns say of a screen, in the order ask, busy,
/// ready.
pub fn screen_status(screen: &str, profile: &AgentProfile) -> Option<AgentStatus> {
    let matches =
        |p: &Option<crate::config::Pattern>| p.as_ref().is_some_and(|p| p.is_match(screen));
    if matches(&profile.ask) {
        Some(AgentStatus::Asking)
    } else if matches(&profile.busy) {
        Some(AgentStatus::Busy)
    } else if matches(&profile.ready) {
        Some(AgentStatus::Idle)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn screen(name: &str) -> String {
        let path = format!(
            "{}/tests/fixtures/screens/{name}.txt",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn every_profile_reads_its_recorded_screens() {
        let config = Config::builtin().unwrap();
        let cases = [
            ("claude", "claude_busy", AgentStatus::Busy),
            ("claude", "claude_busy_custom_statusline", AgentStatus::Busy),
            ("claude", "claude_ready", AgentStatus::Idle),
            ("claude", "claude_ask", AgentStatus::Asking),
            ("codex", "codex_busy", AgentStatus::Busy),
            ("codex", "codex_ready", AgentStatus::Idle),
            ("codex", "codex_ask", AgentStatus::Asking),
            ("aider", "aider_busy", AgentStatus::Busy),
            ("aider", "aider_ready", AgentStatus::Idle),
            ("aider", "aider_ask", AgentStatus::Asking),
            ("demo", "demo_busy", AgentStatus::Busy),
            ("demo", "demo_ready", AgentStatus::Idle),
            ("demo", "demo_ask", AgentStatus::Asking),
            ("shell", "shell_ready", AgentStatus::Idle),
        ];
        for (profile, name, expected) in cases {
            let got = screen_status(&screen(name), &config.agents[profile]);
            assert_eq!(got, Some(expected), "{profile} on {name}");
        }
    }

    #[test]
    fn an_answered_question_in_the_scrollback_is_not_asking() {
        let config = Config::builtin().unwrap();
        let answered = format!(
            "{}y\n⠿ working: step 1/5: reading the code\n",
            screen("demo_ask")
        );
        assert_eq!(
            screen_status(&answered, &config.agents["demo"]),
            Some(AgentStatus::Busy)
        );
        let aider = format!("{}Yes\nApplied edit to src/a.ts\n> \n", screen("aider_ask"));
        assert_eq!(
            screen_status(&aider, &config.agents["aider"]),
            Some(AgentStatus::Idle)
        );
    }

    fn session(dead: bool, status: Option<i32>) -> SessionInfo {
        SessionInfo {
            name: "sb-1-1".into(),
            pane: "%0".into(),
            pid: Some(1),
            dead,
            exit_status: status,
            signal: None,
        }
    }

    #[test]
    fn the_strongest_signal_wins() {
        let config = Config::builtin().unwrap();
        let demo = &config.agents["demo"];
        let busy = screen("demo_busy");
        let live = session(false, None);
        let base = Signals {
            report: None,
            session: Some(&live),
            screen: &busy,
            quiet_for: Duration::ZERO,
            has_output: true,
        };
        let idle = Duration::from_secs(30);
        assert_eq!(
            agent_status(&base, demo, idle),
            (AgentStatus::Busy, "screen")
        );
        let reported = Signals {
            report: Some(ReportStatus::Waiting),
            ..base
        };
        assert_eq!(agent_status(&reported, demo, idle).0, AgentStatus::Asking);
        let dead = session(true, Some(3));
        let exited = Signals {
            session: Some(&dead),
            report: Some(ReportStatus::Done),
            ..base
        };
        assert_eq!(
            agent_status(&exited, demo, idle),
            (AgentStatus::Exited(Some(3)), "process exit")
        );
        let gone = Signals {
            session: None,
            ..base
        };
        assert_eq!(agent_status(&gone, demo, idle).0, AgentStatus::Gone);
    }

    #[test]
    fn without_patterns_quiet_decides() {
        let config = Config::builtin().unwrap();
        let plain = AgentProfile {
            ready: None,
            busy: None,
            ask: None,
            ..config.agents["demo"].clone()
        };
        let live = session(false, None);
        let s = Signals {
            report: None,
            session: Some(&live),
            screen: "some output",
            quiet_for: Duration::from_secs(5),
            has_output: true,
        };
        let idle = Duration::from_secs(30);
        assert_eq!(agent_status(&s, &plain, idle).0, AgentStatus::Busy);
        let quiet = Signals {
            quiet_for: Duration::from_secs(31),
            ..s
        };
        assert_eq!(
            agent_status(&quiet, &plain, idle),
            (AgentStatus::Idle, "quiet")
        );
        let fresh = Signals {
            has_output: false,
            ..s
        };
        assert_eq!(agent_status(&fresh, &plain, idle).0, AgentStatus::Starting);
    }
}
