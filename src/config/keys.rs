//! `[keys]`: the control room's keymap, one named field per command.
//!
//! A key is written like `"d"`, `"K"`, `"enter"`, `"ctrl-s"`,
//! `"shift-tab"`, `"f1"`; a field takes one key or a list of keys. The
//! defaults are in `assets/config.toml`; a field in the operator's file
//! replaces that command's keys.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use serde::de::{self, Deserializer};

/// One key with its modifiers, as the operator wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyChord {
    pub code: KeyCode,
    pub modifiers: KeyModifiers,
}

impl KeyChord {
    /// Reads `"ctrl-s"`, `"K"`, `"pgdn"`, … An upper-case letter is the
    /// letter with Shift, as terminals send it.
    pub fn parse(text: &str) -> Result<KeyChord, String> {
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = text;
        // "-" alone is the minus key; "ctrl--" is ctrl with minus.
        while let Some((head, tail)) = rest
            .split_once('-')
            .filter(|(h, t)| !h.is_empty() && !t.is_empty())
        {
            modifiers |= match head.to_ascii_lowercase().as_str() {
                "ctrl" | "c" => KeyModifiers::CONTROL,
                "alt" | "a" | "meta" | "m" => KeyModifiers::ALT,
                "shift" | "s" => KeyModifiers::SHIFT,
                _ => break,
            };
            rest = tail;
        }
        let lower = rest.to_ascii_lowercase();
        let code = match lower.as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" if modifiers.contains(KeyModifiers::SHIFT) => {
                modifiers -= KeyModifiers::SHIFT;
                KeyCode::BackTab
            }
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            _ => {
                if let Some(c) = single(rest) {
                    if c.is_ascii_uppercase() {
                        modifiers |= KeyModifiers::SHIFT;
                    }
                    KeyCode::Char(c)
                } else if let Some(n) = function_key(&lower) {
                    KeyCode::F(n)
                } else {
                    return Err(format!(
                        "unknown key {text:?}; write a character (\"d\", \"K\"), a name (enter, esc, tab, \
                         space, backspace, up, down, left, right, home, end, pgup, pgdn, f1…f12), \
                         optionally after ctrl-, alt- or shift-"
                    ));
                }
            }
        };
        Ok(KeyChord { code, modifiers })
    }

    /// Whether a key event from the terminal is this key. Shift is not
    /// compared for characters: terminals differ in reporting it.
    pub fn matches(&self, key: &KeyEvent) -> bool {
        let relevant = KeyModifiers::CONTROL | KeyModifiers::ALT;
        match (self.code, key.code) {
            (KeyCode::Char(a), KeyCode::Char(b)) => {
                a == b && (self.modifiers & relevant) == (key.modifiers & relevant)
            }
            (KeyCode::BackTab, KeyCode::BackTab) => true,
            (a, b) => a == b && self.modifiers == key.modifiers,
        }
    }

    /// How the key is shown in the footer and the help.
    pub fn label(&self) -> String {
        let mut out = String::new();
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            out.push_str("C-");
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            out.push_str("M-");
        }
        let name = match self.code {
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "Enter".into(),
            KeyCode::Esc => "Esc".into(),
            KeyCode::Tab => "Tab".into(),
            KeyCode::BackTab => "S-Tab".into(),
            KeyCode::Backspace => "Bksp".into(),
            KeyCode::Delete => "Del".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::Home => "Home".into(),
            KeyCode::End => "End".into(),
            KeyCode::PageUp => "PgUp".into(),
            KeyCode::PageDown => "PgDn".into(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        out.push_str(&name);
        out
    }
}

/// The character of a one-character key name.
fn single(name: &str) -> Option<char> {
    let mut chars = name.chars();
    chars.next().filter(|_| chars.next().is_none())
}

/// The number of "f1" … "f12".
fn function_key(name: &str) -> Option<u8> {
    name.strip_prefix('f')?
        .parse()
        .ok()
        .filter(|n| (1..=12).contains(n))
}

/// A command's keys: one key or a list in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyList(pub Vec<KeyChord>);

impl<'de> Deserialize<'de> for KeyList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        let texts = match OneOrMany::deserialize(d)
            .map_err(|_| de::Error::custom("expected a key (\"d\") or a list of keys"))?
        {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v,
        };
        let keys = texts
            .iter()
            .map(|t| KeyChord::parse(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(de::Error::custom)?;
        Ok(KeyList(keys))
    }
}

