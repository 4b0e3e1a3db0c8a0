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
    let trimmed = raw.trim_end_matches(['\n', '\r']);
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
        Some(AgentStatus::Errored) => Some("error"),
        _ => Some("busy"),
    }
}

#[cfg(test)]
mod tests {
    use ratatui::style::Color;

    use super::*;
    use crate::config::Config;
    use crate::model::{JobKind, JobState, Progress, Timestamp};

    fn job(state: JobState) -> Job {
        Job {
            id: 1,
            kind: JobKind::Task,
            state,
            project: None,
            title: String::new(),
            prompt: String::new(),
            agent: None,
            priority: 0,
            attempts: 1,
            created_at: Timestamp::from_millis(0),
            progress: Progress::default(),
            reason: None,
            after: Vec::new(),
        }
    }

    #[test]
    fn a_capture_keeps_its_colours_and_loses_the_blank_rows_under_it() {
        let text = read_capture("\x1b[33m⠿ working:\x1b[39m step 1\n\x1b[1mdemo>\x1b[0m \n\n   \n");
        assert_eq!(text.lines.len(), 2);
        assert_eq!(text.lines[0].spans[0].content, "⠿ working:");
        assert_eq!(text.lines[0].spans[0].style.fg, Some(Color::Yellow));
        assert_eq!(plain(&text), "⠿ working: step 1\ndemo> \n");
        assert!(read_capture("\n\n").lines.is_empty());
    }

    #[test]
    fn the_status_comes_from_the_job_then_the_screen() {
        let config = Config::builtin().unwrap();
        let demo = config.agents.get("demo");
        let now = Timestamp::from_millis(0);
        let running = job(JobState::Running {
            attempt: 1,
            since: now,
        });
        assert_eq!(
            live_status(&running, "⠿ working: step 1/5\n", demo),
            Some("busy")
        );
        assert_eq!(live_status(&running, "✓ done\ndemo> ", demo), Some("idle"));
        assert_eq!(
            live_status(&running, "Proceed? [y/n] ", demo),
            Some("asking")
        );
        let waiting = job(JobState::Waiting {
            attempt: 1,
            since: now,
            question: "?".into(),
        });
        assert_eq!(live_status(&waiting, "", demo), Some("asking"));
        let stalled = job(JobState::Stalled {
            attempt: 1,
            since: now,
        });
        assert_eq!(live_status(&stalled, "", demo), Some("stalled"));
        let done = job(JobState::Done {
            attempt: 1,
            at: now,
        });
        assert_eq!(live_status(&done, "demo> ", demo), None, "no agent at work");
    }
}
