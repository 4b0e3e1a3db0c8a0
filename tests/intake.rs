//! Intake through the real binary: every message shape, and every kind of
//! bad line between good ones.

mod common;

use common::Sandbox;

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/intake/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    // One message a line: the fixtures are pretty-printed documents.
    serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&text).unwrap()).unwrap()
}

fn count(sb: &Sandbox, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(sb.home().join("journal.db")).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn every_shape_and_every_fault_in_one_file() {
    let sb = Sandbox::new();
    let mut input: Vec<u8> = Vec::new();
    let mut push = |line: &[u8]| {
        input.extend_from_slice(line);
        input.push(b'\n');
    };
    let good_task = br#"{"type":"task","project":"api","prompt":"fix the login button"}"#;
    push(good_task); // 1
    push(br#"{"type":"ticket","key":"OPS-12","title":"Login","body":"broken","project":"api"}"#); // 2
    push(br#"{"type":"alarm","account":"123456789012","name":"HighCPU","state":"ALARM","at":"2026-01-01T00:00:00Z"}"#); // 3
    push(fixture("cloudwatch_sns_body.json").as_bytes()); // 4
    push(fixture("cloudwatch_sns_envelope.json").as_bytes()); // 5
    push(fixture("cloudwatch_eventbridge.json").as_bytes()); // 6
    push(fixture("jira_issue_created.json").as_bytes()); // 7
    push(fixture("jira_issue_updated_adf.json").as_bytes()); // 8
    push(br#"{"type":"task","prompt":"#); // 9: malformed JSON
    push(good_task); // 10
    push(br#"{"type":"incident","prompt":"x"}"#); // 11: wrong type
    push(good_task); // 12
    push(br#"{"type":"ticket","title":"no key"}"#); // 13: missing field
    push(good_task); // 14
    push(b""); // 15: empty line
    push(good_task); // 16
    let mut huge = br#"{"type":"task","project":"api","prompt":""#.to_vec();
    huge.extend(std::iter::repeat_n(b'a', 10 * 1024 * 1024));
    huge.extend_from_slice(br#""}"#);
    push(&huge); // 17: a 10 MB line
    push(good_task); // 18
    let bad_utf8: &[u8] = b"{\"type\":\"task\",\"project\":\"api\",\"prompt\":\"caf\xe9\"}";
    push(bad_utf8); // 19: invalid UTF-8
    push(good_task); // 20

    let out = sb.run_with_input(&["ingest", "-", "--json"], &input);
    assert_eq!(out.code, 3, "{}", out.stderr);
    let json = out.json();
    assert_eq!(json["accepted"], 14);
    let rejected: Vec<(i64, String)> = json["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_i64().unwrap(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let lines: Vec<i64> = rejected.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [9, 11, 13, 15, 17, 19]);
    assert!(
        rejected[0].1.starts_with("malformed JSON"),
        "{}",
        rejected[0].1
    );
    assert!(
        rejected[1].1.contains("unknown message type \"incident\""),
        "{}",
        rejected[1].1
    );
    assert_eq!(rejected[2].1, "ticket message is missing \"key\"");
    assert_eq!(rejected[3].1, "empty line; expected one JSON message");
    assert!(
        rejected[4].1.contains("over the 1048576-byte limit"),
        "{}",
        rejected[4].1
    );
    assert!(
        rejected[5].1.contains("not valid UTF-8"),
        "{}",
        rejected[5].1
    );

    // What was read is journaled; what was not is kept with its reason.
    assert_eq!(
        count(&sb, "SELECT COUNT(*) FROM jobs"),
        7,
        "seven good tasks"
    );
    assert_eq!(
        count(&sb, "SELECT COUNT(*) FROM tickets"),
        1,
        "OPS-12, natively and from Jira, is one ticket"
    );
    assert_eq!(
        count(&sb, "SELECT updates FROM tickets WHERE key = 'OPS-12'"),
        2,
        "Jira sent OPS-12 twice more"
    );
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM alarms"), 4);
    assert_eq!(
        count(&sb, "SELECT COUNT(*) FROM messages"),
        3,
        "every ticket message, for forwarding"
    );
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM rejected"), 6);
    let conn = rusqlite::Connection::open(sb.home().join("journal.db")).unwrap();
    let kept: Vec<u8> = conn
        .query_row("SELECT raw FROM rejected WHERE line = 19", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, bad_utf8, "bad bytes kept as they came");
    assert_eq!(
        count(
            &sb,
            "SELECT COUNT(*) FROM alarms WHERE account = '123456789012' AND state = 'OK'"
        ),
        1,
        "the SNS envelope's OK"
    );
}
