//! `switchboard report` as agents and their hooks call it.

mod common;

use common::{Run, Sandbox};
use switchboard::journal::ReportStatus;

fn setup() -> Sandbox {
    let sb = Sandbox::new();
    sb.project("api");
    sb.run(&["dispatch", "api", "work"]).ok();
    sb
}

#[test]
fn flags_report_progress_and_status() {
    let sb = setup();
    sb.run(&["report", "1", "--progress", "50", "--message", "building"])
        .ok();
    let jobs = sb.run(&["jobs", "--json"]).json();
    assert_eq!(jobs[0]["progress"], 50);
    assert_eq!(jobs[0]["note"], "building");
    sb.run(&["report", "1", "--done", "--message", "all green"])
        .ok();
    let r = sb.journal().latest_status_report(1).unwrap().unwrap();
    assert_eq!(
        (r.status, r.message.as_deref(), r.source.as_str()),
        (Some(ReportStatus::Done), Some("all green"), "cli")
    );
    let events = sb.run(&["jobs", "1", "--json"]).json()["events"].clone();
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "report"),
        "{events}"
    );
}

#[test]
fn the_job_comes_from_the_agents_environment() {
    let sb = setup();
    Run::of(
        sb.cmd(&["report", "--waiting", "--message", "Proceed? [y/n]"])
            .env("SWITCHBOARD_JOB", "1"),
    )
    .ok();
    let r = sb.journal().latest_status_report(1).unwrap().unwrap();
    assert_eq!(r.status, Some(ReportStatus::Waiting));
}

#[test]
fn claude_hook_json_on_stdin() {
    let sb = setup();
    let input = br#"{"session_id":"s","transcript_path":"/t","hook_event_name":"Notification","message":"Claude needs your permission to use Bash"}"#;
    sb.run_with_input(&["report", "1"], input).ok();
    let r = sb.journal().latest_status_report(1).unwrap().unwrap();
    assert_eq!(r.status, Some(ReportStatus::Waiting));
    assert_eq!(r.source, "claude-hook");
    assert_eq!(
        r.message.as_deref(),
        Some("Claude needs your permission to use Bash")
    );
}

#[test]
fn codex_notify_json_as_the_argument() {
    let sb = setup();
    let json = r#"{"type":"agent-turn-complete","turn-id":"1","input-messages":["work"],"last-assistant-message":"Done: tests pass."}"#;
    Run::of(sb.cmd(&["report", json]).env("SWITCHBOARD_JOB", "1")).ok();
    let r = sb.journal().latest_status_report(1).unwrap().unwrap();
    assert_eq!(
        (r.status, r.source.as_str()),
        (Some(ReportStatus::Done), "codex-notify")
    );
    assert_eq!(r.message.as_deref(), Some("Done: tests pass."));
}

#[test]
fn errors_say_what_is_missing() {
    let sb = setup();
    let err = sb.run(&["report", "--done"]).fails(1).to_string();
    assert!(err.contains("which job?"), "{err}");
    let err = sb.run(&["report", "9", "--done"]).fails(1).to_string();
    assert!(err.contains("no job #9"), "{err}");
    let err = sb.run(&["report", "1"]).fails(1).to_string();
    assert!(err.contains("nothing to report"), "{err}");
    let err = sb
        .run(&["report", "1", "--progress", "120"])
        .fails(2)
        .to_string();
    assert!(err.contains("120"), "{err}");
    // A hook outside any switchboard agent reports nothing and does not fail.
    let out = sb.run(&["report", r#"{"type":"agent-turn-complete"}"#]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("nothing reported"));
}
