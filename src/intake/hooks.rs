//! What agents' own hooks send, read as reports: Claude Code's hook input
//! (JSON on stdin, `hook_event_name` says which hook) and Codex's `notify`
//! program argument (JSON, `type` says what happened).

use serde_json::Value;

use crate::journal::ReportStatus;

/// A report read from a hook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookReport {
    pub status: Option<ReportStatus>,
    pub message: Option<String>,
    pub source: &'static str,
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

/// Claude Code's hook input: `Stop` means the agent finished its turn,
/// `Notification` that it waits for the operator (its `message` says why);
/// tool hooks are activity.
pub fn claude_hook(json: &str) -> Result<HookReport, String> {
    let obj = object(json, "Claude Code hook input")?;
    let event =
        text(&obj, "hook_event_name").ok_or("Claude Code hook input has no \"hook_event_name\"")?;
    let (status, message) = match event.as_str() {
        "Stop" | "SubagentStop" => (
            Some(ReportStatus::Done),
            text(&obj, "last_assistant_message"),
        ),
        "Notification" => (Some(ReportStatus::Waiting), text(&obj, "message")),
        "PreToolUse" | "PostToolUse" => {
            (None, text(&obj, "tool_name").map(|t| format!("using {t}")))
        }
        _ => (None, Some(format!("{event} hook"))),
    };
    Ok(HookReport {
        status,
        message,
        source: "claude-hook",
    })
}

/// Codex's `notify` argument: `agent-turn-complete` means the agent
/// finished its turn; its last message is kept.
pub fn codex_notify(json: &str) -> Result<HookReport, String> {
    let obj = object(json, "Codex notification")?;
    let kind = text(&obj, "type").ok_or("Codex notification has no \"type\"")?;
    let (status, message) = match kind.as_str() {
        "agent-turn-complete" => (
            Some(ReportStatus::Done),
            text(&obj, "last-assistant-message"),
        ),
        other => (None, Some(format!("codex: {other}"))),
    };
    Ok(HookReport {
        status,
        message,
        source: "codex-notify",
    })
}

#[cfg(test)]
mod tests {
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
        assert_eq!(
            claude_hook(tool).unwrap().message.as_deref(),
            Some("using Edit")
        );
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
    }
}
