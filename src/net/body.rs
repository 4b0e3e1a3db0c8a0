//! A request body (or an SQS message body) into intake items, through the
//! one parse path every intake shares ([`crate::intake::read_item`],
//! with its limits).
//!
//! A body that is one JSON document (pretty-printed or not) is one
//! message; anything else is read as JSON lines, one message a line.

use crate::intake::{LineReader, read_item};
use crate::journal::Incoming;

/// What a body became.
#[derive(Debug, Default)]
pub struct Items {
    /// One a line (or one for the document); an SNS envelope's item
    /// carries its MessageId, so a redelivery of it is recognised.
    pub items: Vec<Incoming>,
}

impl Items {
    /// How many items were read as messages.
    pub fn accepted(&self) -> usize {
        self.items
            .iter()
            .filter(|i| matches!(i, Incoming::Message { .. }))
            .count()
    }

    /// (line, reason) of every item that could not be read.
    pub fn rejected(&self) -> Vec<(Option<u64>, String)> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Incoming::Rejected { line, reason, .. } => Some((*line, reason.clone())),
                Incoming::Message { .. } => None,
            })
            .collect()
    }
}

/// Reads `body`: one document or JSON lines.
pub fn read(body: &[u8]) -> Items {
    if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
        return Items {
            items: vec![read_item(body.to_vec(), Some(1))],
        };
    }
    let mut items = Vec::new();
    for line in LineReader::new(body) {
        // Reading from memory cannot fail.
        let Ok(line) = line else { break };
        if line.bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        items.push(match line.too_long_reason() {
            Some(reason) => Incoming::Rejected {
                line: Some(line.number),
                reason,
                raw: line.bytes,
            },
            None => read_item(line.bytes, Some(line.number)),
        });
    }
    if items.is_empty() {
        items.push(Incoming::Rejected {
            line: None,
            reason: "empty body; expected one JSON message or JSON lines".to_string(),
            raw: Vec::new(),
        });
    }
    Items { items }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TASK: &str = r#"{"type":"task","prompt":"fix the build"}"#;

    #[test]
    fn one_pretty_document_is_one_message() {
        let doc = "{\n  \"type\": \"task\",\n  \"prompt\": \"fix the build\"\n}\n";
        let items = read(doc.as_bytes());
        assert_eq!(items.accepted(), 1);
        assert!(items.rejected().is_empty());
    }

    #[test]
    fn json_lines_are_read_line_by_line() {
        let body = format!("{TASK}\nnot json\n\n{TASK}\n");
        let items = read(body.as_bytes());
        assert_eq!(items.accepted(), 2);
        let rejected = items.rejected();
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].0, Some(2));
    }

    #[test]
    fn an_empty_body_is_refused_with_a_reason() {
        let items = read(b"  \n");
        assert_eq!(items.accepted(), 0);
        assert!(items.rejected()[0].1.contains("empty body"));
    }

    #[test]
    fn an_sns_envelope_carries_its_message_id() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/intake/cloudwatch_sns_envelope.json"
        );
        let body = std::fs::read(path).unwrap();
        let items = read(&body);
        assert_eq!(items.accepted(), 1);
        assert!(matches!(
            &items.items[0],
            Incoming::Message { delivery: Some(id), .. } if id == "sns:a1b2c3d4-5678-90ab-cdef-111111111111"
        ));
    }
}
