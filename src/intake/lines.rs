//! Splitting input into lines without trusting it: a line of any length is
//! read in bounded memory, and bytes that are not UTF-8 are kept as bytes.

use std::io::{self, BufRead};

/// The longest message accepted, in bytes. Longer lines are rejected (and
/// their first `MAX_MESSAGE_BYTES` kept with the reason).
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// One line of input.
#[derive(Debug)]
pub struct Line {
    /// 1-based line number.
    pub number: u64,
    /// The line without its end, at most `MAX_MESSAGE_BYTES + 1` bytes.
    pub bytes: Vec<u8>,
    /// The line's full length when it was longer than `MAX_MESSAGE_BYTES`.
    pub overlong: Option<u64>,
}

impl Line {
    /// The reason this line cannot be a message before it is even parsed.
    pub fn too_long_reason(&self) -> Option<String> {
        self.overlong.map(|len| {
            format!("line is {len} bytes, over the {MAX_MESSAGE_BYTES}-byte limit for one message")
        })
    }
}

/// Reads [`Line`]s from any buffered reader.
pub struct LineReader<R> {
    input: R,
    number: u64,
    done: bool,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(input: R) -> Self {
        LineReader {
            input,
            number: 0,
            done: false,
        }
    }

    /// The next line, `None` at the end of input.
    pub fn next_line(&mut self) -> io::Result<Option<Line>> {
        if self.done {
            return Ok(None);
        }
        let mut bytes = Vec::new();
        let mut total: u64 = 0;
        let mut saw_any = false;
        loop {
            let chunk = self.input.fill_buf()?;
            if chunk.is_empty() {
                self.done = true;
                if !saw_any {
                    return Ok(None);
                }
                break;
            }
            saw_any = true;
            let (part, found_end) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (&chunk[..i], true),
                None => (chunk, false),
            };
            let room = (MAX_MESSAGE_BYTES + 1).saturating_sub(bytes.len());
            bytes.extend_from_slice(&part[..part.len().min(room)]);
            total += part.len() as u64;
            let used = part.len() + usize::from(found_end);
            self.input.consume(used);
            if found_end {
                break;
            }
        }
        if bytes.last() == Some(&b'\r') && total as usize == bytes.len() {
            bytes.pop();
            total -= 1;
        }
        self.number += 1;
        let overlong = (total > MAX_MESSAGE_BYTES as u64).then_some(total);
        Ok(Some(Line {
            number: self.number,
            bytes,
            overlong,
        }))
    }
}

impl<R: BufRead> Iterator for LineReader<R> {
    type Item = io::Result<Line>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_line().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(input: &[u8]) -> Vec<Line> {
        LineReader::new(io::BufReader::with_capacity(7, input))
            .collect::<io::Result<Vec<_>>>()
            .unwrap()
    }

    #[test]
    fn splits_lines_and_numbers_them() {
        let lines = read_all(b"one\r\ntwo\n\nthree");
        let texts: Vec<_> = lines.iter().map(|l| l.bytes.clone()).collect();
        assert_eq!(
            texts,
            vec![b"one".to_vec(), b"two".to_vec(), vec![], b"three".to_vec()]
        );
        assert_eq!(lines[3].number, 4);
        assert!(lines.iter().all(|l| l.overlong.is_none()));
    }

    #[test]
    fn a_final_newline_makes_no_extra_line() {
        assert_eq!(read_all(b"a\nb\n").len(), 2);
        assert!(read_all(b"").is_empty());
    }

    #[test]
    fn an_overlong_line_is_bounded_and_measured() {
        let mut input = vec![b'x'; MAX_MESSAGE_BYTES * 3];
        input.extend_from_slice(b"\n{}\n");
        let lines = read_all(&input);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].bytes.len(), MAX_MESSAGE_BYTES + 1);
        assert_eq!(lines[0].overlong, Some(3 * MAX_MESSAGE_BYTES as u64));
        assert!(lines[0].too_long_reason().unwrap().contains("limit"));
        assert_eq!(lines[1].bytes, b"{}");
    }
}
