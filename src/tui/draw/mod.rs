//! Drawing the control room: a pure function of its state. No journal, no
//! tmux, no clock: the time shown is the snapshot's.

mod live;
mod overlay;
mod panes;
mod views;

pub use live::max_scroll as live_max_scroll;

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::action::Action;
use super::app::{App, EngineState, Mode, Pane};
use super::layout::RoomLayout;
use crate::model::{StateName, Timestamp};
use crate::untrusted::visible;

/// Draws the whole room.
pub fn draw(app: &App, frame: &mut Frame) {
    let layout = RoomLayout::of(frame.area());
    match &app.mode {
        Mode::Details(view) => views::details(app, view, frame, layout.main),
        Mode::Diff(view) => views::diff(view, frame, layout.main),
        Mode::Grid => live::grid(app, frame, layout.main),
        _ => {
            panes::queue(app, frame, layout.pane(Pane::Queue));
            live::live(app, frame, layout.pane(Pane::Live));
            panes::chains(app, frame, layout.pane(Pane::Chains));
            panes::review(app, frame, layout.pane(Pane::Review));
        }
    }
    status(app, frame, layout.status);
    footer(app, frame, layout.footer);
    overlay::draw(app, frame, layout.main);
    if app.no_color {
        without_colours(frame.buffer_mut());
    }
}

/// NO_COLOR: every colour goes, bold and reverse stay.
fn without_colours(buffer: &mut Buffer) {
    for cell in buffer.content.iter_mut() {
        cell.set_fg(Color::Reset);
        cell.set_bg(Color::Reset);
    }
}

/// A state's colour and symbol, the same everywhere.
pub fn state_style(state: StateName) -> (Style, &'static str) {
    match state {
        StateName::Queued => (Style::new().fg(Color::Blue), "◦"),
        StateName::Starting => (Style::new().fg(Color::Cyan), "◔"),
        StateName::Running => (Style::new().fg(Color::Green), "▶"),
        StateName::Waiting => (
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            "?",
        ),
        StateName::Stalled => (Style::new().fg(Color::Magenta), "…"),
        StateName::Done => (
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
            "✓",
        ),
        StateName::Failed => (
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            "✗",
        ),
        StateName::Killed => (Style::new().add_modifier(Modifier::DIM), "■"),
    }
}

