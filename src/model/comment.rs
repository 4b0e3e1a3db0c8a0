//! Review comments: a line of a review item's diff and what the operator
//! says about it. A rejection sends the agent every comment as
//! `path:line: comment`, with the reason.

use std::fmt;

use serde::Serialize;

use super::Timestamp;

/// One comment on a line of the new version of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewComment {
    pub path: String,
    /// The line in the file as the agent's branch has it (from 1).
    pub line: u32,
    pub text: String,
}

/// A comment as the journal keeps it: when the operator made it, and when
/// a rejection sent it to the agent (`None`: it goes with the next one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptComment {
    #[serde(flatten)]
    pub comment: ReviewComment,
    pub at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

impl fmt::Display for ReviewComment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.text)
    }
}

impl ReviewComment {
    /// Reads `path:line: text` (as `reject --comment` takes it); the path
    /// may itself hold colons, the line is the last `:N:` before the text.
    pub fn parse(given: &str) -> Result<ReviewComment, String> {
        let refuse = || {
            format!(
                "a comment is PATH:LINE: TEXT, such as \"src/lib.rs:12: handle the error\", not {given:?}"
            )
        };
        let mut at = 0;
        while let Some(found) = given[at..].find(':') {
            let start = at + found + 1;
            if let Some(end) = given[start..].find(':').map(|e| start + e) {
                let digits = &given[start..end];
                if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                    let path = &given[..start - 1];
                    let text = given[end + 1..].trim();
                    let line: u32 = digits.parse().map_err(|_| refuse())?;
                    if path.is_empty() || text.is_empty() || line == 0 {
                        return Err(refuse());
                    }
                    return Ok(ReviewComment {
                        path: path.to_string(),
                        line,
                        text: text.to_string(),
                    });
                }
            }
            at = start;
        }
        Err(refuse())
    }
}

/// What a rejection tells the agent: the reason (or a plain request to
/// look again), then each comment on a line of its own.
pub fn reject_text(reason: Option<&str>, comments: &[ReviewComment]) -> String {
    let mut text = reason
        .map(str::to_string)
        .unwrap_or_else(|| "The operator rejected this work; look at it again.".into());
    if !comments.is_empty() {
        text.push_str("\nReview comments (path:line: comment):");
        for c in comments {
            text.push('\n');
            text.push_str(&c.to_string());
        }
    }
    text
}

/// The file and the line of it that line `index` of a unified diff (as
/// `git diff` prints it) stands for: the new file's path and line number
/// (a removed line: where it was, in the new file's numbering; a deleted
/// file: the old path and line). `None` for a line outside every hunk
/// (a header, `\ No newline at end of file`).
pub fn diff_position(lines: &[String], index: usize) -> Option<(String, u32)> {
    let mut old_path: Option<String> = None;
    let mut new_path: Option<String> = None;
    // (old line, new line) of the next line in the hunk.
    let mut at: Option<(u32, u32)> = None;
    for (i, line) in lines.iter().enumerate().take(index + 1) {
        let here = i == index;
        if line.starts_with("diff ") {
            at = None;
            old_path = None;
            new_path = None;
            if here {
                return None;
            }
            continue;
        }
        if at.is_none() || line.starts_with("@@") {
            if let Some(rest) = line.strip_prefix("--- ") {
                old_path = path_of(rest, "a/");
            } else if let Some(rest) = line.strip_prefix("+++ ") {
                new_path = path_of(rest, "b/");
            } else if line.starts_with("@@") {
                at = hunk_start(line);
            }
            if here {
                return None;
            }
            continue;
        }
        let Some((old, new)) = at.as_mut() else {
            continue;
        };
        let position = |path: &Option<String>, n: u32| path.clone().map(|p| (p, n.max(1)));
        match line.chars().next() {
            Some('+') => {
                if here {
                    return position(&new_path, *new);
                }
                *new += 1;
            }
            Some('-') => {
                if here {
                    return match &new_path {
                        Some(_) => position(&new_path, *new),
                        None => position(&old_path, *old),
                    };
                }
                *old += 1;
            }
            Some(' ') | None => {
                if here {
                    return position(&new_path, *new);
                }
                *old += 1;
                *new += 1;
            }
            _ if here => return None,
            _ => {}
        }
    }
    None
}

/// The path of a `---`/`+++` line (`None` for `/dev/null`), unquoted as
/// git quotes unusual names, without git's trailing tab.
fn path_of(rest: &str, side: &str) -> Option<String> {
    let rest = rest.trim_end_matches(['\t', '\r']);
    if rest == "/dev/null" {
        return None;
    }
    let name = if rest.starts_with('"') {
        unquote(rest)?
    } else {
        rest.to_string()
    };
    Some(name.strip_prefix(side).unwrap_or(&name).to_string())
}

