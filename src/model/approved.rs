//! The commit an approve names: what the operator looked at. The engine
//! merges a branch only while its head is still that commit, so work that
//! lands between the operator's yes and the merge is never merged unseen.

use std::fmt;

/// A commit named by its SHA or an abbreviation of it (4 to 40 hex
/// digits, kept in lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovedCommit(String);

/// Why a text is not a commit an approve can name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotACommit(String);

impl fmt::Display for NotACommit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not a commit: give its SHA (4 to 40 hex digits)",
            self.0
        )
    }
}

impl std::error::Error for NotACommit {}

impl ApprovedCommit {
    pub fn parse(text: &str) -> Result<ApprovedCommit, NotACommit> {
        let t = text.trim();
        if (4..=40).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(ApprovedCommit(t.to_ascii_lowercase()))
        } else {
            Err(NotACommit(text.chars().take(60).collect()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the branch's head `head` (a full SHA) is this commit.
    pub fn is(&self, head: &str) -> bool {
        head.trim().to_ascii_lowercase().starts_with(&self.0)
    }
}

/// A SHA as the operator reads it: its first 7 digits.
pub fn short_sha(sha: &str) -> &str {
    let sha = sha.trim();
    sha.get(..7).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sha_or_its_abbreviation_names_a_commit() {
        let full = "0123456789abcdef0123456789abcdef01234567";
        assert!(ApprovedCommit::parse(full).unwrap().is(full));
        assert!(ApprovedCommit::parse("0123456789ABC").unwrap().is(full));
        assert!(!ApprovedCommit::parse("0124").unwrap().is(full));
        for bad in ["", "abc", "xyz1234", "0123 4567", &"a".repeat(41), "--all"] {
            assert!(ApprovedCommit::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_short_sha_is_seven_digits() {
        assert_eq!(short_sha("0123456789abcdef"), "0123456");
        assert_eq!(short_sha("0123"), "0123");
    }
}
