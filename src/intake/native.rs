//! The native message format of DESIGN.md, one object with a `type` field:
//!
//! ```json
//! {"type":"task","project":"api","prompt":"fix the login button"}
//! {"type":"ticket","key":"OPS-12","title":"…","body":"…","project":"api"}
//! {"type":"alarm","account":"123456789012","name":"HighCPU","state":"ALARM","at":"2026-01-01T00:00:00Z"}
//! ```
//!
//! Native messages arrive in bulk, so they are first read into [`Fast`], a
//! borrowed struct that allocates nothing; a line that does not fit it (a
//! number where text belongs, a string with escapes, a duplicate key, …) is
//! read again as a JSON object, whose errors are precise. Both go through the same rules.

use serde::Deserialize;

use super::fields::{
    Field, Fields, optional_ids, optional_int, optional_str, required_account, required_str,
};
use crate::model::{AlarmMessage, AlarmState, Message, TaskMessage, TicketMessage, Timestamp};

/// A native message read without allocating, when it has the usual shape.
/// An unknown field, or a known one twice, sends the line to the strict
/// path (see `strict`), which refuses any duplicate key as ambiguous.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fast<'a> {
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    project: Option<&'a str>,
    prompt: Option<&'a str>,
    title: Option<&'a str>,
    agent: Option<&'a str>,
    priority: Option<i64>,
    key: Option<&'a str>,
    body: Option<&'a str>,
    account: Option<&'a str>,
    name: Option<&'a str>,
    state: Option<&'a str>,
    at: Option<&'a str>,
    reason: Option<&'a str>,
    region: Option<&'a str>,
    event: Option<&'a str>,
}

impl Fast<'_> {
    /// Whether this is a native message at all (it has a `type`).
    pub fn is_native(&self) -> bool {
        self.kind.is_some()
    }
}

impl Fields for Fast<'_> {
    fn field(&self, key: &str) -> Field<'_> {
        let text = match key {
            "type" => &self.kind,
            "project" => &self.project,
            "prompt" => &self.prompt,
            "title" => &self.title,
            "agent" => &self.agent,
            "priority" => return self.priority.map_or(Field::Absent, Field::Int),
            "key" => &self.key,
            "body" => &self.body,
            "account" => &self.account,
            "name" => &self.name,
            "state" => &self.state,
            "at" => &self.at,
            "reason" => &self.reason,
            "region" => &self.region,
            "event" => &self.event,
            _ => return Field::Absent,
        };
        text.map_or(Field::Absent, Field::Str)
    }
}

pub fn parse(obj: &impl Fields) -> Result<Message, String> {
    match obj.field("type") {
        Field::Str(t) => match t {
            "task" => task(obj).map(Message::Task),
            "ticket" => ticket(obj).map(Message::Ticket),
            "alarm" => alarm(obj).map(Message::Alarm),
            other => Err(format!(
                "unknown message type {other:?}; expected task, ticket or alarm"
            )),
        },
        Field::Int(_) | Field::OutOfRange => {
            Err("\"type\" must be a string (task, ticket or alarm), not a number".into())
        }
        Field::Other(found) => Err(format!(
            "\"type\" must be a string (task, ticket or alarm), not {found}"
        )),
        Field::List(_) => {
            Err("\"type\" must be a string (task, ticket or alarm), not an array".into())
        }
        Field::Absent => Err("message has no \"type\"".to_string()),
    }
}

fn task(obj: &impl Fields) -> Result<TaskMessage, String> {
    let what = "task message";
    Ok(TaskMessage {
        project: optional_str(obj, "project", what)?,
        prompt: required_str(obj, "prompt", what)?,
        title: optional_str(obj, "title", what)?,
        agent: optional_str(obj, "agent", what)?,
        priority: optional_int(obj, "priority", what)?,
        after: optional_ids(obj, "after", what)?,
    })
}

fn ticket(obj: &impl Fields) -> Result<TicketMessage, String> {
    let what = "ticket message";
    Ok(TicketMessage {
        key: required_str(obj, "key", what)?,
        title: required_str(obj, "title", what)?,
        body: optional_str(obj, "body", what)?.unwrap_or_default(),
        project: optional_str(obj, "project", what)?,
        event: optional_str(obj, "event", what)?,
    })
}

fn alarm(obj: &impl Fields) -> Result<AlarmMessage, String> {
    let what = "alarm message";
    let state = AlarmState::parse(&required_str(obj, "state", what)?)?;
    let at = optional_str(obj, "at", what)?
        .map(|t| Timestamp::parse(&t).map_err(|e| format!("{what}: \"at\": {e}")))
        .transpose()?;
    Ok(AlarmMessage {
        account: required_account(obj, "account", what)?,
        name: required_str(obj, "name", what)?,
        state,
        at,
        reason: optional_str(obj, "reason", what)?,
        region: optional_str(obj, "region", what)?,
    })
}
