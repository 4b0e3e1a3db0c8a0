//! An agent's captured pane made ready for the room: its colour escapes
//! read into styled text (ansi-to-tui, the ratatui organisation's parser),
//! blank rows under the last output dropped, and the agent's status read
//! from its screen and its job.

use ansi_to_tui::IntoText;
use ratatui::text::{Line, Text};

use crate::agents::status::{AgentStatus, screen_status};
use crate::config::AgentProfile;
use crate::model::{Job, StateName};

/// The capture `raw` (with SGR escapes, as `capture-pane -e` gives) as
/// styled lines. Text the parser cannot read is shown plain.
pub fn read_capture(raw: &str) -> Text<'static> {
    let trimmed = raw.trim_end_matches(['\n', ' ', '\r']);
    let mut text = trimmed.as_bytes().into_text().unwrap_or_else(|_| {
        Text::from(
            trimmed
                .lines()
                .map(|l| Line::raw(l.to_string()))
                .collect::<Vec<_>>(),
        )
    });
    while text
        .lines
        .last()
        .is_some_and(|l| l.spans.iter().all(|s| s.content.trim().is_empty()))
    {
        text.lines.pop();
    }
    text
}

/// The words of a capture, without styles.
pub fn plain(text: &Text) -> String {
    let mut out = String::new();
    for line in &text.lines {
        for span in &line.spans {
            out.push_str(&span.content);
        }
        out.push('\n');
    }
    out
}

/// What the Live pane says the agent is doing: asking and stalled come
/// from the job (the engine decided them), busy and idle from the screen.
pub fn live_status(
    job: &Job,
    screen: &str,
    profile: Option<&AgentProfile>,
) -> Option<&'static str> {
    match job.state.name() {
        StateName::Waiting => return Some("asking"),
        StateName::Stalled => return Some("stalled"),
        StateName::Starting => return Some("starting"),
        StateName::Running => {}
        _ => return None,
    }
    match profile.and_then(|p| screen_status(screen, p)) {
        Some(AgentStatus::Asking) => Some("asking"),
        Some(AgentStatus::Busy) => Some("busy"),
        Some(AgentStatus::Exited(_)) | Some(AgentStatus::Gone) => Some("ended"),
        Some(AgentStatus::Idle) => Some("idle"),
        _ => Some("busy"),
    }
}
