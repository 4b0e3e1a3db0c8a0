//! The fuzz target of intake, run by `cargo test`: arbitrary bytes, and
//! JSON close to every accepted shape (the right keys, values of every
//! kind, control characters, huge numbers, duplicate keys, truncations),
//! through the very parse path that `ingest`, the inbox and the simulator
//! use. Whatever comes in: no panic; either a message or a reason; an
//! accepted message is within the limits and survives a round trip
//! through its normal form. A fixed corpus of inputs that once misbehaved
//! runs first, every time.

use proptest::prelude::*;
use switchboard::intake::{LineReader, limits, parse_message};
use switchboard::model::Message;

/// Inputs seen misbehaving (or close to it), kept so they run on every CI.
const CORPUS: &[&[u8]] = &[
    br#"{"type":"task","prompt":"p","type":"alarm","account":"1","name":"n","state":"ALARM"}"#,
    br#"{"type":"task","prompt":"p","priority":99999999999999999999}"#,
    br#"{"type":"task","prompt":"p","priority":-9223372036854775808}"#,
    br#"{"type":"alarm","account":"-5","name":"n","state":"OK"}"#,
    br#"{"type":"alarm","account":-5,"name":"n","state":"OK"}"#,
    br#"{"type":"alarm","account":"1","name":"n","state":"OK","at":"9999-12-31T23:59:59-2359"}"#,
    br#"{"type":"alarm","account":"1","name":"n","state":"OK","at":"0000-01-01T00:00:00+0100"}"#,
    br#"{"type":"task","prompt":"a\u0000b"}"#,
    br#"{"type":"task","prompt":"\ud800"}"#,
    br#"{"type":"task","prompt":1e400}"#,
    br#"{"Type":"Notification","Message":"{\"AlarmName\":\"a\",\"AlarmName\":\"b\"}"}"#,
    br#"{"Type":"Notification","Message":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]"}"#,
    br#"{"webhookEvent":"e","issue":{"key":"K-1","fields":{"summary":"s","description":{"content":[{"type":"hardBreak"}]}}}}"#,
    br#"{"detail-type":"CloudWatch Alarm State Change","account":"1","detail":{"alarmName":"n","state":{"value":"ALARM"}}}"#,
    b"\xef\xbb\xbf{\"type\":\"task\",\"prompt\":\"bom\"}",
    b"{\"type\":\"task\",\"prompt\":\"x \x1b]52;c;aGk=\x07\"}",
    b"",
    b"\0",
    b"[]",
    b"null",
    b"\"type\"",
];

/// What must hold for any input.
fn holds(bytes: &[u8]) -> Result<(), TestCaseError> {
    match parse_message(bytes) {
        Err(reason) => prop_assert!(!reason.trim().is_empty(), "an empty reason"),
        Ok(message) => {
            within_limits(&message)?;
            let normal = serde_json::to_string(&message).expect("a message serialises");
            let again = parse_message(normal.as_bytes());
            prop_assert_eq!(again.as_ref(), Ok(&message), "round trip of {}", normal);
        }
    }
    Ok(())
}

fn within_limits(message: &Message) -> Result<(), TestCaseError> {
    let texts: Vec<&str> = match message {
        Message::Task(t) => [
            Some(t.prompt.as_str()),
            t.title.as_deref(),
            t.project.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect(),
        Message::Ticket(t) => vec![t.key.as_str(), t.title.as_str(), t.body.as_str()],
        Message::Alarm(a) => {
            prop_assert!(
                !a.account.is_empty()
                    && a.account.len() <= 12
                    && a.account.bytes().all(|b| b.is_ascii_digit()),
                "account {:?}",
                a.account
            );
            vec![a.account.as_str(), a.name.as_str()]
        }
    };
    for text in texts {
        prop_assert!(!text.contains('\0'), "a NUL was accepted");
        prop_assert!(text.len() <= limits::MAX_PROMPT_BYTES);
    }
    if let Message::Task(t) = message {
        prop_assert!(t.priority.is_none_or(|p| p.abs() <= limits::MAX_PRIORITY));
    }
    Ok(())
}

#[test]
fn the_corpus_is_parsed_without_panic_and_with_reasons() {
    for input in CORPUS {
        holds(input).unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(input)));
    }
}

/// The keys of every shape switchboard reads, and a few it does not.
const KEYS: &[&str] = &[
    "type",
    "type",
    "prompt",
    "project",
    "title",
    "agent",
    "priority",
    "key",
    "body",
    "account",
    "name",
    "state",
    "at",
    "reason",
    "region",
    "event",
    "AlarmName",
    "AWSAccountId",
    "NewStateValue",
    "NewStateReason",
    "StateChangeTime",
    "Region",
    "Type",
    "Message",
    "webhookEvent",
    "issue",
    "fields",
    "summary",
    "description",
    "detail-type",
    "detail",
    "alarmName",
    "value",
    "timestamp",
    "time",
    "content",
    "text",
    "x",
];

