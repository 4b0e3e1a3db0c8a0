//! What agents' own hooks send, read as reports: Claude Code's hook input
//! (JSON on stdin, `hook_event_name` says which hook) and Codex's `notify`
//! program argument (JSON, `type` says what happened).

use serde_json::Value;

use crate::journal::{ReportSource, ReportStatus};

/// A report read from a hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookReport {
    pub status: Option<ReportStatus>,
    pub message: Option<String>,
    pub source: ReportSource,
}

fn object(json: &str, what: &str) -> Result<serde_json::Map<String, Value>, String> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err(format!("{what}: expected a JSON object")),
        Err(e) => Err(format!("{what}: malformed JSON: {e}")),
    }
}

fn text(obj: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key)
        .and_then(Value::as_str)
        .map(|s| short(s.trim()))
        .filter(|s| !s.is_empty())
}

/// At most 300 characters, on one line.
fn short(s: &str) -> String {
    let line = s.replace(['\n', '\r'], " ");
    if line.chars().count() > 300 {
        let mut cut: String = line.chars().take(299).collect();
        cut.push('…');
        cut
    } else {
        line
    }
}

/// Claude Code's hook input: `Stop` means the agent finished its turn;
/// `PermissionRequest` (drawn with the question, within 0.05 s) and a
/// `Notification` about a permission mean it waits for the operator;
/// `UserPromptSubmit` and the tool hooks mean it works (the evidence that
/// it took up its task). A `Notification` that it has been idle says
/// nothing new.
pub fn claude_hook(json: &str) -> Result<HookReport, String> {
    claude_hook_fields(object(json, "Claude Code hook input")?)
}

/// The most of a hook's input that `switchboard report` reads: hooks pass
/// on a tool's whole input and output (a file written, a command's
/// output), which can be any size, and a report needs a few short fields.
pub const MAX_HOOK_INPUT: usize = 1 << 20;

/// The top-level fields of Claude Code's hook input that a report reads.
const HOOK_FIELDS: [&str; 6] = [
    "hook_event_name",
    "tool_name",
    "last_assistant_message",
    "error",
    "notification_type",
    "message",
];

/// [`claude_hook`] from the first [`MAX_HOOK_INPUT`] bytes of an input
/// that is longer: its fields are read up to the cut (the fields a report
/// reads come before a tool's input and output in Claude Code's order), the
/// others skipped without being kept. An error when the cut came before
/// `hook_event_name`, or the head is not JSON.
pub fn claude_hook_head(head: &[u8]) -> Result<HookReport, String> {
    use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
    struct Collect<'a>(&'a mut serde_json::Map<String, Value>);
    impl<'de> DeserializeSeed<'de> for Collect<'_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for Collect<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                if HOOK_FIELDS.contains(&key.as_str()) {
                    let value: Value = map.next_value()?;
                    self.0.insert(key, value);
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(())
        }
    }
    let mut fields = serde_json::Map::new();
    let mut de = serde_json::Deserializer::from_slice(head);
    match Collect(&mut fields).deserialize(&mut de) {
        // Cut short: what came before the cut stands.
        Err(e) if e.is_eof() => {}
        Err(e) => return Err(format!("Claude Code hook input: malformed JSON: {e}")),
        Ok(()) => {}
    }
    if !fields.contains_key("hook_event_name") {
        return Err(format!(
            "Claude Code hook input over {} KiB without \"hook_event_name\" in its first {} KiB; nothing reported",
            MAX_HOOK_INPUT / 1024,
            MAX_HOOK_INPUT / 1024
        ));
    }
    claude_hook_fields(fields)
}

fn claude_hook_fields(obj: serde_json::Map<String, Value>) -> Result<HookReport, String> {
    let event =
        text(&obj, "hook_event_name").ok_or("Claude Code hook input has no \"hook_event_name\"")?;
    let tool = || text(&obj, "tool_name").unwrap_or_else(|| "a tool".into());
    let (status, message) = match event.as_str() {
        "Stop" | "SubagentStop" => (
            Some(ReportStatus::Done),
            text(&obj, "last_assistant_message"),
        ),
        // The turn ended on an API error (no Stop hook runs then).
        "StopFailure" => (
            Some(ReportStatus::Failed),
            Some(format!(
                "the turn ended on an error: {}",
                text(&obj, "error").unwrap_or_else(|| "unknown".into())
            )),
        ),
        "PermissionRequest" => (
            Some(ReportStatus::Waiting),
            Some(format!("asks to use {}", tool())),
        ),
        "Notification" => {
            let kind = text(&obj, "notification_type").unwrap_or_default();
            let message = text(&obj, "message");
            let idle = kind == "idle_prompt"
                || message
                    .as_deref()
                    .is_some_and(|m| m.contains("waiting for your input"));
            if idle {
                (None, message)
            } else {
                (Some(ReportStatus::Waiting), message)
            }
        }
        "UserPromptSubmit" => (Some(ReportStatus::Working), Some("took the prompt".into())),
        "PreToolUse" => (
            Some(ReportStatus::Working),
            Some(format!("using {}", tool())),
        ),
        "PostToolUse" => (
            Some(ReportStatus::Working),
            Some(format!("used {}", tool())),
        ),
        _ => (None, Some(format!("{event} hook"))),
    };
    Ok(HookReport {
        status,
        message,
        source: ReportSource::ClaudeHook,
    })
}