/// A C-style quoted name as git writes it (`"b/new \303\251.txt"`).
fn unquote(quoted: &str) -> Option<String> {
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let mut bytes = Vec::new();
    let mut chars = inner.bytes().peekable();
    while let Some(b) = chars.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match chars.next()? {
            b'n' => bytes.push(b'\n'),
            b't' => bytes.push(b'\t'),
            b'r' => bytes.push(b'\r'),
            b'a' => bytes.push(7),
            b'b' => bytes.push(8),
            b'f' => bytes.push(12),
            b'v' => bytes.push(11),
            d @ b'0'..=b'7' => {
                let mut value = u32::from(d - b'0');
                for _ in 0..2 {
                    match chars.peek() {
                        Some(n @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(n - b'0');
                            chars.next();
                        }
                        _ => break,
                    }
                }
                bytes.push(u8::try_from(value).ok()?);
            }
            other => bytes.push(other),
        }
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// `@@ -a,b +c,d @@`: the first old and new line numbers.
fn hunk_start(line: &str) -> Option<(u32, u32)> {
    let mut parts = line.split_whitespace().skip(1);
    let number = |part: Option<&str>, sign: char| -> Option<u32> {
        part?.strip_prefix(sign)?.split(',').next()?.parse().ok()
    };
    let old = number(parts.next(), '-')?;
    let new = number(parts.next(), '+')?;
    Some((old, new))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real `git diff` output: a changed file (two hunks), a deleted file,
    /// a new file whose name git quotes, a file whose name has a space
    /// (git adds a tab after it).
    const DIFF: &str = include_str!("../../tests/fixtures/diff/review.diff");

    fn lines() -> Vec<String> {
        DIFF.lines().map(str::to_string).collect()
    }

    fn at(text: &str) -> Option<(String, u32)> {
        let lines = lines();
        let index = lines.iter().position(|l| l == text).expect(text);
        diff_position(&lines, index)
    }

    #[test]
    fn each_line_of_a_real_diff_names_its_file_and_new_line() {
        let p = |path: &str, line| Some((path.to_string(), line));
        assert_eq!(at(" one"), p("a.txt", 1));
        assert_eq!(at("+TWO"), p("a.txt", 2));
        assert_eq!(at("-two"), p("a.txt", 2), "a removed line: where it was");
        assert_eq!(at(" three"), p("a.txt", 3));
        // The second hunk starts again from its header.
        assert_eq!(at(" eight"), p("a.txt", 8));
        assert_eq!(at("+eleven"), p("a.txt", 11));
        assert_eq!(
            at("-keep"),
            p("gone.txt", 1),
            "a deleted file: the old side"
        );
        assert_eq!(
            at("+file"),
            p("new é.txt", 2),
            "git's quoted name, unquoted"
        );
        assert_eq!(at("+    println!(\"hi\");"), p("src dir/m.rs", 2));
    }

    #[test]
    fn headers_are_not_lines_of_a_file() {
        let lines = lines();
        for (i, line) in lines.iter().enumerate() {
            let header = [
                "diff ",
                "index ",
                "--- ",
                "+++ ",
                "@@",
                "new file",
                "deleted file",
            ]
            .iter()
            .any(|h| line.starts_with(h));
            if header {
                assert_eq!(diff_position(&lines, i), None, "{line}");
            }
        }
        assert_eq!(diff_position(&lines, lines.len() + 3), None);
        assert_eq!(diff_position(&[], 0), None);
    }

    #[test]
    fn a_comment_reads_and_prints_as_path_line_text() {
        let c = ReviewComment::parse("src/a:b.rs:12: handle the error: all of it").unwrap();
        assert_eq!(c.path, "src/a:b.rs");
        assert_eq!(c.line, 12);
        assert_eq!(c.text, "handle the error: all of it");
        assert_eq!(c.to_string(), "src/a:b.rs:12: handle the error: all of it");
        for bad in [
            "nothing",
            "a.rs:x: t",
            "a.rs:0: t",
            ":3: t",
            "a.rs:3:",
            "a.rs:3",
        ] {
            assert!(ReviewComment::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_rejection_carries_the_reason_then_every_comment() {
        let comments = [
            ReviewComment {
                path: "a.txt".into(),
                line: 2,
                text: "keep it lower case".into(),
            },
            ReviewComment {
                path: "src dir/m.rs".into(),
                line: 2,
                text: "$(rm -rf /) `x`; 'q'".into(),
            },
        ];
        assert_eq!(
            reject_text(Some("not yet"), &comments),
            "not yet\nReview comments (path:line: comment):\na.txt:2: keep it lower case\nsrc dir/m.rs:2: $(rm -rf /) `x`; 'q'"
        );
        assert_eq!(
            reject_text(None, &[]),
            "The operator rejected this work; look at it again."
        );
    }
}
