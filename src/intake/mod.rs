//! Intake: turning the bytes that arrive into [`Message`]s, or into a clear
//! reason why not.
//!
//! Parsing is pure; journaling the result is the journal's job. Every shape
//! is recognised by its fields, so monitoring and ticket systems can post
//! what they send as it comes:
//!
//! - native messages with a `type` field ([`native`]);
//! - Amazon CloudWatch alarm notifications: the SNS message body, the whole
//!   SNS envelope, or the EventBridge event ([`cloudwatch`]);
//! - Jira webhooks ([`jira`]).

pub mod cloudwatch;
mod fields;
pub mod hooks;
mod ingest;
pub mod jira;
pub mod limits;
mod lines;
pub mod native;
mod strict;

pub use ingest::{BATCH, IngestError, IngestReport, ingest_lines};
pub use lines::{Line, LineReader, MAX_MESSAGE_BYTES};

use serde_json::Value;

use crate::model::Message;

/// Reads one message from one line (or one document) of bytes.
pub fn parse_message(bytes: &[u8]) -> Result<Message, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        format!(
            "not valid UTF-8 (bad byte at offset {}); messages are UTF-8 JSON",
            e.valid_up_to()
        )
    })?;
    if text.trim().is_empty() {
        return Err("empty line; expected one JSON message".to_string());
    }
    if let Ok(fast) = serde_json::from_str::<native::Fast>(text)
        && fast.is_native()
    {
        return native::parse(&fast).and_then(limits::check);
    }
    parse_value(strict::parse(text)?)
}

/// Reads one message from parsed JSON, whatever its source, within the
/// limits of [`limits`].
pub fn parse_value(value: Value) -> Result<Message, String> {
    shape(value).and_then(limits::check)
}

fn shape(value: Value) -> Result<Message, String> {
    let Value::Object(obj) = value else {
        return Err(format!(
            "expected a JSON object, found {}",
            fields::describe(&value)
        ));
    };
    if obj.contains_key("type") && !cloudwatch::is_sns_envelope(&obj) {
        native::parse(&obj)
    } else if obj.contains_key("webhookEvent") {
        jira::parse(&obj)
    } else if let Some(result) = cloudwatch::parse(&obj) {
        result
    } else {
        Err(
            "not a message switchboard knows: expected a \"type\" field (task, ticket or alarm), \
             a CloudWatch alarm notification (AlarmName, AWSAccountId, NewStateValue) \
             or a Jira webhook (webhookEvent, issue)"
                .to_string(),
        )
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