/// Values that each shape's fields might hold, as JSON text.
fn scalar() -> impl Strategy<Value = String> {
    let words = prop_oneof![
        Just("task"),
        Just("ticket"),
        Just("alarm"),
        Just("ALARM"),
        Just("ok"),
        Just("INSUFFICIENT_DATA"),
        Just("Notification"),
        Just("123456789012"),
        Just("-5"),
        Just("2026-01-01T00:00:00Z"),
        Just("2026-01-01T00:00:00.000+0000"),
        Just("9999-12-31T23:59:59-2359"),
        Just("CloudWatch Alarm State Change"),
        Just("jira:issue_created"),
        Just("OPS-12"),
        Just(" "),
        Just(""),
    ];
    prop_oneof![
        words.prop_map(|w| serde_json::to_string(w).unwrap()),
        any::<String>().prop_map(|s| serde_json::to_string(&s).unwrap()),
        "[\\x00-\\x1f\\x7f\u{80}-\u{9f}a-z]{0,12}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        Just("99999999999999999999999".to_string()),
        Just("1e400".to_string()),
        Just("-0".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        // A JSON message inside a string, as SNS sends it.
        Just(
            serde_json::to_string(
                r#"{"AlarmName":"a","AWSAccountId":"123456789012","NewStateValue":"ALARM"}"#
            )
            .unwrap()
        ),
    ]
}

fn value() -> impl Strategy<Value = String> {
    scalar().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            object(inner),
        ]
    })
}

fn object(values: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    prop::collection::vec((prop::sample::select(KEYS), values), 0..8).prop_map(|pairs| {
        let body: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
            .collect();
        format!("{{{}}}", body.join(","))
    })
}

/// An object with the keys of one accepted shape (values of any kind),
/// plus a few others, in any order.
fn shaped() -> impl Strategy<Value = String> {
    let shapes: &[&[(&str, &str)]] = &[
        &[("type", "\"task\""), ("prompt", "")],
        &[
            ("type", "\"ticket\""),
            ("key", ""),
            ("title", ""),
            ("body", ""),
        ],
        &[
            ("type", "\"alarm\""),
            ("account", ""),
            ("name", ""),
            ("state", "\"ALARM\""),
            ("at", ""),
        ],
        &[
            ("AlarmName", ""),
            ("AWSAccountId", "\"123456789012\""),
            ("NewStateValue", "\"OK\""),
            ("StateChangeTime", ""),
        ],
        &[
            ("webhookEvent", "\"jira:issue_updated\""),
            (
                "issue",
                "{\"key\":\"OPS-1\",\"fields\":{\"summary\":\"s\"}}",
            ),
        ],
    ];
    (
        prop::sample::select(shapes),
        prop::collection::vec(scalar(), 8),
        prop::collection::vec((prop::sample::select(KEYS), scalar()), 0..3),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(shape, values, extra, rotate)| {
            let mut pairs: Vec<String> = shape
                .iter()
                .zip(&values)
                .map(|((k, fixed), v)| {
                    format!(
                        "\"{k}\":{}",
                        if fixed.is_empty() { v.as_str() } else { fixed }
                    )
                })
                .collect();
            pairs.extend(extra.iter().map(|(k, v)| format!("\"{k}\":{v}")));
            let n = rotate.index(pairs.len());
            pairs.rotate_left(n);
            format!("{{{}}}", pairs.join(","))
        })
}

/// A near-valid message, sometimes cut short or with a stray byte.
fn near_valid() -> impl Strategy<Value = Vec<u8>> {
    let text = prop_oneof![object(value()), shaped(), shaped()];
    (text, any::<prop::sample::Index>(), any::<u8>(), 0..4u8).prop_map(|(text, at, byte, how)| {
        let mut bytes = text.into_bytes();
        let i = at.index(bytes.len() + 1);
        match how {
            0 => bytes.truncate(i),
            1 => bytes.insert(i, byte),
            _ => {}
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        holds(&bytes)?;
    }

    #[test]
    fn near_valid_json_is_accepted_or_refused_with_a_reason(bytes in near_valid()) {
        holds(&bytes)?;
    }

    #[test]
    fn lines_of_anything_split_and_parse(
        lines in prop::collection::vec(prop_oneof![near_valid(), prop::collection::vec(any::<u8>(), 0..64)], 0..6)
    ) {
        let input = lines.join(&b'\n');
        let read: Vec<_> = LineReader::new(&input[..]).collect::<Result<_, _>>().expect("in memory");
        let breaks = input.iter().filter(|&&b| b == b'\n').count();
        prop_assert!(read.len() <= breaks + 1);
        for line in read {
            holds(&line.bytes)?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn shaped_messages_are_often_accepted(texts in prop::collection::vec(shaped(), 64)) {
        // The generator reaches the accepting paths, not only refusals.
        let accepted = texts.iter().filter(|t| parse_message(t.as_bytes()).is_ok()).count();
        prop_assert!(accepted > 0, "none of 64 accepted");
        for text in &texts {
            holds(text.as_bytes())?;
        }
    }
}
