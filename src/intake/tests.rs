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
