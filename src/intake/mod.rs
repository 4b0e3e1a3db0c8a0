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

use crate::journal::Incoming;
use crate::model::Message;

/// Reads one message from one line (or one document) of bytes.
pub fn parse_message(bytes: &[u8]) -> Result<Message, String> {
    parse_delivered(bytes).map(|(message, _)| message)
}

/// Reads one line (or one document) into an intake item: the message with
/// the id of its delivery when it came in an SNS envelope (`sns:MessageId`,
/// so that SNS delivering it again, through any intake, journals it once),
/// or the reason it cannot be read, with its bytes.
pub fn read_item(bytes: Vec<u8>, line: Option<u64>) -> Incoming {
    match parse_delivered(&bytes) {
        Ok((message, delivery)) => Incoming::Message { message, delivery },
        Err(reason) => Incoming::Rejected {
            line,
            reason,
            raw: bytes,
        },
    }
}

/// The longest SNS MessageId kept (they are UUIDs); a longer one is not
/// trusted as an id, and its message is journaled without one.
const MAX_DELIVERY_ID: usize = 128;

/// [`parse_message`], with the SNS MessageId of an envelope.
fn parse_delivered(bytes: &[u8]) -> Result<(Message, Option<String>), String> {
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
        return native::parse(&fast)
            .and_then(limits::check)
            .map(|m| (m, None));
    }
    let value = strict::parse(text)?;
    let delivery = match &value {
        Value::Object(obj) if cloudwatch::is_sns_envelope(obj) => obj
            .get("MessageId")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty() && id.len() <= MAX_DELIVERY_ID)
            .map(|id| format!("sns:{id}")),
        _ => None,
    };
    parse_value(value).map(|m| (m, delivery))
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
