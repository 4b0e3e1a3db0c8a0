//! An answer to an agent's question, as the agent's own keys: a menu
//! number for Claude Code (`1`, `2`, `3`), `y`/`n`/Enter/Esc for Codex.
//! Sent as one key press, never as pasted text.

use std::fmt;

/// One key that answers a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// A numbered option of a menu, 1 to 9.
    Option(u8),
    Yes,
    No,
    Enter,
    Esc,
}

impl Choice {
    /// Reads what an operator typed: `1`..`9`, `y`/`yes`, `n`/`no`,
    /// `enter`, `esc`.
    pub fn parse(text: &str) -> Result<Choice, String> {
        let word = text.trim().to_ascii_lowercase();
        Ok(match word.as_str() {
            "y" | "yes" => Choice::Yes,
            "n" | "no" => Choice::No,
            "enter" | "return" => Choice::Enter,
            "esc" | "escape" => Choice::Esc,
            d if d.len() == 1 && d.as_bytes()[0].is_ascii_digit() && d != "0" => {
                Choice::Option(d.as_bytes()[0] - b'0')
            }
            _ => {
                return Err(format!(
                    "{:?} is not an answer: give a menu number (1-9), y, n, enter or esc",
                    crate::untrusted::visible(text)
                ));
            }
        })
    }

    /// The tmux key name.
    pub fn key(self) -> String {
        match self {
            Choice::Option(n) => n.to_string(),
            Choice::Yes => "y".into(),
            Choice::No => "n".into(),
            Choice::Enter => "Enter".into(),
            Choice::Esc => "Escape".into(),
        }
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Choice::Option(n) => write!(f, "{n}"),
            Choice::Yes => f.write_str("y"),
            Choice::No => f.write_str("n"),
            Choice::Enter => f.write_str("enter"),
            Choice::Esc => f.write_str("esc"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_the_agents_own_keys() {
        assert_eq!(Choice::parse("1").unwrap().key(), "1");
        assert_eq!(Choice::parse(" Y ").unwrap().key(), "y");
        assert_eq!(Choice::parse("no").unwrap().key(), "n");
        assert_eq!(Choice::parse("enter").unwrap().key(), "Enter");
        assert_eq!(Choice::parse("ESC").unwrap().key(), "Escape");
        for bad in ["0", "10", "yes please", "", "\u{1b}[A", "C-c"] {
            assert!(Choice::parse(bad).is_err(), "{bad:?}");
        }
    }
}
