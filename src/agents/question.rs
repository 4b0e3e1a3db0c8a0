//! An agent's question read from its screen: what it asks and the choices
//! it offers, each with the key the operator presses in the room and the
//! agent's own key that answers it ([`Choice`], the same keys `switchboard
//! answer` sends). Pure: the room hands it the latest capture.

use std::sync::LazyLock;

use regex::Regex;

use super::answer::Choice;
use super::status::last_lines;

/// Lines of the screen, from the bottom, a question is looked for in.
const QUESTION_LINES: usize = 30;

/// Lines of text above the choices kept as the question.
const TEXT_LINES: usize = 8;

/// One choice the agent offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// What the operator presses in the room (`1`, `y`).
    pub key: char,
    /// What the agent is sent: its own key for this choice (Codex's
    /// shortcut when it names one the agent reads as a key, else the menu
    /// number).
    pub choice: Choice,
    /// The agent's words for it.
    pub label: String,
}

/// A question on an agent's screen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Question {
    /// The question and the lines that go with it (the command to run),
    /// top to bottom.
    pub text: Vec<String>,
    pub offers: Vec<Offer>,
}

impl Question {
    /// The offer the operator's key `key` picks.
    pub fn offer(&self, key: char) -> Option<&Offer> {
        self.offers.iter().find(|o| o.key == key)
    }
}

/// A numbered option: Claude Code's `❯ 1. Yes`, Codex's `› 1. Yes, proceed (y)`.
static OPTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*(?:[›❯>▶→]\s*)?([1-9])[.)]\s+(.+?)\s*$").expect("option pattern")
});

/// A shortcut at the end of an option's label: `(y)`, `(esc)`.
static SHORTCUT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s*\(([A-Za-z]+)\)$").expect("shortcut pattern"));

/// A yes/no prompt: `[y/n]`, `(Y)es/(N)o`, `(y/n)`.
static YES_NO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\[y/n\]|\(y\)es/\(n\)o|\(y/n\)").expect("yes/no pattern"));

/// A rule drawn across the screen (Claude Code's box edges).
fn is_rule(line: &str) -> bool {
    let t = line.trim();
    t.chars().count() >= 3 && t.chars().all(|c| matches!(c, '─' | '━' | '═' | '-'))
}

/// The question on `screen`, if its last lines hold one: numbered options
/// (a menu), or a yes/no prompt on the last line.
pub fn read_question(screen: &str) -> Option<Question> {
    let region = last_lines(screen, QUESTION_LINES);
    let lines: Vec<&str> = region.lines().collect();
    if let Some(question) = menu(&lines) {
        return Some(question);
    }
    let last = lines.iter().rev().find(|l| !l.trim().is_empty())?;
    YES_NO.is_match(last).then(|| Question {
        text: vec![last.trim().to_string()],
        offers: vec![
            Offer {
                key: 'y',
                choice: Choice::Yes,
                label: "yes".into(),
            },
            Offer {
                key: 'n',
                choice: Choice::No,
                label: "no".into(),
            },
        ],
    })
}

/// The last block of numbered options, and the text above it.
fn menu(lines: &[&str]) -> Option<Question> {
    let end = lines.iter().rposition(|l| OPTION.is_match(l))?;
    let mut start = end;
    while start > 0 && OPTION.is_match(lines[start - 1]) {
        start -= 1;
    }
    let mut offers: Vec<Offer> = Vec::new();
    for line in &lines[start..=end] {
        let caps = OPTION.captures(line)?;
        let number = caps[1].parse::<u8>().ok()?;
        let label = caps[2].to_string();
        // A shortcut the agent reads as a key (Codex's `(y)`, `(esc)`) is
        // pressed; any other (`(p)`) leaves the menu number.
        let shortcut = SHORTCUT
            .captures(&label)
            .and_then(|c| Choice::parse(&c[1]).ok());
        let label = SHORTCUT.replace(&label, "").into_owned();
        let key = char::from(b'0' + number);
        if offers.iter().any(|o| o.key == key) {
            continue;
        }
        offers.push(Offer {
            key,
            choice: shortcut.unwrap_or(Choice::Option(number)),
            label,
        });
    }
    // A lone numbered line is a list item, not a menu.
    if offers.len() < 2 {
        return None;
    }
    Some(Question {
        text: text_above(&lines[..start]),
        offers,
    })
}

