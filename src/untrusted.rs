//! Text that came from outside (messages, tickets, alarms, agents' reports,
//! events that quote them), made safe to show to a person.
//!
//! A ticket's title can hold `ESC ] 52 ; …` (a clipboard write), `ESC ] 0`
//! (the window title), `ESC [ 201 ~` (the end of a bracketed paste), a BEL,
//! a CR that rewrites the line, or a C1 character such as U+009B (a CSI on
//! some terminals). Written raw, any of them drives the operator's
//! terminal. [`visible`] is the one function every human output of the CLI
//! and every pane of the control room passes such text through: each
//! control character becomes a visible stand-in, so the operator sees what
//! was sent and the terminal obeys none of it. JSON output keeps the text
//! exact (JSON escapes it).

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every control character made visible: newline and tab stay;
/// the other C0 characters become their control pictures (`␛` for ESC,
/// `␇` for BEL, `␍` for CR, `␀` for NUL), DEL becomes `␡`, and C1
/// characters and the invisible direction overrides (which reorder what
/// the operator reads) become `\u{9b}`-style escapes.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs_escape(c) {
            out.push(c);
        } else if (c as u32) < 0x20 {
            // U+2400..U+241F are the control pictures of C0, in order.
            out.push(char::from_u32(0x2400 + c as u32).unwrap_or('�'));
        } else if c == '\u{7f}' {
            out.push('␡');
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// Whether `c` must not reach a terminal as it is.
fn needs_escape(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        // C0, DEL, C1.
        c if c.is_control() => true,
        // Bidirectional embeddings, overrides and isolates; line and
        // paragraph separators (a line break that is not a newline).
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}' => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_sequences_seen_in_the_wild_become_visible() {
        let hostile = "x \x1b]52;c;aGk=\x07\x1b]0;PWNED\x07";
        assert_eq!(visible(hostile), "x ␛]52;c;aGk=␇␛]0;PWNED␇");
        assert_eq!(visible("end\x1b[201~paste"), "end␛[201~paste");
        assert_eq!(visible("over\rwrite"), "over␍write");
        assert_eq!(visible("nul\0"), "nul␀");
        assert_eq!(visible("del\x7f"), "del␡");
        assert_eq!(visible("csi\u{9b}31m"), "csi\\u{9b}31m");
        assert_eq!(visible("rtl\u{202e}txt"), "rtl\\u{202e}txt");
    }

    #[test]
    fn ordinary_text_is_untouched_and_not_copied() {
        let text = "fix the login button\n\tin Safari — ünïcödé ✓";
        assert!(matches!(visible(text), Cow::Borrowed(t) if t == text));
    }

    /// Strings rich in control characters (plain `any::<String>()` rarely
    /// draws one).
    fn mixed_text() -> impl Strategy<Value = String> {
        let controls = prop_oneof![0u32..0x20, Just(0x7f), 0x80u32..0xa0, 0x2028u32..0x2070];
        let chars = prop_oneof![
            any::<char>(),
            controls.prop_map(|c| char::from_u32(c).unwrap_or('x')),
        ];
        prop::collection::vec(chars, 0..64).prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn no_control_character_survives(text in mixed_text()) {
            let shown = visible(&text);
            prop_assert!(
                !shown.chars().any(|c| c.is_control() && c != '\n' && c != '\t'),
                "{shown:?}"
            );
        }

        #[test]
        fn text_without_controls_is_kept_exactly(text in "[^\\p{Cc}\u{202a}-\u{202e}\u{2066}-\u{2069}\u{2028}\u{2029}]*") {
            prop_assert_eq!(visible(&text), text.as_str());
        }
    }
}
