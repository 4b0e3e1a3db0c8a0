//! The messages that bring work, in one normal form whatever their source
//! (a native message, a CloudWatch notification, a Jira webhook).

use serde::{Deserialize, Serialize};

use super::Timestamp;

/// One unit of intake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Message {
    Task(TaskMessage),
    Ticket(TicketMessage),
    Alarm(AlarmMessage),
}

impl Message {
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Task(_) => "task",
            Message::Ticket(_) => "ticket",
            Message::Alarm(_) => "alarm",
        }
    }
}

/// Work an operator asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskMessage {
    pub project: Option<String>,
    pub prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// The jobs it waits for: it starts once they are merged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<i64>,
}

/// A work item of a ticket system, unique by key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketMessage {
    pub key: String,
    pub title: String,
    #[serde(default)]
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// What the ticket system said happened (`jira:issue_updated`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
}

/// The state a monitoring alarm moved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlarmState {
    #[serde(rename = "ALARM")]
    Alarm,
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl AlarmState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Alarm => "ALARM",
            AlarmState::Ok => "OK",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    /// Reads a state as CloudWatch and the native format write it
    /// (case-insensitive).
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim().to_ascii_uppercase().as_str() {
            "ALARM" => Ok(AlarmState::Alarm),
            "OK" => Ok(AlarmState::Ok),
            "INSUFFICIENT_DATA" => Ok(AlarmState::InsufficientData),
            _ => Err(format!(
                "alarm state {text:?} is not one of ALARM, OK, INSUFFICIENT_DATA"
            )),
        }
    }
}

/// A monitoring alarm of one account changing state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmMessage {
    pub account: String,
    pub name: String,
    pub state: AlarmState,
    /// The alarm's own time of change, when the message carries one; else
    /// the chain uses the time it arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Timestamp>,
    /// Why it changed, as the monitoring system says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}
