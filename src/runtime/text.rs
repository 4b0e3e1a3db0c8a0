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

/// Presses Enter (`press`) until the pane's state (`state`: its text, its
/// cursor, its life) changes, at most `retries + 1` times, looking every
/// `poll` for half a second after each press. A pane that can no longer be
/// read went away on that Enter, which counts as a change.
pub fn press_enter_until_changed<S: PartialEq>(
    name: &str,
    retries: u32,
    poll: std::time::Duration,
    mut state: impl FnMut() -> Result<S, super::TmuxError>,
    mut press: impl FnMut() -> Result<(), super::TmuxError>,
) -> Result<(), super::TmuxError> {
    for _ in 0..=retries {
        let before = state()?;
        press()?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
        while std::time::Instant::now() < deadline {
            std::thread::sleep(poll);
            match state() {
                Ok(now) if now == before => {}
                _ => return Ok(()),
            }
        }
    }
    Err(super::TmuxError::Timeout(format!(
        "the pane of {name} did not change after Enter ({} tries)",
        retries + 1
    )))
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
