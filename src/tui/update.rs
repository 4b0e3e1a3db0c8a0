//! Keys to actions, and actions to changes of the control room's state and
//! intents for the engine. No I/O here.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{App, Confirm, Pane};
use crate::journal::CommandKind;

/// Everything the operator can do with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    FocusNext,
    FocusPrev,
    Up,
    Down,
    Help,
    Kill,
    Retry,
    Approve,
    Drain,
    Attach,
    Yes,
    No,
}

/// What the control room asks for: a command for the engine (through the
/// journal), or the terminal for the operator in an agent's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Command {
        kind: CommandKind,
        job: Option<i64>,
        text: Option<String>,
    },
    /// Step aside and attach the terminal to the session of `job`'s
    /// current attempt.
    Attach { job: i64, attempt: u32 },
}

/// The keymap: one key, one action. A question on screen sees keys first.
pub fn action_for(app: &App, key: KeyEvent) -> Option<Action> {
    if app.confirm.is_some() {
        return match key.code {
            KeyCode::Char('y') | KeyCode::Enter => Some(Action::Yes),
            _ => Some(Action::No),
        };
    }
    if app.help {
        return Some(Action::Help);
    }
    let shift_tab = key.code == KeyCode::BackTab
        || (key.code == KeyCode::Tab && key.modifiers.contains(KeyModifiers::SHIFT));
    match key.code {
        _ if shift_tab => Some(Action::FocusPrev),
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => Some(Action::Quit),
        KeyCode::Char('q') => Some(Action::Quit),
        KeyCode::Tab => Some(Action::FocusNext),
        KeyCode::Up | KeyCode::Char('k') => Some(Action::Up),
        KeyCode::Down | KeyCode::Char('j') => Some(Action::Down),
        KeyCode::Char('?') => Some(Action::Help),
        KeyCode::Char('K') => Some(Action::Kill),
        KeyCode::Char('r') => Some(Action::Retry),
        KeyCode::Char('y') => Some(Action::Approve),
        KeyCode::Char('D') => Some(Action::Drain),
        KeyCode::Char('a') => Some(Action::Attach),
        _ => None,
    }
}

/// The key hints of the footer and the help overlay: (key, what).
pub const KEYS: &[(&str, &str)] = &[
    ("Tab/S-Tab", "focus"),
    ("↑↓ j/k", "select"),
    ("K", "kill"),
    ("r", "retry"),
    ("y", "approve"),
    ("D", "drain/resume"),
    ("a", "attach (prefix d detaches)"),
    ("?", "help"),
    ("q", "quit"),
];

/// Applies an action; returns what to ask of the engine.
pub fn update(app: &mut App, action: Action) -> Vec<Intent> {
    let command = |kind, job| {
        vec![Intent::Command {
            kind,
            job,
            text: None,
        }]
    };
    match action {
        Action::Quit => {
            app.quit = true;
            vec![]
        }
        Action::FocusNext | Action::FocusPrev => {
            let i = Pane::ALL.iter().position(|p| *p == app.focus).unwrap_or(0);
            let n = Pane::ALL.len();
            let next = if action == Action::FocusNext {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            };
            app.focus = Pane::ALL[next];
            vec![]
        }
        Action::Up | Action::Down => {
            let rows = app.rows(app.focus);
            let current = app.selection(app.focus);
            let next = match action {
                Action::Up => current.saturating_sub(1),
                _ => (current + 1).min(rows.saturating_sub(1)),
            };
            app.set_selection(app.focus, next);
            vec![]
        }
        Action::Help => {
            app.help = !app.help;
            vec![]
        }
        Action::Kill => {
            app.confirm = app.selected_job().map(Confirm::Kill);
            vec![]
        }
        Action::Yes => match app.confirm.take() {
            Some(Confirm::Kill(job)) => {
                app.message = Some(format!("asked the engine to kill #{job}"));
                command(CommandKind::Kill, Some(job))
            }
            None => vec![],
        },
        Action::No => {
            app.confirm = None;
            vec![]
        }
        Action::Retry => match app.selected_job() {
            Some(job) => {
                app.message = Some(format!("asked the engine to retry #{job}"));
                command(CommandKind::Retry, Some(job))
            }
            None => vec![],
        },
        Action::Approve => match app.selected_job() {
            Some(job) => {
                app.message = Some(format!("asked the engine to approve #{job}"));
                command(CommandKind::Approve, Some(job))
            }
            None => vec![],
        },
        Action::Attach => {
            let target = app.selected_job().and_then(|id| {
                let job = app.snapshot.jobs.iter().find(|j| j.id == id)?;
                Some((id, job.state.attempt()?))
            });
            match target {
                Some((job, attempt)) => vec![Intent::Attach { job, attempt }],
                None => {
                    app.message = Some("the selected job has no agent to attach to".into());
                    vec![]
                }
            }
        }
        Action::Drain => {
            let draining = app.engine == super::app::EngineState::Draining;
            app.message = Some(
                if draining {
                    "asked the engine to resume"
                } else {
                    "asked the engine to drain"
                }
                .into(),
            );
            command(
                if draining {
                    CommandKind::Resume
                } else {
                    CommandKind::Drain
                },
                None,
            )
        }
    }
}
