//! An agent's status, from every signal, strongest first: the agent's
//! hooks (and `switchboard report`), the process's exit, the pane title,
//! the profile's screen rules (on the last lines of the screen only) and
//! content-hash quiet. Pure: the monitor gathers the signals.
//!
//! Each reading keeps the [`Signal`] that decided it and what matched, for
//! `switchboard explain`.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::config::{AgentProfile, Pattern};
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
    /// Its turn ended on an error (the model API failed after the agent's
    /// own retries), and it is back at its prompt.
    Errored,
    /// The process ended, with its exit status when known.
    Exited(Option<i32>),
    /// The session is missing.
    Gone,
}

impl fmt::Display for AgentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentStatus::Starting => f.write_str("starting"),
            AgentStatus::Busy => f.write_str("busy"),
            AgentStatus::Idle => f.write_str("idle"),
            AgentStatus::Asking => f.write_str("asking"),
            AgentStatus::Errored => f.write_str("errored"),
            AgentStatus::Exited(Some(c)) => write!(f, "exited {c}"),
            AgentStatus::Exited(None) => f.write_str("exited"),
            AgentStatus::Gone => f.write_str("gone"),
        }
    }
}

/// Where a status came from, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Signal {
    /// The agent's own hooks (Claude Code's hooks, Codex's notify).
    Hook,
    /// `switchboard report` run by the agent or a script.
    Report,
    /// The process ended, or its session is gone.
    Exit,
    /// The pane title the agent sets (`#{pane_title}`).
    Title,
    /// The profile's screen rules on the last lines of the screen.
    Screen,
    /// How long the screen has (not) changed.
    Quiet,
}

impl Signal {
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Hook => "hook",
            Signal::Report => "report",
            Signal::Exit => "exit",
            Signal::Title => "title",
            Signal::Screen => "screen",
            Signal::Quiet => "quiet",
        }
    }

    pub fn parse(word: &str) -> Option<Signal> {
        Some(match word {
            "hook" => Signal::Hook,
            "report" => Signal::Report,
            "exit" => Signal::Exit,
            "title" => Signal::Title,
            "screen" => Signal::Screen,
            "quiet" => Signal::Quiet,
            _ => return None,
        })
    }

    /// The signal of a report from `source` (`cli` is a person or a
    /// script; anything else the agent's hooks).
    pub fn of_report_source(source: &str) -> Signal {
        if source == "cli" {
            Signal::Report
        } else {
            Signal::Hook
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status, the signal that decided it, and what matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub status: AgentStatus,
    pub signal: Signal,
    /// What was seen: the pattern and the screen line, the hook and its
    /// message, the title.
    pub detail: String,
    /// What the agent itself said or drew, without the signal's words:
    /// the report's message, the screen's or the title's line (the
    /// detail where there is no such thing).
    pub said: String,
}

impl Reading {
    fn new(status: AgentStatus, signal: Signal, detail: impl Into<String>) -> Reading {
        let detail = detail.into();
        Reading {
            status,
            signal,
            said: detail.clone(),
            detail,
        }
    }

    fn saying(mut self, said: &str) -> Reading {
        self.said = said.to_string();
        self
    }

    /// What an asking agent asks, as the operator reads it in the queue
    /// and in `jobs`: its own words, not the pattern or the report's
    /// status that recognised the question.
    pub fn question(&self) -> &str {
        &self.said
    }

    /// Whether this reading shows that the agent took up its task: it
    /// works by a signal that only work gives (not a screen that merely
    /// changed, as a start-up animation does), it asks the operator about
    /// it (Aider shows no sign of work while a fast model streams, but
    /// asks before it runs a command), or a hook says a turn ended.
    pub fn takes_up_task(&self) -> bool {
        match (self.status, self.signal) {
            (AgentStatus::Busy, Signal::Quiet) => false,
            (AgentStatus::Busy, _) => true,
            (AgentStatus::Asking, Signal::Quiet) => false,
            (AgentStatus::Asking, _) => true,
            (AgentStatus::Idle | AgentStatus::Errored, Signal::Hook | Signal::Report) => true,
            _ => false,
        }
    }
}

/// The agent's latest report that is still current (made since it was
/// last given input).
#[derive(Debug, Clone, Copy)]
pub struct CurrentReport<'a> {
    pub status: ReportStatus,
    pub signal: Signal,
    /// What the hook or report said.
    pub what: &'a str,
}

