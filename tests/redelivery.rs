//! An SNS envelope delivered more than once journals one message, whatever
//! the path it comes by: twice in one file, again in a later file, out of
//! order among others, through `switchboard ingest` and through the inbox
//! (the inbox itself is tested in `src/engine/inbox_tests.rs`, the network
//! intakes in `tests/http_intake.rs` and `tests/sqs_intake.rs`).

mod common;

use common::Sandbox;

/// The CloudWatch fixture, in ALARM, in an SNS envelope with its own
/// MessageId and state-change time, on one line.
fn envelope(message_id: &str, minute: u32) -> String {
    let path = format!(
        "{}/tests/fixtures/intake/cloudwatch_sns_envelope.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut alarm: serde_json::Value =
        serde_json::from_str(doc["Message"].as_str().unwrap()).unwrap();
    alarm["NewStateValue"] = "ALARM".into();
    alarm["StateChangeTime"] = format!("2026-11-22T07:{minute:02}:00.000+0000").into();
    doc["Message"] = alarm.to_string().into();
    doc["MessageId"] = message_id.into();
    doc.to_string()
}

fn alarms(sb: &Sandbox) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(sb.home().join("journal.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT delivery, at FROM alarms ORDER BY id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn ingest(sb: &Sandbox, lines: &[String]) -> serde_json::Value {
    let file = sb.home().join("delivery.jsonl");
    std::fs::create_dir_all(sb.home()).unwrap();
    std::fs::write(&file, lines.join("\n")).unwrap();
    let out = sb.run(&["ingest", file.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.json()
}

#[test]
fn an_sns_envelope_delivered_again_through_a_file_makes_one_alarm() {
    let sb = Sandbox::new();
    let (a, b, c) = (
        envelope("aaaaaaaa-0000-0000-0000-00000000000a", 20),
        envelope("bbbbbbbb-0000-0000-0000-00000000000b", 10),
        envelope("cccccccc-0000-0000-0000-00000000000c", 30),
    );

    // Twice in one file.
    let first = ingest(&sb, &[a.clone(), a.clone()]);
    assert_eq!(
        (first["accepted"].as_u64(), first["duplicates"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(alarms(&sb).len(), 1);

    // Late: again in a later file, beside a new one.
    let later = ingest(&sb, &[c.clone(), a.clone()]);
    assert_eq!(
        (later["accepted"].as_u64(), later["duplicates"].as_u64()),
        (Some(1), Some(1))
    );

    // Out of order: an older alarm arrives after newer ones, between
    // redeliveries of both.
    let shuffled = ingest(&sb, &[c.clone(), b.clone(), a.clone(), b.clone()]);
    assert_eq!(
        (
            shuffled["accepted"].as_u64(),
            shuffled["duplicates"].as_u64()
        ),
        (Some(1), Some(3))
    );

    let rows = alarms(&sb);
    let ids: Vec<&str> = rows.iter().map(|(d, _)| d.as_str()).collect();
    assert_eq!(
        ids,
        [
            "sns:aaaaaaaa-0000-0000-0000-00000000000a",
            "sns:cccccccc-0000-0000-0000-00000000000c",
            "sns:bbbbbbbb-0000-0000-0000-00000000000b",
        ],
        "each envelope once, in the order first delivered"
    );

    // The human output says what was skipped.
    let file = sb.home().join("again.jsonl");
    std::fs::write(&file, &b).unwrap();
    let out = sb.run(&["ingest", file.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("Skipped 1 message delivered before"),
        "{}",
        out.stdout
    );
    assert_eq!(alarms(&sb).len(), 3);
}

#[test]
fn jobs_id_names_the_intake_and_delivery_behind_ticket_and_alarm_jobs() {
    let sb = Sandbox::new();
    sb.project("api");
    std::fs::write(
        sb.home().join("config.toml"),
        "[routing]\ndefault_project = \"api\"\naccounts = { \"123456789012\" = \"api\" }\n",
    )
    .unwrap();
    let alarm = ingest(&sb, &[envelope("dddddddd-0000-0000-0000-00000000000d", 5)]);
    assert_eq!(alarm["accepted"], 1);
    sb.run_with_input(
        &["ingest", "-"],
        br#"{"type":"ticket","key":"OPS-7","title":"broken login"}"#,
    )
    .ok();
    let config = switchboard::config::Config::load(&sb.home().join("config.toml")).unwrap();
    sb.journal()
        .schedule(&config, switchboard::model::Timestamp::now(), false)
        .unwrap();

    let jobs = sb.run(&["jobs", "--json"]).json();
    let id_of = |kind: &str| {
        jobs.as_array()
            .unwrap()
            .iter()
            .find(|j| j["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} job in {jobs}"))["id"]
            .to_string()
    };
    let (incident, ticket) = (id_of("incident"), id_of("ticket"));

    let shown = sb.run(&["jobs", &incident, "--json"]).json();
    let source = &shown["sources"][0];
    assert_eq!(source["kind"], "alarm", "{shown}");
    assert_eq!(source["intake"], "cli");
    assert!(
        source["source"]
            .as_str()
            .unwrap()
            .ends_with("delivery.jsonl"),
        "{source}"
    );
    assert_eq!(
        source["delivery"],
        "sns:dddddddd-0000-0000-0000-00000000000d"
    );
    let human = sb.run(&["jobs", &incident]);
    let text = human.ok();
    assert!(text.contains("  from\n"), "{text}");
    assert!(
        text.contains("via cli: ") && text.contains("(sns:dddddddd-0000-0000-0000-00000000000d)"),
        "{text}"
    );

    let shown = sb.run(&["jobs", &ticket, "--json"]).json();
    let source = &shown["sources"][0];
    assert_eq!(source["kind"], "ticket", "{shown}");
    assert_eq!(source["intake"], "cli");
    assert_eq!(source["source"], "stdin");
    assert!(source["delivery"].is_null());
    let text = sb.run(&["jobs", &ticket]).ok().to_string();
    assert!(
        text.contains("ticket OPS-7: broken login (0 updates)\n      via cli: stdin"),
        "{text}"
    );
}
