//! Hostile and broken bytes at the boundaries other than the message
//! intake (which intake_fuzz.rs covers): agents' hook payloads, agents'
//! screens, the operator's config file, review comments and answers, times,
//! and SNS envelopes. Each parse ends with a value or a reason, never a
//! panic, whatever it is given.

use std::path::Path;
use std::sync::LazyLock;
use std::time::Duration;

use proptest::prelude::*;
use switchboard::agents::{answer::Choice, question, status};
use switchboard::config::Config;
use switchboard::intake::hooks;
use switchboard::model::{ReviewComment, Timestamp};

/// The built-in profiles (claude, codex, aider, shell, demo), loaded once.
static CONFIG: LazyLock<Config> = LazyLock::new(|| Config::builtin().expect("built-in config"));

/// Text rich in what breaks parsers: control characters, multi-byte
/// characters next to ASCII, the delimiters the formats use.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        any::<char>().prop_map(String::from),
        Just("\u{1b}[".to_string()),
        Just("\u{1b}]0;".to_string()),
        Just("\r".to_string()),
        Just("\n".to_string()),
        Just("\t".to_string()),
        Just("€".to_string()),
        Just("❯ 1. ".to_string()),
        Just("2) ".to_string()),
        Just("[y/n]".to_string()),
        Just("(esc)".to_string()),
        Just(":".to_string()),
        Just("\"".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("=".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        "[a-z0-9 ]{1,6}",
    ];
    prop::collection::vec(pieces, 0..48).prop_map(|v| v.concat())
}

/// JSON objects with the fields hooks read, holding values of any kind.
fn hook_payload() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        hostile_text().prop_map(serde_json::Value::String),
        any::<i64>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
        Just(serde_json::json!([])),
        Just(serde_json::json!({"nested": {}})),
        prop_oneof![
            Just("Stop"),
            Just("PermissionRequest"),
            Just("Notification"),
            Just("UserPromptSubmit"),
            Just("PreToolUse"),
            Just("agent-turn-complete"),
        ]
        .prop_map(|s| serde_json::Value::String(s.into())),
    ];
    let key = prop_oneof![
        Just("hook_event_name"),
        Just("tool_name"),
        Just("message"),
        Just("last_assistant_message"),
        Just("type"),
        Just("input-messages"),
        Just("last-assistant-message"),
        Just("turn-id"),
    ];
    prop::collection::vec((key, value), 0..6).prop_map(|fields| {
        let map: serde_json::Map<String, serde_json::Value> = fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        serde_json::Value::Object(map).to_string()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn hook_payloads_give_a_report_or_a_reason(
        payload in prop_oneof![hook_payload(), hostile_text()]
    ) {
        for parsed in [hooks::claude_hook(&payload), hooks::codex_notify(&payload)] {
            if let Err(reason) = parsed {
                prop_assert!(!reason.trim().is_empty());
            }
        }
    }

    #[test]
    fn any_screen_is_read_by_every_profile_without_panic(screen in hostile_text(), n in 0usize..8) {
        let _ = question::read_question(&screen);
        let tail = status::last_lines(&screen, n);
        prop_assert!(screen.contains(tail));
        for profile in CONFIG.agents.values() {
            let _ = status::read_screen(&screen, profile);
            let _ = status::screen_status(&screen, profile);
        }
        let _ = status::parse_status_note(&screen);
    }

    #[test]
    fn a_config_file_of_anything_is_loaded_or_refused_with_where(text in hostile_text()) {
        if let Err(e) = Config::from_texts(Some(&text), Path::new("config.toml")) {
            prop_assert!(!e.to_string().trim().is_empty());
        }
    }

    #[test]
    fn config_values_of_any_text_are_refused_with_the_key(
        key in prop_oneof![
            Just("scheduler.chain_window"),
            Just("scheduler.max_agents"),
            Just("intake.http.max_body"),
            Just("agents.x.ready"),
            Just("agents.x.command"),
            Just("keys.quit"),
        ],
        value in hostile_text(),
    ) {
        let (table, field) = key.rsplit_once('.').expect("a dotted key");
        let text = format!("[{table}]\n{field} = {}\n", toml::Value::String(value));
        if let Err(e) = Config::from_texts(Some(&text), Path::new("config.toml")) {
            prop_assert!(!e.to_string().trim().is_empty());
        }
    }

    #[test]
    fn operator_words_parse_or_say_why(text in hostile_text()) {
        if let Err(reason) = ReviewComment::parse(&text) {
            prop_assert!(!reason.is_empty());
        }
        if let Err(reason) = Choice::parse(&text) {
            prop_assert!(!reason.is_empty());
        }
        if let Ok(t) = Timestamp::parse(&text) {
            prop_assert_eq!(Timestamp::parse(&t.rfc3339()), Ok(t));
        }
    }

    #[test]
    fn any_time_in_milliseconds_renders(ms in any::<i64>(), d in any::<u64>()) {
        let t = Timestamp::from_millis(ms);
        prop_assert!(t.rfc3339().len() >= 20);
        let _ = t.plus(Duration::from_millis(d)).since(t);
    }

    #[test]
    fn sns_envelopes_of_anything_are_refused_with_a_reason(
        fields in prop::collection::vec(
            (prop_oneof![
                Just("Type"), Just("Message"), Just("MessageId"), Just("Timestamp"),
                Just("TopicArn"), Just("Subject"), Just("SubscribeURL"), Just("Token"),
                Just("SigningCertURL"),
            ], prop_oneof![
                hostile_text().prop_map(serde_json::Value::String),
                Just(serde_json::Value::String("Notification".into())),
                Just(serde_json::Value::Null),
                any::<i64>().prop_map(serde_json::Value::from),
            ]),
            0..8,
        ),
        url in hostile_text(),
    ) {
        let map: serde_json::Map<String, serde_json::Value> =
            fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        if let Err(reason) = switchboard::net::sns_signature::string_to_sign(&map) {
            prop_assert!(!reason.is_empty());
        }
        prop_assert!(switchboard::net::sns_signature::check_certificate_url(&url).is_err()
            || url.starts_with("https://"));
    }
}