/// Everything the status is read from.
#[derive(Debug, Clone, Copy)]
pub struct Signals<'a> {
    pub report: Option<CurrentReport<'a>>,
    /// The session, with its pane title.
    pub session: Option<&'a SessionInfo>,
    /// The visible screen.
    pub screen: &'a str,
    /// How long the screen has not changed.
    pub quiet_for: Duration,
    /// Whether the screen ever changed since the agent started.
    pub has_output: bool,
    /// What the screen rules found on `screen`, when the caller kept it
    /// from a pass that saw the same screen; read from `screen` if `None`.
    pub rules: Option<&'a ScreenRules>,
}

/// What the profile's screen rules find on one screen (its last lines):
/// worked out once for each new screen and kept while it does not change,
/// so an unchanged pane is not read again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScreenRules {
    pub ask: Option<Reading>,
    pub error: Option<Reading>,
    pub busy: Option<Reading>,
    pub ready: Option<Reading>,
}

/// Reads `screen` with the profile's screen rules.
pub fn read_screen(screen: &str, profile: &AgentProfile) -> ScreenRules {
    let tail = last_lines(screen, profile.screen_lines);
    let rule = |p: &Option<Pattern>, status| {
        p.as_ref()
            .and_then(|p| matched_line(p, tail))
            .map(|(pat, line)| {
                Reading::new(status, Signal::Screen, format!("/{pat}/ on {line:?}"))
                    .saying(line.trim())
            })
    };
    ScreenRules {
        ask: rule(&profile.ask, AgentStatus::Asking),
        error: rule(&profile.error, AgentStatus::Errored),
        busy: rule(&profile.busy, AgentStatus::Busy),
        ready: rule(&profile.ready, AgentStatus::Idle),
    }
}

/// The status, which signal said so, and what matched.
pub fn read_status(signals: &Signals, profile: &AgentProfile, idle_after: Duration) -> Reading {
    let Some(session) = signals.session else {
        return Reading::new(AgentStatus::Gone, Signal::Exit, "no session");
    };
    if session.dead {
        let how = match (session.exit_status, session.signal) {
            (_, Some(sig)) => format!("the process was killed by signal {sig}"),
            (Some(code), None) => format!("the process exited {code}"),
            (None, None) => "the process ended".to_string(),
        };
        return Reading::new(AgentStatus::Exited(session.exit_status), Signal::Exit, how);
    }
    let title = session.title.as_str();
    let title_busy = profile
        .title_busy
        .as_ref()
        .is_some_and(|p| p.is_match(title));
    let mut working_report = None;
    // A question a hook reported is over once the title shows work again
    // (Claude Code's PermissionRequest hook may land after the question
    // was read from the screen, and stays the latest report until the
    // tool has run).
    let report = signals
        .report
        .filter(|r| !(r.status == ReportStatus::Waiting && title_busy));
    if let Some(r) = report {
        let status = match r.status {
            ReportStatus::Waiting => Some(AgentStatus::Asking),
            ReportStatus::Done => Some(AgentStatus::Idle),
            ReportStatus::Failed => Some(AgentStatus::Errored),
            ReportStatus::Working => None,
        };
        let detail = format!("{}: {}", r.status.as_str(), r.what);
        match status {
            Some(s) => return Reading::new(s, r.signal, detail).saying(r.what),
            None => {
                working_report =
                    Some(Reading::new(AgentStatus::Busy, r.signal, detail).saying(r.what))
            }
        }
    }
    let read;
    let rules = match signals.rules {
        Some(rules) => rules,
        None => {
            read = read_screen(signals.screen, profile);
            &read
        }
    };
    let title_rule = |p: &Option<Pattern>, status| {
        p.as_ref().filter(|p| p.is_match(title)).map(|p| {
            Reading::new(
                status,
                Signal::Title,
                format!("/{}/ on {title:?}", p.as_str()),
            )
            .saying(title.trim())
        })
    };
    // A question wins over a spinner that keeps turning behind it.
    let found = title_rule(&profile.title_ask, AgentStatus::Asking)
        .or_else(|| rules.ask.clone())
        .or_else(|| title_rule(&profile.title_busy, AgentStatus::Busy))
        // An error the turn ended on outweighs the hook that said the
        // turn began (Claude Code runs no Stop hook after an API error).
        .or_else(|| rules.error.clone())
        .or(working_report)
        .or_else(|| rules.busy.clone())
        .or_else(|| rules.ready.clone());
    if let Some(reading) = found {
        return reading;
    }
    let for_secs = signals.quiet_for.as_secs_f64();
    if !signals.has_output {
        Reading::new(AgentStatus::Starting, Signal::Quiet, "no output yet")
    } else if signals.quiet_for >= idle_after {
        let quiet = format!("the screen has not changed for {for_secs:.1} s");
        Reading::new(AgentStatus::Idle, Signal::Quiet, quiet)
    } else {
        let moving = format!("the screen changed {for_secs:.1} s ago");
        Reading::new(AgentStatus::Busy, Signal::Quiet, moving)
    }
}

