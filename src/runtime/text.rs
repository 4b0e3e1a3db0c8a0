//! Text for agents is data: before it is pasted, control characters are
//! normalised so that nothing in it acts as a key, an escape sequence or a
//! terminal command.

/// Line ends become `\n`; tabs stay; every other control character (C0,
/// DEL, C1, including ESC) is dropped.
pub fn normalise(text: &str) -> String {
    let unified = text.replace("\r\n", "\n").replace('\r', "\n");
    unified
        .chars()
        .filter(|&c| c == '\n' || c == '\t' || !(c.is_control()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_go_and_text_stays() {
        assert_eq!(normalise("a\r\nb\rc\n"), "a\nb\nc\n");
        assert_eq!(
            normalise("red \u{1b}[31mtext\u{7}\u{7f}\u{9b}"),
            "red [31mtext"
        );
        assert_eq!(
            normalise("tab\there $(x) `y` ; C-c Enter"),
            "tab\there $(x) `y` ; C-c Enter"
        );
    }
}