/// A pane's frame, highlighted when it has focus.
pub fn titled(app: &App, pane: Pane, title: Vec<Span<'static>>) -> Block<'static> {
    let style = if app.focus == pane {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        Style::new()
    };
    Block::new()
        .borders(Borders::ALL)
        .title(Line::from(title).style(style))
        .border_style(style)
}

/// The snapshot's time (drawing never reads the clock).
pub fn now(app: &App) -> Timestamp {
    app.snapshot.now.unwrap_or(Timestamp::from_millis(0))
}

fn status(app: &App, frame: &mut Frame, area: ratatui::layout::Rect) {
    let engine = match (&app.engine_fault, app.engine) {
        (Some(fault), EngineState::Running | EngineState::Viewer | EngineState::Draining) => {
            format!("⚠ engine waits: {fault}")
        }
        (_, EngineState::Running) => "engine running".into(),
        (_, EngineState::Viewer) => "viewer: another process runs this home's engine".into(),
        (_, EngineState::Draining) => format!(
            "draining: nothing new starts ({} resumes)",
            app.keymap.label(Action::Drain)
        ),
        (_, EngineState::Stopped) => "engine stopped".into(),
    };
    let active = app
        .snapshot
        .jobs
        .iter()
        .filter(|j| j.state.name().is_active())
        .count();
    let mut counts = String::new();
    for state in StateName::ALL {
        let n = app
            .snapshot
            .jobs
            .iter()
            .filter(|j| j.state.name() == state)
            .count();
        if n > 0 {
            counts.push_str(&format!(" {state} {n}"));
        }
    }
    let clock = app
        .snapshot
        .now
        .map(|t| t.rfc3339()[11..16].to_string())
        .unwrap_or_default();
    // No empty segment: the counts only when there are jobs.
    let counts = if counts.is_empty() {
        String::new()
    } else {
        format!("{counts} │")
    };
    // Where the engine stands is shown first; a pause beside it (it
    // holds whichever process runs the engine, and outlives it).
    let engine = if app.paused {
        format!(
            "{engine} │ ⏸ paused: nothing new starts ({} resumes)",
            app.keymap.label(Action::Pause)
        )
    } else {
        engine
    };
    let mut text = format!(
        " {engine} │ agents {active}/{} │{counts} {clock}",
        app.snapshot.max_agents
    );
    if let Some(intakes) = &app.intakes {
        text.push_str(&format!(" │ {}", visible(intakes)));
    }
    if let Some(now) = app.snapshot.now {
        for (host, since) in &app.snapshot.unreachable {
            text.push_str(&format!(
                " │ ⚠ host {host} unreachable since {} ({} ago){}",
                panes::clock_of(*since),
                crate::model::short_age(now.since(*since)),
                app.hosts_freshness.suffix()
            ));
        }
    }
    if let Some(place) = &app.config_refused {
        text.push_str(&format!(
            " │ ⚠ {} not read: the room keeps the last good settings",
            visible(place)
        ));
    }
    if !app.filter.is_empty() {
        text.push_str(&format!(" │ filter {:?}", app.filter));
    }
    if let Some(message) = &app.message {
        text.push_str(&format!(" │ {}", visible(message)));
    }
    frame.render_widget(
        Paragraph::new(text).style(Style::new().add_modifier(Modifier::REVERSED)),
        area,
    );
}

fn footer(app: &App, frame: &mut Frame, area: ratatui::layout::Rect) {
    let hints: Vec<(String, &str)> = match &app.mode {
        Mode::Dispatch(_) => vec![
            ("Tab".into(), "next field"),
            ("←→".into(), "choose"),
            ("Enter".into(), "new line"),
            ("C-s".into(), "submit"),
            ("Esc".into(), "cancel"),
        ],
        Mode::Text(..) => vec![
            ("Enter".into(), "new line"),
            ("C-s".into(), "send"),
            ("Esc".into(), "cancel"),
        ],
        Mode::Filter(_) => vec![
            ("Enter".into(), "keep filter"),
            ("Esc".into(), "clear filter"),
        ],
        Mode::Diff(view) if view.content.as_ref().is_some_and(|d| d.input.is_some()) => vec![
            ("Enter".into(), "keep the comment"),
            ("Esc".into(), "drop it"),
        ],
        Mode::Diff(_) => {
            let mut hints = vec![("↑↓ PgUp/PgDn".to_string(), "line")];
            hints.extend(
                app.keymap
                    .footer(&[Action::Comment, Action::Approve, Action::Reject]),
            );
            hints.push(("Esc".into(), "back"));
            hints
        }
        Mode::Details(_) => {
            vec![("↑↓ PgUp/PgDn".into(), "scroll"), ("Esc".into(), "back")]
        }
        Mode::Grid => {
            let mut hints = vec![("↑↓ Tab".to_string(), "select")];
            hints.extend(app.keymap.footer(&[
                Action::Details,
                Action::Attach,
                Action::Nudge,
                Action::Kill,
            ]));
            hints.push(("Esc".into(), "back"));
            hints
        }
        _ => app.keymap.footer(&app.footer_actions()),
    };
    // What does not fit goes, from the right, but help and quit (the
    // last two) stay: `?` lists the rest.
    let width = |(k, what): &(String, &str)| k.chars().count() + what.chars().count() + 3;
    let mut hints = hints;
    let keep = if matches!(app.mode, Mode::Normal) {
        2
    } else {
        0
    };
    while hints.iter().map(width).sum::<usize>() > area.width as usize && hints.len() > keep {
        hints.remove(hints.len() - keep - 1);
    }
    let spans: Vec<Span> = hints
        .into_iter()
        .flat_map(|(k, what)| {
            [
                Span::styled(format!(" {k}"), Style::new().add_modifier(Modifier::BOLD)),
                Span::raw(format!(" {what} ")),
            ]
        })
        .collect();
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