/// The control room's commands and their keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keys {
    pub focus_next: KeyList,
    pub focus_prev: KeyList,
    pub up: KeyList,
    pub down: KeyList,
    pub details: KeyList,
    pub dispatch: KeyList,
    pub nudge: KeyList,
    pub kill: KeyList,
    pub attach: KeyList,
    pub retry: KeyList,
    pub approve: KeyList,
    pub reject: KeyList,
    pub diff: KeyList,
    /// In the diff view: comment on the selected line.
    pub comment: KeyList,
    pub grid: KeyList,
    pub filter: KeyList,
    pub drain: KeyList,
    /// Pause the queue (no new agents start, the engine runs on), or
    /// resume it.
    pub pause: KeyList,
    pub help: KeyList,
    pub quit: KeyList,
}

impl Keys {
    /// Every command with its keys, as named in the file.
    pub fn fields(&self) -> [(&'static str, &KeyList); 20] {
        [
            ("focus_next", &self.focus_next),
            ("focus_prev", &self.focus_prev),
            ("up", &self.up),
            ("down", &self.down),
            ("details", &self.details),
            ("dispatch", &self.dispatch),
            ("nudge", &self.nudge),
            ("kill", &self.kill),
            ("attach", &self.attach),
            ("retry", &self.retry),
            ("approve", &self.approve),
            ("reject", &self.reject),
            ("diff", &self.diff),
            ("comment", &self.comment),
            ("grid", &self.grid),
            ("filter", &self.filter),
            ("drain", &self.drain),
            ("pause", &self.pause),
            ("help", &self.help),
            ("quit", &self.quit),
        ]
    }

    /// A key bound to two commands: (the later command, what to say).
    pub fn conflict(&self) -> Option<(&'static str, String)> {
        let fields = self.fields();
        for (i, (name, list)) in fields.iter().enumerate() {
            for (earlier, other) in &fields[..i] {
                if let Some(k) = list.0.iter().find(|k| other.0.contains(k)) {
                    return Some((
                        name,
                        format!("key {} is also bound to {earlier}", k.label()),
                    ));
                }
            }
        }
        None
    }
}

/// `[notify]`: how the room calls the operator when an agent asks
/// something or new work waits for review.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    /// Ring the terminal bell.
    pub bell: bool,
    /// A desktop notification through the terminal.
    pub desktop: Desktop,
}

/// `[room]`: how the control room asks before it acts.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Room {
    /// Ask before approve merges, showing the branch, its diff stat and
    /// the branch it merges into.
    pub confirm_approve: bool,
}

/// Which escape sequence carries a desktop notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Desktop {
    /// `OSC 9` (iTerm2, WezTerm, Windows Terminal, kitty, ghostty).
    Osc9,
    /// `OSC 777;notify` (foot, urxvt, VTE terminals such as GNOME Terminal).
    Osc777,
    /// None.
    Off,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn keys_are_read_as_operators_write_them() {
        let k = KeyChord::parse("ctrl-s").unwrap();
        assert!(k.matches(&key(KeyCode::Char('s'), KeyModifiers::CONTROL)));
        assert!(!k.matches(&key(KeyCode::Char('s'), KeyModifiers::NONE)));
        let k = KeyChord::parse("K").unwrap();
        assert!(k.matches(&key(KeyCode::Char('K'), KeyModifiers::SHIFT)));
        assert!(k.matches(&key(KeyCode::Char('K'), KeyModifiers::NONE)));
        assert!(!k.matches(&key(KeyCode::Char('k'), KeyModifiers::NONE)));
        let k = KeyChord::parse("shift-tab").unwrap();
        assert!(k.matches(&key(KeyCode::BackTab, KeyModifiers::SHIFT)));
        assert_eq!(KeyChord::parse("-").unwrap().code, KeyCode::Char('-'));
        assert_eq!(KeyChord::parse("f5").unwrap().code, KeyCode::F(5));
        assert_eq!(KeyChord::parse("ctrl-s").unwrap().label(), "C-s");
        let e = KeyChord::parse("hyper-x").unwrap_err();
        assert!(e.contains("unknown key \"hyper-x\""), "{e}");
    }
}
