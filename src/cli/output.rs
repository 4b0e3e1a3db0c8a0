//! How the CLI shows things to a person: colours (only on a terminal, never
//! with NO_COLOR, through anstream), state symbols, progress bars and ages.

use anstyle::{AnsiColor, Style};

use crate::model::{Job, StateName, Timestamp, short_age};
pub use crate::untrusted::visible;

pub const BOLD: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();
pub const RED: Style = AnsiColor::Red.on_default();
pub const GREEN: Style = AnsiColor::Green.on_default();
pub const YELLOW: Style = AnsiColor::Yellow.on_default();

/// Text in a style; anstream drops the escapes where colour is off.
pub fn paint(style: Style, text: impl std::fmt::Display) -> String {
    format!("{style}{text}{style:#}")
}

/// The colour and symbol of a state.
pub fn state_look(state: StateName) -> (Style, &'static str) {
    match state {
        StateName::Queued => (AnsiColor::Blue.on_default(), "◦"),
        StateName::Starting => (AnsiColor::Cyan.on_default(), "◔"),
        StateName::Running => (GREEN, "▶"),
        StateName::Waiting => (YELLOW.bold(), "?"),
        StateName::Stalled => (AnsiColor::Magenta.on_default(), "…"),
        StateName::Done => (GREEN.bold(), "✓"),
        StateName::Failed => (RED.bold(), "✗"),
        StateName::Killed => (DIM, "■"),
    }
}

/// `▶ running`, coloured, padded to `width` visible characters.
pub fn state_label(state: StateName, width: usize) -> String {
    let (style, symbol) = state_look(state);
    let text = format!("{symbol} {}", state.as_str());
    let pad = width.saturating_sub(text.chars().count());
    format!("{}{}", paint(style, text), " ".repeat(pad))
}

/// `[██████░░░░░░] 50%`.
pub fn progress_bar(percent: u8, width: usize) -> String {
    let percent = percent.min(100);
    let filled = (usize::from(percent.min(100)) * width + 50) / 100;
    format!(
        "[{}{}] {percent}%",
        "█".repeat(filled),
        "░".repeat(width - filled)
    )
}

/// `RUNNING [██████░░░░░░] 50% building`: a job's progress as the agent
/// reported it, or `None` when it reported none.
pub fn progress_line(job: &Job) -> Option<String> {
    let state = job.state.name();
    let (style, _) = state_look(state);
    let head = paint(style, state.as_str().to_uppercase());
    match (job.progress.percent, job.progress.note.as_deref()) {
        (None, None) => None,
        (Some(p), note) => Some(
            format!(
                "{head} {} {}",
                progress_bar(p, 12),
                visible(note.unwrap_or(""))
            )
            .trim_end()
            .to_string(),
        ),
        (None, Some(note)) => Some(format!("{head} {}", visible(note))),
    }
}

/// How long ago, shortly: `5s`, `3m`.
pub fn age(then: Timestamp, now: Timestamp) -> String {
    short_age(now.since(then))
}

/// Cuts `text` (from outside: shown through [`visible`]) to one line of
/// `width` characters with an ellipsis.
pub fn fit(text: &str, width: usize) -> String {
    let one_line = visible(&text.replace(['\n', '\t'], " ")).into_owned();
    if one_line.chars().count() <= width {
        one_line
    } else {
        let mut s: String = one_line.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_in_proportion() {
        assert_eq!(progress_bar(50, 12), "[██████░░░░░░] 50%");
        assert_eq!(progress_bar(0, 4), "[░░░░] 0%");
        assert_eq!(progress_bar(100, 4), "[████] 100%");
    }

    #[test]
    fn long_text_is_cut() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("a\nb", 4), "a b");
        assert_eq!(fit("a\rb\x1b]0;x", 20), "a␍b␛]0;x");
    }
}
