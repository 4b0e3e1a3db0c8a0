//! Keys to actions: the `[keys]` table of the config, plus the keys every
//! view shares (Esc, PgUp/PgDn). The footer and the help overlay are made
//! from it, so they never disagree with what the keys do.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use crate::config::{KeyChord, Keys};

/// The operator's keys, in the order the help lists them.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<(Action, Vec<KeyChord>)>,
}

impl Keymap {
    pub fn new(keys: &Keys) -> Keymap {
        let k = |action, list: &crate::config::KeyList| (action, list.0.clone());
        let fixed = |action, code| {
            (
                action,
                vec![KeyChord {
                    code,
                    modifiers: KeyModifiers::NONE,
                }],
            )
        };
        Keymap {
            bindings: vec![
                k(Action::FocusNext, &keys.focus_next),
                k(Action::FocusPrev, &keys.focus_prev),
                k(Action::Up, &keys.up),
                k(Action::Down, &keys.down),
                fixed(Action::PageUp, KeyCode::PageUp),
                fixed(Action::PageDown, KeyCode::PageDown),
                k(Action::Details, &keys.details),
                k(Action::Dispatch, &keys.dispatch),
                k(Action::Nudge, &keys.nudge),
                k(Action::Kill, &keys.kill),
                k(Action::Attach, &keys.attach),
                k(Action::Retry, &keys.retry),
                k(Action::Approve, &keys.approve),
                k(Action::Reject, &keys.reject),
                k(Action::Diff, &keys.diff),
                k(Action::Comment, &keys.comment),
                k(Action::Grid, &keys.grid),
                k(Action::Filter, &keys.filter),
                k(Action::Drain, &keys.drain),
                k(Action::Pause, &keys.pause),
                k(Action::Help, &keys.help),
                k(Action::Quit, &keys.quit),
                fixed(Action::Back, KeyCode::Esc),
            ],
        }
    }

    /// The built-in keys.
    pub fn builtin() -> Keymap {
        match crate::config::Config::builtin() {
            Ok(config) => Keymap::new(&config.keys),
            Err(_) => Keymap {
                bindings: Vec::new(),
            },
        }
    }

    /// The action of a key, if it has one.
    pub fn action(&self, key: &KeyEvent) -> Option<Action> {
        self.bindings
            .iter()
            .find(|(_, chords)| chords.iter().any(|c| c.matches(key)))
            .map(|(action, _)| *action)
    }

    /// How the keys of `action` are shown: "↑/k".
    pub fn label(&self, action: Action) -> String {
        self.bindings
            .iter()
            .find(|(a, _)| *a == action)
            .map(|(_, chords)| {
                chords
                    .iter()
                    .map(KeyChord::label)
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default()
    }

    /// Every binding, for the help overlay: (keys, what).
    pub fn help(&self) -> Vec<(String, &'static str)> {
        self.bindings
            .iter()
            .filter(|(_, chords)| !chords.is_empty())
            .map(|(action, _)| (self.label(*action), action.describe()))
            .collect()
    }

    /// The footer's hints for `actions`: (keys, what), leaving out any
    /// action with no key.
    pub fn footer(&self, actions: &[Action]) -> Vec<(String, &'static str)> {
        actions
            .iter()
            .map(|a| (self.label(*a), a.footer_words()))
            .filter(|(label, _)| !label.is_empty())
            .collect()
    }
}