/// Codex's `notify` argument: `agent-turn-complete` means the agent
/// finished its turn; its last message is kept. Codex also runs `notify`
/// for its own title-generation turn, seconds after it starts: that turn
/// is no sign of the task's end and says nothing.
pub fn codex_notify(json: &str) -> Result<HookReport, String> {
    let obj = object(json, "Codex notification")?;
    let kind = text(&obj, "type").ok_or("Codex notification has no \"type\"")?;
    let (status, message) = match kind.as_str() {
        "agent-turn-complete" if is_title_turn(&obj) => {
            (None, Some("codex: title generation turn".into()))
        }
        "agent-turn-complete" => (
            Some(ReportStatus::Done),
            text(&obj, "last-assistant-message"),
        ),
        other => (None, Some(format!("codex: {other}"))),
    };
    Ok(HookReport {
        status,
        message,
        source: ReportSource::CodexNotify,
    })
}

/// Codex's internal turn that names the session (Codex 0.169-0.171: its
/// input asks for "a concise, single-line task title").
fn is_title_turn(obj: &serde_json::Map<String, Value>) -> bool {
    obj.get("input-messages")
        .and_then(Value::as_array)
        .and_then(|m| m.first())
        .and_then(Value::as_str)
        .is_some_and(|m| m.starts_with("Generate a concise") && m.contains("title"))
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_cut_hook_input_reports_the_fields_before_the_cut() {
        let head = br#"{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Write","tool_input":{"content":"aaaa"#;
        let r = claude_hook_head(head).unwrap();
        assert_eq!(r.status, Some(ReportStatus::Working));
        assert_eq!(r.message.as_deref(), Some("using Write"));
        // Cut before the event: nothing to say, said clearly.
        let err = claude_hook_head(br#"{"tool_input":{"content":"aaaa"#).unwrap_err();
        assert!(err.contains("hook_event_name"), "{err}");
        // Not JSON at all.
        let err = claude_hook_head(b"not json at all").unwrap_err();
        assert!(err.contains("malformed"), "{err}");
        // Whole, it reads as claude_hook does.
        let whole = br#"{"hook_event_name":"Stop","last_assistant_message":"done"}"#;
        assert_eq!(
            claude_hook_head(whole).unwrap(),
            claude_hook(std::str::from_utf8(whole).unwrap()).unwrap()
        );
    }
    use super::*;

    #[test]
    fn claude_stop_is_done_and_notification_is_waiting() {
        let stop = r#"{"session_id":"abc","transcript_path":"/tmp/t.jsonl","cwd":"/w","hook_event_name":"Stop","stop_hook_active":false}"#;
        assert_eq!(claude_hook(stop).unwrap().status, Some(ReportStatus::Done));
        let note = r#"{"session_id":"abc","transcript_path":"/tmp/t.jsonl","hook_event_name":"Notification","message":"Claude needs your permission to use Bash"}"#;
        let r = claude_hook(note).unwrap();
        assert_eq!(r.status, Some(ReportStatus::Waiting));
        assert_eq!(
            r.message.as_deref(),
            Some("Claude needs your permission to use Bash")
        );
        let tool = r#"{"hook_event_name":"PreToolUse","tool_name":"Edit","tool_input":{}}"#;
        let r = claude_hook(tool).unwrap();
        assert_eq!(r.message.as_deref(), Some("using Edit"));
        assert_eq!(r.status, Some(ReportStatus::Working));
        let failure =
            r#"{"hook_event_name":"StopFailure","error":"server_error","error_details":"500"}"#;
        let r = claude_hook(failure).unwrap();
        assert_eq!(r.status, Some(ReportStatus::Failed));
        assert!(r.message.unwrap().contains("server_error"));
        let ask = r#"{"hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{"command":"touch x"}}"#;
        let r = claude_hook(ask).unwrap();
        assert_eq!(r.status, Some(ReportStatus::Waiting));
        assert_eq!(r.message.as_deref(), Some("asks to use Bash"));
        let idle = r#"{"hook_event_name":"Notification","notification_type":"idle_prompt","message":"Claude is waiting for your input"}"#;
        assert_eq!(claude_hook(idle).unwrap().status, None);
        assert!(claude_hook("{}").unwrap_err().contains("hook_event_name"));
        assert!(claude_hook("[").unwrap_err().contains("malformed JSON"));
    }

    #[test]
    fn codex_turn_complete_is_done_with_its_last_message() {
        let json = r#"{"type":"agent-turn-complete","turn-id":"12","input-messages":["fix it"],"last-assistant-message":"Fixed the login button."}"#;
        let r = codex_notify(json).unwrap();
        assert_eq!(r.status, Some(ReportStatus::Done));
        assert_eq!(r.message.as_deref(), Some("Fixed the login button."));
        assert_eq!(codex_notify(r#"{"type":"other"}"#).unwrap().status, None);
        // Recorded from Codex 0.171 a few seconds after it started.
        let title = r#"{"type":"agent-turn-complete","thread-id":"t","turn-id":"u","cwd":"/w","client":"codex-tui","input-messages":["Generate a concise, single-line task title of at most 36 characters and under five words where possible.\n\nUser prompt:\ncreate the file"],"last-assistant-message":"{\"title\":\"Create the file\"}"}"#;
        assert_eq!(codex_notify(title).unwrap().status, None);
    }
}
