use super::*;
use crate::model::{AlarmState, Message, Timestamp};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/intake/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn alarm(bytes: &[u8]) -> crate::model::AlarmMessage {
    match parse_message(bytes).unwrap() {
        Message::Alarm(a) => a,
        other => panic!("not an alarm: {other:?}"),
    }
}

fn ticket(bytes: &[u8]) -> crate::model::TicketMessage {
    match parse_message(bytes).unwrap() {
        Message::Ticket(t) => t,
        other => panic!("not a ticket: {other:?}"),
    }
}

fn reason(bytes: &[u8]) -> String {
    parse_message(bytes).unwrap_err()
}

#[test]
fn native_task() {
    let m = parse_message(br#"{"type":"task","project":"api","prompt":"fix the login button"}"#);
    match m.unwrap() {
        Message::Task(t) => {
            assert_eq!(t.project.as_deref(), Some("api"));
            assert_eq!(t.prompt, "fix the login button");
            assert_eq!(t.priority, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn native_ticket() {
    let t = ticket(
        br#"{"type":"ticket","key":"OPS-12","title":"Login","body":"Safari","project":"api"}"#,
    );
    assert_eq!(t.key, "OPS-12");
    assert_eq!(t.title, "Login");
    assert_eq!(t.body, "Safari");
    assert_eq!(t.project.as_deref(), Some("api"));
}

#[test]
fn native_alarm() {
    let a = alarm(
        br#"{"type":"alarm","account":"123456789012","name":"HighCPU","state":"ALARM","at":"2026-01-01T00:00:00Z"}"#,
    );
    assert_eq!(a.account, "123456789012");
    assert_eq!(a.name, "HighCPU");
    assert_eq!(a.state, AlarmState::Alarm);
    assert_eq!(
        a.at,
        Some(Timestamp::parse("2026-01-01T00:00:00Z").unwrap())
    );
}

#[test]
fn native_alarm_without_time_and_numeric_account() {
    let a = alarm(br#"{"type":"alarm","account":123456789012,"name":"Disk","state":"ok"}"#);
    assert_eq!(a.account, "123456789012");
    assert_eq!(a.state, AlarmState::Ok);
    assert_eq!(a.at, None);
}

#[test]
fn cloudwatch_sns_body() {
    let a = alarm(&fixture("cloudwatch_sns_body.json"));
    assert_eq!(a.account, "123456789012");
    assert_eq!(a.name, "api-HighCPU");
    assert_eq!(a.state, AlarmState::Alarm);
    assert_eq!(
        a.at,
        Some(Timestamp::parse("2026-11-22T06:56:12.345Z").unwrap())
    );
    assert!(a.reason.unwrap().starts_with("Threshold Crossed"));
    assert_eq!(a.region.as_deref(), Some("EU (Ireland)"));
}

#[test]
fn cloudwatch_sns_envelope() {
    let a = alarm(&fixture("cloudwatch_sns_envelope.json"));
    assert_eq!(a.name, "api-HighCPU");
    assert_eq!(a.state, AlarmState::Ok);
    assert_eq!(
        a.at,
        Some(Timestamp::parse("2026-11-22T07:20:00Z").unwrap())
    );
}

#[test]
fn cloudwatch_eventbridge() {
    let a = alarm(&fixture("cloudwatch_eventbridge.json"));
    assert_eq!(a.account, "210987654321");
    assert_eq!(a.name, "db-FreeStorageLow");
    assert_eq!(a.state, AlarmState::Alarm);
    assert_eq!(
        a.at,
        Some(Timestamp::parse("2026-11-22T06:57:59.870Z").unwrap())
    );
}

#[test]
fn cloudwatch_eventbridge_in_an_sns_envelope() {
    // An EventBridge rule whose target is an SNS topic: the event is the
    // envelope's Message, as a JSON string.
    let a = alarm(&fixture("cloudwatch_sns_eventbridge.json"));
    assert_eq!(a.account, "210987654321");
    assert_eq!(a.name, "db-FreeStorageLow");
    assert_eq!(a.state, AlarmState::Alarm);
    assert_eq!(
        a.at,
        Some(Timestamp::parse("2026-11-22T06:57:59.870Z").unwrap())
    );
    assert_eq!(
        a.reason
            .as_deref()
            .map(|r| r.starts_with("Threshold Crossed")),
        Some(true)
    );
}

#[test]
fn an_sns_envelope_around_something_else_says_what_it_expected() {
    let body = r#"{"Type":"Notification","MessageId":"x","Message":"{\"hello\":1}"}"#;
    assert!(reason(body.as_bytes()).contains("CloudWatch Alarm State Change"));
}

#[test]
fn jira_issue_created() {
    let t = ticket(&fixture("jira_issue_created.json"));
    assert_eq!(t.key, "OPS-12");
    assert_eq!(t.title, "Login button does nothing on Safari");
    assert!(t.body.contains("TypeError"));
    assert_eq!(t.event.as_deref(), Some("jira:issue_created"));
}

#[test]
fn jira_issue_updated_with_a_document_description() {
    let t = ticket(&fixture("jira_issue_updated_adf.json"));
    assert_eq!(t.key, "OPS-12");
    assert_eq!(
        t.body,
        "Steps: open /login in Safari 18.\nAlso fails on iOS."
    );
    assert_eq!(t.event.as_deref(), Some("jira:issue_updated"));
}

#[test]
fn malformed_json_says_where() {
    let r = reason(br#"{"type":"task", "prompt": }"#);
    assert!(r.starts_with("malformed JSON"), "{r}");
    assert!(r.contains("column"), "{r}");
}

#[test]
fn wrong_type_names_the_choices() {
    let r = reason(br#"{"type":"page","prompt":"x"}"#);
    assert!(r.contains("unknown message type \"page\""), "{r}");
    assert!(r.contains("task, ticket or alarm"), "{r}");
    let r = reason(br#"{"type":7}"#);
    assert!(r.contains("must be a string"), "{r}");
}

#[test]
fn missing_fields_are_named() {
    assert_eq!(
        reason(br#"{"type":"ticket","title":"x"}"#),
        "ticket message is missing \"key\""
    );
    assert_eq!(
        reason(br#"{"type":"task","project":"api"}"#),
        "task message is missing \"prompt\""
    );
    let r = reason(br#"{"type":"alarm","account":"1","name":"n"}"#);
    assert_eq!(r, "alarm message is missing \"state\"");
    let r = reason(br#"{"AlarmName":"x","NewStateValue":"ALARM"}"#);
    assert_eq!(r, "CloudWatch alarm is missing \"AWSAccountId\"");
    let r = reason(br#"{"webhookEvent":"jira:issue_created","issue":{"key":"OPS-1","fields":{}}}"#);
    assert_eq!(r, "Jira issue OPS-1 is missing \"summary\"");
    let r = reason(br#"{"webhookEvent":"jira:user_created"}"#);
    assert!(r.contains("carries no \"issue\""), "{r}");
}

#[test]
fn bad_values_are_explained() {
    let r = reason(br#"{"type":"alarm","account":"1","name":"n","state":"RED"}"#);
    assert!(r.contains("\"RED\" is not one of ALARM, OK"), "{r}");
    let r = reason(br#"{"type":"alarm","account":"1","name":"n","state":"OK","at":"noon"}"#);
    assert!(r.contains("\"at\"") && r.contains("noon"), "{r}");
    let r = reason(br#"{"type":"task","prompt":["a"]}"#);
    assert!(r.contains("must be a string, not an array"), "{r}");
    let r = reason(br#"{"type":"task","prompt":"   "}"#);
    assert!(r.contains("empty \"prompt\""), "{r}");
}

#[test]
fn unknown_shapes_and_non_objects_are_refused() {
    assert!(reason(br#"{"hello":"world"}"#).starts_with("not a message switchboard knows"));
    assert_eq!(reason(b"[1,2]"), "expected a JSON object, found an array");
    assert_eq!(reason(b"   "), "empty line; expected one JSON message");
    assert_eq!(reason(b""), "empty line; expected one JSON message");
}

#[test]
fn invalid_utf8_is_refused_with_its_offset() {
    let r = reason(b"{\"type\":\"task\",\"prompt\":\"caf\xe9\"}");
    assert!(r.contains("UTF-8") && r.contains("offset 28"), "{r}");
}

#[test]
fn a_message_survives_a_round_trip_through_its_normal_form() {
    let a = parse_message(&fixture("cloudwatch_sns_body.json")).unwrap();
    let json = serde_json::to_string(&a).unwrap();
    assert_eq!(parse_message(json.as_bytes()).unwrap(), a);
}

#[test]
fn a_huge_integer_is_out_of_range_not_a_fraction() {
    let r = reason(br#"{"type":"task","prompt":"p","priority":99999999999999999999}"#);
    assert!(r.contains("out of range") && !r.contains("fraction"), "{r}");
    let r = reason(br#"{"type":"task","prompt":"p","priority":9223372036854775807}"#);
    assert!(r.contains("out of range"), "{r}");
    let r = reason(br#"{"type":"task","prompt":"p","priority":-9223372036854775808}"#);
    assert!(r.contains("out of range"), "{r}");
    let r = reason(br#"{"type":"task","prompt":"p","priority":1000001}"#);
    assert!(r.contains("priority 1000001 is out of range"), "{r}");
    let r = reason(br#"{"type":"task","prompt":"p","priority":1.5}"#);
    assert!(r.contains("fraction"), "{r}");
    let r = reason(br#"{"type":"alarm","account":123456789012345678901,"name":"n","state":"OK"}"#);
    assert!(r.contains("account") && !r.contains("fraction"), "{r}");
}

#[test]
fn a_duplicate_key_is_ambiguous() {
    // A duplicate "type" must not turn a task into an alarm.
    let r = reason(
        br#"{"type":"task","prompt":"p","type":"alarm","account":"1","name":"n","state":"ALARM"}"#,
    );
    assert!(r.contains("ambiguous") && r.contains("\"type\""), "{r}");
    let r = reason(br#"{"type":"task","prompt":"a","prompt":"b"}"#);
    assert!(r.contains("ambiguous") && r.contains("\"prompt\""), "{r}");
    // Also where the fast path does not look, and in nested objects.
    let r = reason(br#"{"type":"task","prompt":"a","x":1,"x":2}"#);
    assert!(r.contains("ambiguous"), "{r}");
    let r = reason(
        br#"{"webhookEvent":"jira:issue_created","issue":{"key":"A-1","key":"B-2","fields":{"summary":"s"}}}"#,
    );
    assert!(r.contains("ambiguous") && r.contains("\"key\""), "{r}");
    let envelope = serde_json::json!({
        "Type": "Notification",
        "Message": r#"{"AlarmName":"a","AlarmName":"b","AWSAccountId":"123456789012","NewStateValue":"OK"}"#,
    });
    let r = reason(envelope.to_string().as_bytes());
    assert!(r.contains("ambiguous") && r.contains("AlarmName"), "{r}");
}

#[test]
fn an_account_is_digits_only() {
    for bad in [
        r#""-5""#,
        "-5",
        r#""12a""#,
        r#""1234567890123""#,
        r#"" 42""#,
        "1.5",
    ] {
        let line = format!(r#"{{"type":"alarm","account":{bad},"name":"n","state":"OK"}}"#);
        let r = reason(line.as_bytes());
        assert!(r.contains("\"account\""), "{bad}: {r}");
    }
    let r = reason(br#"{"AlarmName":"x","AWSAccountId":"-5","NewStateValue":"ALARM"}"#);
    assert!(r.contains("AWSAccountId"), "{r}");
    assert_eq!(
        alarm(br#"{"type":"alarm","account":"012345678901","name":"n","state":"OK"}"#).account,
        "012345678901",
        "AWS account ids are 12 digits, leading zeros included"
    );
    assert_eq!(
        alarm(br#"{"type":"alarm","account":42,"name":"n","state":"OK"}"#).account,
        "42"
    );
}

#[test]
fn nul_bytes_are_refused_in_every_text() {
    let r = reason(br#"{"type":"task","prompt":"fix\u0000it"}"#);
    assert!(r.contains("NUL") && r.contains("prompt"), "{r}");
    let r = reason(br#"{"type":"alarm","account":"1","name":"a\u0000b","state":"OK"}"#);
    assert!(r.contains("NUL") && r.contains("name"), "{r}");
    let r = reason(
        br#"{"webhookEvent":"e","issue":{"key":"A-1","fields":{"summary":"s","description":"d\u0000"}}}"#,
    );
    assert!(r.contains("NUL"), "{r}");
}

#[test]
fn sizes_are_limited_with_reasons() {
    let prompt = "x".repeat(limits::MAX_PROMPT_BYTES + 1);
    let line = serde_json::json!({"type": "task", "prompt": prompt}).to_string();
    let r = reason(line.as_bytes());
    assert!(r.contains("prompt") && r.contains("limit"), "{r}");
    let at_limit = "x".repeat(limits::MAX_PROMPT_BYTES);
    let line = serde_json::json!({"type": "task", "prompt": at_limit}).to_string();
    assert!(parse_message(line.as_bytes()).is_ok());
    let title = "t".repeat(limits::MAX_TITLE_BYTES + 1);
    let line = serde_json::json!({"type": "ticket", "key": "A-1", "title": title}).to_string();
    assert!(reason(line.as_bytes()).contains("title"));
    let line = serde_json::json!({"type": "alarm", "account": "1", "name": "n".repeat(2000), "state": "OK"});
    assert!(reason(line.to_string().as_bytes()).contains("name"));
}

#[test]
fn a_time_beyond_what_can_be_shown_is_refused() {
    let r = reason(
        br#"{"type":"alarm","account":"1","name":"n","state":"OK","at":"9999-12-31T23:59:59-2359"}"#,
    );
    assert!(r.contains("\"at\"") && r.contains("range"), "{r}");
    alarm(br#"{"type":"alarm","account":"1","name":"n","state":"OK","at":"9999-12-31T23:59:59Z"}"#);
}

#[test]
fn a_task_may_wait_for_jobs_by_id() {
    let after = |bytes: &[u8]| match parse_message(bytes) {
        Ok(Message::Task(t)) => Ok(t.after),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e),
    };
    assert_eq!(
        after(br#"{"type":"task","prompt":"p","after":[12,14]}"#),
        Ok(vec![12, 14])
    );
    assert_eq!(
        after(br#"{"type":"task","prompt":"p","after":12}"#),
        Ok(vec![12])
    );
    assert_eq!(
        after(br#"{"type":"task","prompt":"p","after":[]}"#),
        Ok(vec![])
    );
    assert_eq!(after(br#"{"type":"task","prompt":"p"}"#), Ok(vec![]));
    for (bad, says) in [
        (
            &br#"{"type":"task","prompt":"p","after":"12"}"#[..],
            "not a string",
        ),
        (
            br#"{"type":"task","prompt":"p","after":[12,"x"]}"#,
            "a list holding a string",
        ),
        (
            br#"{"type":"task","prompt":"p","after":[1.5]}"#,
            "a list holding a fraction",
        ),
        (
            br#"{"type":"task","prompt":"p","after":[0]}"#,
            "job ids are whole numbers from 1",
        ),
        (
            br#"{"type":"task","prompt":"p","after":{"a":1}}"#,
            "not an object",
        ),
    ] {
        let e = reason(bad);
        assert!(e.contains(says), "{e}");
    }
    let many: Vec<String> = (1..=40).map(|i| i.to_string()).collect();
    let text = format!(
        r#"{{"type":"task","prompt":"p","after":[{}]}}"#,
        many.join(",")
    );
    assert!(reason(text.as_bytes()).contains("over the limit of 32"));
    // Written back as the journal keeps a message, and read again.
    let m = parse_message(br#"{"type":"task","prompt":"p","after":[3]}"#).unwrap();
    let again: Message = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
    assert_eq!(again, m);
}

#[test]
fn a_whole_number_written_with_a_point_or_an_exponent_is_that_number() {
    let priority = |text: &str| {
        let line = format!(r#"{{"type":"task","prompt":"p","priority":{text}}}"#);
        parse_message(line.as_bytes()).map(|m| match m {
            Message::Task(t) => t.priority,
            other => panic!("not a task: {other:?}"),
        })
    };
    assert_eq!(priority("1000000.0"), Ok(Some(1_000_000)));
    assert_eq!(priority("5e2"), Ok(Some(500)));
    assert_eq!(priority("-0"), Ok(Some(0)));
    assert_eq!(priority("-1E3"), Ok(Some(-1000)));
    // In i64's range but beyond a priority's: the priority's range is named.
    let r = priority("1e9").unwrap_err();
    assert!(
        r.contains("priority 1000000000 is out of range: priorities go from"),
        "{r}"
    );
    // Beyond i64: still out of range, never a fraction.
    let r = priority("1e20").unwrap_err();
    assert!(r.contains("out of range") && !r.contains("fraction"), "{r}");
    assert!(priority("2.5e0").unwrap_err().contains("fraction"));
    // The ids a task waits for follow the same rule.
    let line = br#"{"type":"task","prompt":"p","after":[1.0, 2e0]}"#;
    match parse_message(line) {
        Ok(Message::Task(t)) => assert_eq!(t.after, vec![1, 2]),
        other => panic!("{other:?}"),
    }
}
