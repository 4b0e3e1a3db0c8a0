//! JSON read strictly: a key that appears twice in one object is refused
//! as ambiguous instead of silently taking the last value (with which a
//! second `"type"` would turn a task into an alarm, or a second `"account"`
//! route an alarm elsewhere than the first one said).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value, error::Category};

/// Parses `text` into a JSON value, refusing duplicate keys at any depth.
/// The error is an operator's reason: where, and what is wrong.
pub fn parse(text: &str) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Strict::deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v.0))
        .map_err(|e| match e.classify() {
            // Raised by the visitor below: its own words.
            Category::Data => e.to_string(),
            _ => format!("malformed JSON: {e}"),
        })?;
    Ok(value)
}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "ambiguous: the key {key:?} appears twice in one object"
                )));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_serde_json_reads() {
        let text = r#"{"a":[1,-2,3.5,"x",null,true,{"b":{}}],"c":"\u001b"}"#;
        assert_eq!(
            parse(text).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
    }

    #[test]
    fn refuses_a_key_twice_at_any_depth() {
        let e = parse(r#"{"a":1,"a":2}"#).unwrap_err();
        assert!(e.starts_with("ambiguous: the key \"a\""), "{e}");
        assert!(e.contains("column"), "{e}");
        assert!(parse(r#"{"x":[{"a":1,"a":1}]}"#).is_err());
        assert!(
            parse(r#"{"a":{"a":1}}"#).is_ok(),
            "the same key in two objects"
        );
    }

    #[test]
    fn malformed_json_says_so() {
        assert!(parse("{").unwrap_err().starts_with("malformed JSON"));
        assert!(parse("{} x").unwrap_err().starts_with("malformed JSON"));
    }
}
