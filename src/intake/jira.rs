//! Jira webhooks: `webhookEvent` names what happened, `issue.key` is the
//! ticket's key, `issue.fields.summary` its title and
//! `issue.fields.description` its body, either plain text (REST API v2) or an
//! Atlassian Document Format tree (v3), from which the text is taken.

use serde_json::Value;

use super::fields::{Object, describe, object, required_str};
use crate::model::{Message, TicketMessage};

pub fn parse(obj: &Object) -> Result<Message, String> {
    let what = "Jira webhook";
    let event = required_str(obj, "webhookEvent", what)?;
    let issue =
        object(obj, "issue").ok_or_else(|| format!("{what} {event:?} carries no \"issue\""))?;
    let key = required_str(issue, "key", "Jira issue")?;
    let fields =
        object(issue, "fields").ok_or_else(|| format!("Jira issue {key} has no \"fields\""))?;
    let title = required_str(fields, "summary", &format!("Jira issue {key}"))?;
    let body = match fields.get("description") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(doc)) => document_text(doc),
        Some(other) => {
            return Err(format!(
                "Jira issue {key}: \"description\" must be text or a document, not {}",
                describe(other)
            ));
        }
    };
    Ok(Message::Ticket(TicketMessage {
        key,
        title,
        body,
        project: None,
        event: Some(event),
    }))
}

/// The text of an Atlassian Document Format node: its text leaves, with a
/// line break after each paragraph-like block.
fn document_text(node: &Object) -> String {
    let mut out = String::new();
    collect_text(node, &mut out);
    out.trim_end().to_string()
}

fn collect_text(node: &Object, out: &mut String) {
    if let Some(Value::String(text)) = node.get("text") {
        out.push_str(text);
    }
    if node.get("type").and_then(Value::as_str) == Some("hardBreak") {
        out.push('\n');
    }
    if let Some(Value::Array(children)) = node.get("content") {
        for child in children.iter().filter_map(Value::as_object) {
            collect_text(child, out);
        }
        let block = matches!(
            node.get("type").and_then(Value::as_str),
            Some("paragraph" | "heading" | "listItem" | "codeBlock" | "blockquote")
        );
        if block && !out.ends_with('\n') {
            out.push('\n');
        }
    }
}
