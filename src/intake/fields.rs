//! Reading fields out of JSON objects with reasons an operator understands.

use serde_json::{Map, Value};

pub type Object = Map<String, Value>;

/// "a string", "an array", … for error messages.
pub fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A required, non-empty string field of a `what` message.
pub fn required_str(obj: &Object, key: &str, what: &str) -> Result<String, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Err(format!("{what} is missing \"{key}\"")),
        Some(Value::String(s)) if s.trim().is_empty() => Err(format!("{what} has an empty \"{key}\"")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(format!(
            "{what}: \"{key}\" must be a string, not {}",
            describe(other)
        )),
    }
}

/// An optional string field; null and absent are the same.
pub fn optional_str(obj: &Object, key: &str, what: &str) -> Result<Option<String>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!(
            "{what}: \"{key}\" must be a string, not {}",
            describe(other)
        )),
    }
}

/// A required identifier that some systems send as a number (account ids).
pub fn required_id(obj: &Object, key: &str, what: &str) -> Result<String, String> {
    match obj.get(key) {
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => required_str(obj, key, what),
    }
}

/// A nested object, or `None`.
pub fn object<'a>(obj: &'a Object, key: &str) -> Option<&'a Object> {
    obj.get(key).and_then(Value::as_object)
}