/// The journal's note of a change of status (an event of kind
/// `status`): "busy by title: /pattern/ on \"⠂ Claude Code\"".
pub fn status_note(status: AgentStatus, signal: Signal, detail: &str) -> String {
    format!("{status} by {signal}: {detail}")
}

/// A [`status_note`] read back: the status's word, the signal, what
/// matched.
pub fn parse_status_note(note: &str) -> Option<(String, Signal, String)> {
    let (head, detail) = note.split_once(": ")?;
    let (status, signal) = head.rsplit_once(" by ")?;
    Some((
        status.to_string(),
        Signal::parse(signal)?,
        detail.to_string(),
    ))
}

/// The screen from its `n`th last line that is not blank to its last
/// line that is not blank: where an agent's live state is drawn (old scrollback above it
/// may hold an answered question or a finished spinner).
pub fn last_lines(screen: &str, n: usize) -> &str {
    // Blank rows under the output go; the spaces that end the last line
    // stay (a prompt pattern may need them).
    let mut lines = Vec::new();
    let mut offset = 0;
    for line in screen.split('\n') {
        lines.push((offset, line));
        offset += line.len() + 1;
    }
    while lines.last().is_some_and(|(_, l)| l.trim().is_empty()) {
        lines.pop();
    }
    let Some(&(last_start, last)) = lines.last() else {
        return "";
    };
    // Blank rows in between do not count: Codex draws its composer at the
    // bottom of the pane, far below its last output.
    let mut first = last_start;
    let mut seen = 0;
    for &(start, line) in lines.iter().rev() {
        if !line.trim().is_empty() {
            seen += 1;
            first = start;
            if seen == n.max(1) {
                break;
            }
        }
    }
    &screen[first..last_start + last.len()]
}

/// The pattern and the line it matched, if it matches `text`.
fn matched_line<'p>(pattern: &'p Pattern, text: &str) -> Option<(&'p str, String)> {
    let m = pattern.regex().ok()?.find(text)?;
    let begin = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
    let end = text[m.end()..]
        .find('\n')
        .map_or(text.len(), |i| m.end() + i);
    Some((pattern.as_str(), text[begin..end].trim().to_string()))
}

/// What the profile's screen rules say of a screen (its last lines), in
/// the order ask, busy, error, ready.
pub fn screen_status(screen: &str, profile: &AgentProfile) -> Option<AgentStatus> {
    let tail = last_lines(screen, profile.screen_lines);
    let matches = |p: &Option<Pattern>| p.as_ref().is_some_and(|p| p.is_match(tail));
    if matches(&profile.ask) {
        Some(AgentStatus::Asking)
    } else if matches(&profile.busy) {
        Some(AgentStatus::Busy)
    } else if matches(&profile.error) {
        Some(AgentStatus::Errored)
    } else if matches(&profile.ready) {
        Some(AgentStatus::Idle)
    } else {
        None
    }
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
