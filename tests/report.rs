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

/// A hook's input far past the bound (a tool's whole input, or a stream
/// that does not end soon) is not read whole: the report reads the bounded
/// head, reports the hook's event from it, and returns while the writer
/// still has plenty to give.
#[test]
fn a_huge_hook_input_is_read_only_to_its_bound() {
    use std::io::Write;
    use std::process::Stdio;
    let sb = setup();
    let mut child = sb
        .cmd(&["report", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn switchboard");
    let mut stdin = child.stdin.take().expect("stdin");
    // 256 MiB: a tool's input that the hook passes on whole.
    let writer = std::thread::spawn(move || {
        let head = br#"{"session_id":"s","hook_event_name":"PreToolUse","tool_name":"Write","tool_input":{"content":""#;
        let mut written = 0usize;
        if stdin.write_all(head).is_err() {
            return written;
        }
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..256 {
            if stdin.write_all(&chunk).is_err() {
                return written;
            }
            written += chunk.len();
        }
        let _ = stdin.write_all(br#""}}"#);
        written
    });
    let out = child.wait_with_output().expect("wait");
    let written = writer.join().expect("writer");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        written < 128 << 20,
        "the report read {} MiB of its input before it returned",
        written >> 20
    );
    let r = sb.journal().latest_status_report(1).unwrap().unwrap();
    assert_eq!(
        (r.status, r.message.as_deref(), r.source.as_str()),
        (
            Some(ReportStatus::Working),
            Some("using Write"),
            "claude-hook"
        )
    );
}
