//! Reading fields out of messages with reasons an operator understands.
//!
//! The readers work on anything that is [`Fields`]: a parsed JSON object, or
//! the borrowed fast form of a native message (see `native::Fast`), so the
//! rules and their error messages exist once.

use serde_json::{Map, Value};

pub type Object = Map<String, Value>;

/// One field as the readers see it.
pub enum Field<'a> {
    Absent,
    Str(&'a str),
    Int(i64),
    /// A whole number beyond what a 64-bit integer holds.
    OutOfRange,
    /// An array (only a parsed object has them; the fast form sends a
    /// message with one to the strict path).
    List(&'a [Value]),
    /// Anything else, described ("a boolean", "a number", …).
    Other(&'static str),
}

/// Something fields can be read from by name.
pub trait Fields {
    fn field(&self, key: &str) -> Field<'_>;
}

impl Fields for Object {
    fn field(&self, key: &str) -> Field<'_> {
        match self.get(key) {
            None | Some(Value::Null) => Field::Absent,
            Some(Value::String(s)) => Field::Str(s),
            Some(Value::Number(n)) => whole(n),
            Some(Value::Array(items)) => Field::List(items),
            Some(other) => Field::Other(describe(other)),
        }
    }
}

/// A JSON number as a whole number. JSON has one kind of number, so
/// `1000000.0`, `5e2` and `-0` are the whole numbers they are written as
/// (serde_json reads them as floats); a fraction is refused as one, and a
/// whole number past i64 (a u64, or a float without fraction) is out of
/// range.
pub fn whole(n: &serde_json::Number) -> Field<'static> {
    // 2^63: every whole f64 below it in magnitude is an i64.
    const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;
    match (n.as_i64(), n.as_f64()) {
        (Some(i), _) => Field::Int(i),
        _ if n.is_u64() => Field::OutOfRange,
        (None, Some(f)) if f.fract() == 0.0 && f.abs() < I64_BOUND => Field::Int(f as i64),
        (None, Some(f)) if f.fract() == 0.0 => Field::OutOfRange,
        _ => Field::Other("a fraction"),
    }
}

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

fn not_a_string(what: &str, key: &str, found: &str) -> String {
    format!("{what}: \"{key}\" must be a string, not {found}")
}

/// A required, non-empty string field of a `what` message.
pub fn required_str(obj: &impl Fields, key: &str, what: &str) -> Result<String, String> {
    match obj.field(key) {
        Field::Absent => Err(format!("{what} is missing \"{key}\"")),
        Field::Str(s) if s.trim().is_empty() => Err(format!("{what} has an empty \"{key}\"")),
        Field::Str(s) => Ok(s.to_string()),
        Field::Int(_) | Field::OutOfRange => Err(not_a_string(what, key, "a number")),
        Field::List(_) => Err(not_a_string(what, key, "an array")),
        Field::Other(found) => Err(not_a_string(what, key, found)),
    }
}

/// An optional string field; null and absent are the same.
pub fn optional_str(obj: &impl Fields, key: &str, what: &str) -> Result<Option<String>, String> {
    match obj.field(key) {
        Field::Absent => Ok(None),
        Field::Str(s) => Ok(Some(s.to_string())),
        Field::Int(_) | Field::OutOfRange => Err(not_a_string(what, key, "a number")),
        Field::List(_) => Err(not_a_string(what, key, "an array")),
        Field::Other(found) => Err(not_a_string(what, key, found)),
    }
}

/// The most digits of an account id: AWS account ids are exactly 12
/// digits (leading zeros included); other monitors' accounts may be
/// shorter, never longer, and never anything but digits.
pub const ACCOUNT_DIGITS: usize = 12;

/// An account id: 1 to 12 digits, as a string or a non-negative number.
pub fn required_account(obj: &impl Fields, key: &str, what: &str) -> Result<String, String> {
    let refuse = |found: &str| {
        format!(
            "{what}: \"{key}\" must be an account id of 1 to {ACCOUNT_DIGITS} digits \
             (AWS account ids are 12), not {found}"
        )
    };
    let id = match obj.field(key) {
        Field::Int(n) => n.to_string(),
        Field::OutOfRange => return Err(refuse("a number out of range")),
        _ => required_str(obj, key, what)?,
    };
    if id.is_empty() || id.len() > ACCOUNT_DIGITS || !id.bytes().all(|b| b.is_ascii_digit()) {
        let shown: String = id.chars().take(40).collect();
        return Err(refuse(&format!("{shown:?}")));
    }
    Ok(id)
}

/// An optional whole number.
pub fn optional_int(obj: &impl Fields, key: &str, what: &str) -> Result<Option<i64>, String> {
    match obj.field(key) {
        Field::Absent => Ok(None),
        Field::Int(n) => Ok(Some(n)),
        Field::Str(_) => Err(format!("{what}: \"{key}\" must be a number, not a string")),
        Field::OutOfRange => Err(format!(
            "{what}: \"{key}\" is out of range: whole numbers go from {} to {}",
            i64::MIN,
            i64::MAX
        )),
        Field::List(_) => Err(format!(
            "{what}: \"{key}\" must be a whole number, not an array"
        )),
        Field::Other(found) => Err(format!(
            "{what}: \"{key}\" must be a whole number, not {found}"
        )),
    }
}

/// An optional list of job ids (`"after": [12, 14]`), or one id alone;
/// absent, null and `[]` are no ids.
pub fn optional_ids(obj: &impl Fields, key: &str, what: &str) -> Result<Vec<i64>, String> {
    let refuse = |found: &str| {
        format!("{what}: \"{key}\" must be a list of job ids such as [12, 14], not {found}")
    };
    let items = match obj.field(key) {
        Field::Absent => return Ok(Vec::new()),
        Field::Int(n) => return Ok(vec![n]),
        Field::List(items) => items,
        Field::Str(_) => return Err(refuse("a string")),
        Field::OutOfRange => return Err(refuse("a number out of range")),
        Field::Other(found) => return Err(refuse(found)),
    };
    items
        .iter()
        .map(|item| match item {
            Value::Number(n) => match whole(n) {
                Field::Int(id) => Ok(id),
                Field::OutOfRange => Err(refuse("a list holding a number out of range")),
                _ => Err(refuse("a list holding a fraction")),
            },
            other => Err(refuse(&format!("a list holding {}", describe(other)))),
        })
        .collect()
}

/// A nested object, or `None`.
pub fn object<'a>(obj: &'a Object, key: &str) -> Option<&'a Object> {
    obj.get(key).and_then(Value::as_object)
}
