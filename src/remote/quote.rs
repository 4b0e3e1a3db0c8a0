//! The one quoting function for the remote side of ssh.
//!
//! ssh sends its command to the remote user's login shell as one string.
//! Every element of a remote argv goes through [`quote`]: wrapped in single
//! quotes, inside which a POSIX shell gives no character a meaning, and a
//! single quote itself written as `'\''`. A NUL cannot travel in a shell
//! string (nor in an argv), so a word holding one is refused.

/// A word that cannot be part of a remote command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a remote command argument holds a NUL byte, which cannot be passed: {0:?}")]
pub struct NulInWord(pub String);

/// `word` as one word for a POSIX shell.
pub fn quote(word: &str) -> Result<String, NulInWord> {
    if word.contains('\0') {
        return Err(NulInWord(word.replace('\0', "\\0")));
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('\'');
    for c in word.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    Ok(out)
}

/// An argv as one shell command line: each element quoted, joined by spaces.
pub fn command_line<S: AsRef<str>>(argv: &[S]) -> Result<String, NulInWord> {
    let words: Result<Vec<String>, NulInWord> = argv.iter().map(|w| quote(w.as_ref())).collect();
    Ok(words?.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::process::Command;

    /// Runs `line` with `sh -c` and the argv its words became, one per
    /// line of output, each NUL-terminated.
    fn round_trip(argv: &[String]) -> Vec<String> {
        let line = command_line(argv).expect("no NUL");
        let script = format!("printf '%s\\0' {line}");
        let out = Command::new("sh")
            .arg("-c")
            .arg(&script)
            .output()
            .expect("sh runs");
        assert!(out.status.success(), "{script:?}: {out:?}");
        let text = String::from_utf8(out.stdout).expect("utf-8 back");
        let mut words: Vec<String> = text.split('\0').map(str::to_string).collect();
        words.pop();
        words
    }

    #[test]
    fn hostile_words_stay_words() {
        let argv: Vec<String> = [
            "$(touch /tmp/sb-quote-pwned)",
            "`id`",
            "it's",
            "'",
            "''",
            "\"$HOME\"",
            "a\nb",
            "-n",
            "--",
            "*",
            "~",
            "",
            "; rm -rf /",
            "\\",
            "é ü 日本",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(round_trip(&argv), argv);
        assert!(!std::path::Path::new("/tmp/sb-quote-pwned").exists());
    }

    #[test]
    fn nul_is_refused() {
        assert!(quote("a\0b").is_err());
        assert!(command_line(&["ok", "x\0"]).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn any_text_round_trips(words in proptest::collection::vec("[^\u{0}]{0,40}", 1..6)) {
            prop_assert_eq!(round_trip(&words), words);
        }

        #[test]
        fn any_bytes_round_trip(raw in proptest::collection::vec(proptest::collection::vec(1u8..=255, 0..40), 1..5)) {
            // Arbitrary bytes, as text (invalid UTF-8 replaced): every
            // character a word can hold.
            let words: Vec<String> = raw.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect();
            prop_assert_eq!(round_trip(&words), words);
        }
    }
}
