//! The native message format of DESIGN.md, one object with a `type` field:
//!
//! ```json
//! {"type":"task","project":"api","prompt":"fix the login button"}
//! {"type":"ticket","key":"OPS-12","title":"…","body":"…","project":"api"}
//! {"type":"alarm","account":"123456789012","name":"HighCPU","state":"ALARM","at":"2026-01-01T00:00:00Z"}
//! ```

use serde_json::Value;

use super::fields::{Object, describe, optional_str, required_id, required_str};
use crate::model::{AlarmMessage, AlarmState, Message, TaskMessage, TicketMessage, Timestamp};

pub fn parse(obj: &Object) -> Result<Message, String> {
    match obj.get("type") {
        Some(Value::String(t)) => match t.as_str() {
            "task" => task(obj).map(Message::Task),
            "ticket" => ticket(obj).map(Message::Ticket),
            "alarm" => alarm(obj).map(Message::Alarm),
            other => Err(format!(
                "unknown message type {other:?}; expected task, ticket or alarm"
            )),
        },
        Some(other) => Err(format!(
            "\"type\" must be a string (task, ticket or alarm), not {}",
            describe(other)
        )),
        None => Err("message has no \"type\"".to_string()),
    }
}

fn task(obj: &Object) -> Result<TaskMessage, String> {
    let what = "task message";
    let priority = match obj.get("priority") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(
            n.as_i64()
                .ok_or_else(|| format!("{what}: \"priority\" must be a whole number, not {n}"))?,
        ),
        Some(other) => {
            return Err(format!(
                "{what}: \"priority\" must be a number, not {}",
                describe(other)
            ));
        }
    };
    Ok(TaskMessage {
        project: optional_str(obj, "project", what)?,
        prompt: required_str(obj, "prompt", what)?,
        title: optional_str(obj, "title", what)?,
        agent: optional_str(obj, "agent", what)?,
        priority,
    })
}

fn ticket(obj: &Object) -> Result<TicketMessage, String> {
    let what = "ticket message";
    Ok(TicketMessage {
        key: required_str(obj, "key", what)?,
        title: required_str(obj, "title", what)?,
        body: optional_str(obj, "body", what)?.unwrap_or_default(),
        project: optional_str(obj, "project", what)?,
        event: None,
    })
}

fn alarm(obj: &Object) -> Result<AlarmMessage, String> {
    let what = "alarm message";
    let state = AlarmState::parse(&required_str(obj, "state", what)?)?;
    let at = optional_str(obj, "at", what)?
        .map(|t| Timestamp::parse(&t).map_err(|e| format!("{what}: \"at\": {e}")))
        .transpose()?;
    Ok(AlarmMessage {
        account: required_id(obj, "account", what)?,
        name: required_str(obj, "name", what)?,
        state,
        at,
        reason: optional_str(obj, "reason", what)?,
        region: optional_str(obj, "region", what)?,
    })
}