/// The question's lines above its options: up to a rule, a gap of three
/// blank lines, or [`TEXT_LINES`] lines.
fn text_above(lines: &[&str]) -> Vec<String> {
    let mut text = Vec::new();
    let mut blanks = 0;
    for line in lines.iter().rev() {
        if is_rule(line) {
            break;
        }
        if line.trim().is_empty() {
            blanks += 1;
            if blanks >= 3 && !text.is_empty() {
                break;
            }
            continue;
        }
        blanks = 0;
        text.push(line.trim().to_string());
        if text.len() >= TEXT_LINES {
            break;
        }
    }
    text.reverse();
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLAUDE_ASK: &str = include_str!("../../tests/fixtures/screens/claude_ask.txt");
    const CODEX_ASK: &str = include_str!("../../tests/fixtures/screens/codex_ask.txt");
    const DEMO_ASK: &str = include_str!("../../tests/fixtures/screens/demo_ask.txt");
    const CLAUDE_READY: &str = include_str!("../../tests/fixtures/screens/claude_ready.txt");
    const CODEX_READY: &str = include_str!("../../tests/fixtures/screens/codex_ready.txt");
    const CODEX_BUSY: &str = include_str!("../../tests/fixtures/screens/codex_busy.txt");

    fn offers(q: &Question) -> Vec<(char, String, String)> {
        q.offers
            .iter()
            .map(|o| (o.key, o.choice.key(), o.label.clone()))
            .collect()
    }

    #[test]
    fn claude_codes_menu_is_read_from_its_recorded_screen() {
        let q = read_question(CLAUDE_ASK).expect("a question");
        assert_eq!(
            q.text,
            [
                "Bash command",
                "touch made-by-agent.txt",
                "Create the file",
                "Do you want to proceed?"
            ]
        );
        let o = offers(&q);
        assert_eq!(o.len(), 3);
        assert_eq!(
            (o[0].0, o[0].1.as_str(), o[0].2.as_str()),
            ('1', "1", "Yes")
        );
        assert_eq!((o[2].0, o[2].1.as_str(), o[2].2.as_str()), ('3', "3", "No"));
    }

    #[test]
    fn codex_menu_answers_with_its_own_shortcuts() {
        let q = read_question(CODEX_ASK).expect("a question");
        assert_eq!(
            q.text.first().map(String::as_str),
            Some("Would you like to run the following command?")
        );
        assert!(q.text.iter().any(|l| l == "$ touch made-by-agent.txt"));
        let o = offers(&q);
        assert_eq!(o[0], ('1', "y".into(), "Yes, proceed".into()));
        // `(p)` is no key `answer` knows: the menu number is pressed.
        assert_eq!(o[1].1, "2");
        assert_eq!(o[2].1, "Escape");
        assert_eq!(q.offer('3').map(|o| o.choice), Some(Choice::Esc));
    }

    #[test]
    fn a_yes_no_prompt_offers_y_and_n() {
        let q = read_question(DEMO_ASK).expect("a question");
        assert_eq!(q.text, ["Proceed with changes to DEMO.md? [y/n]"]);
        assert_eq!(
            q.offers.iter().map(|o| o.choice).collect::<Vec<_>>(),
            [Choice::Yes, Choice::No]
        );
    }

    #[test]
    fn aiders_question_offers_y_and_n() {
        let aider = include_str!("../../tests/fixtures/screens/aider_ask.txt");
        let q = read_question(aider).expect("a question");
        assert_eq!(
            q.text,
            ["Run shell command? (Y)es/(N)o/(D)on't ask again [Yes]:"]
        );
        assert_eq!(q.offer('y').map(|o| o.choice), Some(Choice::Yes));
    }

    #[test]
    fn screens_without_a_question_have_none() {
        for screen in [CLAUDE_READY, CODEX_READY, CODEX_BUSY, "", "1. one item\n"] {
            assert_eq!(read_question(screen), None, "{screen}");
        }
    }
}
