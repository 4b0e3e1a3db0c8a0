//! Finding the line of a key in the operator's config file, so that an
//! error says where to look.

use serde_path_to_error::{Path, Segment};
use toml::de::{DeTable, DeValue};

/// 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The key path of a deserialisation error, as names.
pub fn segments(path: &Path) -> Vec<String> {
    path.iter()
        .filter_map(|s| match s {
            Segment::Map { key } => Some(key.clone()),
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .collect()
}

/// The field that serde's "unknown field `x`" message names.
pub fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest[..rest.find('`')?].to_string())
}

/// The line where `key` (or the deepest part of it the file has) is written.
pub fn line_of_key(text: &str, key: &[String]) -> Option<usize> {
    let table = DeTable::parse(text).ok()?;
    let mut current = table.get_ref();
    let mut found = None;
    for (i, segment) in key.iter().enumerate() {
        let (k, v) = current
            .iter()
            .find(|(k, _)| k.get_ref().as_ref() == segment.as_str())?;
        found = Some(if i + 1 == key.len() {
            k.span().start
        } else {
            v.span().start.min(k.span().start)
        });
        match v.get_ref() {
            DeValue::Table(t) => current = t,
            DeValue::Array(items) => {
                if let Some(index) = key.get(i + 1).and_then(|s| s.parse::<usize>().ok())
                    && let Some(item) = items.get(index)
                {
                    found = Some(item.span().start);
                }
                break;
            }
            _ => break,
        }
    }
    found.map(|offset| line_of(text, offset))
}
