//! Amazon CloudWatch alarm notifications, in the three shapes they arrive:
//!
//! - the SNS message body (`AlarmName`, `AWSAccountId`, `NewStateValue`,
//!   `NewStateReason`, `StateChangeTime`, `Region`, …), which is what an
//!   SNS subscription with raw message delivery posts;
//! - the SNS envelope (`"Type": "Notification"`, the body as a JSON string
//!   in `Message`), which is what an HTTP subscription posts;
//! - the EventBridge event (`"detail-type": "CloudWatch Alarm State Change"`),
//!   bare or in an SNS envelope (an EventBridge rule whose target is a topic).

use serde_json::Value;

use super::fields::{Object, object, optional_str, required_account, required_str};
use crate::model::{AlarmMessage, AlarmState, Message, Timestamp};

/// An SNS envelope also has a `Type` field; it must not be read as native.
pub fn is_sns_envelope(obj: &Object) -> bool {
    obj.get("Type").and_then(Value::as_str) == Some("Notification") && obj.contains_key("Message")
}

/// `None` when the object is none of the CloudWatch shapes.
pub fn parse(obj: &Object) -> Option<Result<Message, String>> {
    if obj.contains_key("AlarmName") {
        Some(sns_body(obj).map(Message::Alarm))
    } else if is_sns_envelope(obj) {
        Some(sns_envelope(obj))
    } else if is_eventbridge(obj) {
        Some(eventbridge(obj).map(Message::Alarm))
    } else {
        None
    }
}

fn is_eventbridge(obj: &Object) -> bool {
    obj.get("detail-type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.starts_with("CloudWatch Alarm"))
}

fn sns_body(obj: &Object) -> Result<AlarmMessage, String> {
    let what = "CloudWatch alarm";
    let state = AlarmState::parse(&required_str(obj, "NewStateValue", what)?)?;
    let at = optional_str(obj, "StateChangeTime", what)?
        .map(|t| Timestamp::parse(&t).map_err(|e| format!("{what}: \"StateChangeTime\": {e}")))
        .transpose()?;
    Ok(AlarmMessage {
        account: required_account(obj, "AWSAccountId", what)?,
        name: required_str(obj, "AlarmName", what)?,
        state,
        at,
        reason: optional_str(obj, "NewStateReason", what)?,
        region: optional_str(obj, "Region", what)?,
    })
}

fn sns_envelope(obj: &Object) -> Result<Message, String> {
    let inner = required_str(obj, "Message", "SNS notification")?;
    let value =
        super::strict::parse(&inner).map_err(|e| format!("SNS notification: \"Message\": {e}"))?;
    match value {
        Value::Object(body) if body.contains_key("AlarmName") => {
            sns_body(&body).map(Message::Alarm)
        }
        // An EventBridge rule whose target is an SNS topic.
        Value::Object(event) if is_eventbridge(&event) => eventbridge(&event).map(Message::Alarm),
        _ => Err(
            "SNS notification: \"Message\" is not a CloudWatch alarm (no AlarmName, \
             no \"detail-type\": \"CloudWatch Alarm State Change\")"
                .to_string(),
        ),
    }
}

fn eventbridge(obj: &Object) -> Result<AlarmMessage, String> {
    let what = "CloudWatch alarm event";
    let detail = object(obj, "detail").ok_or_else(|| format!("{what} has no \"detail\""))?;
    let state = object(detail, "state").ok_or_else(|| format!("{what} has no \"detail.state\""))?;
    let value = AlarmState::parse(&required_str(state, "value", what)?)?;
    let time = optional_str(state, "timestamp", what)?.or(optional_str(obj, "time", what)?);
    let at = time
        .map(|t| Timestamp::parse(&t).map_err(|e| format!("{what}: time: {e}")))
        .transpose()?;
    Ok(AlarmMessage {
        account: required_account(obj, "account", what)?,
        name: required_str(detail, "alarmName", what)?,
        state: value,
        at,
        reason: optional_str(state, "reason", what)?,
        region: optional_str(obj, "region", what)?,
    })
}
