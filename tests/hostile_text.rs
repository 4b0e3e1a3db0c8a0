//! Text from outside never drives the operator's terminal: a ticket, an
//! alarm, a prompt, an agent's report and the events that quote them are
//! journaled with control sequences in them (OSC 52, OSC 0, the end of a
//! bracketed paste, BEL, CR, a C1 CSI), and every human output of the real
//! binary shows them as visible escapes; `--json` keeps them exact.

mod common;

use common::{Run, Sandbox};

/// `text` without switchboard's own SGR colour sequences (`ESC [ … m`).
fn without_colours(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("\x1b[") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        match after.find(|c: char| !(c.is_ascii_digit() || c == ';')) {
            Some(end) if after[end..].starts_with('m') => rest = &after[end + 1..],
            _ => {
                out.push_str(&rest[at..at + 2]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A clipboard write, a window title, the end of a bracketed paste, a CR
/// that rewrites the line, a C1 CSI and a DEL.
const HOSTILE: &str =
    "x \x1b]52;c;aGk=\x07\x1b]0;PWNED\x07 \x1b[201~ bell\x07 cr\r \u{9b}31m del\x7f";

/// The first control character (other than newline and tab) in `text`.
fn first_control(text: &str) -> Option<(usize, char)> {
    text.char_indices()
        .find(|(_, c)| c.is_control() && *c != '\n' && *c != '\t')
}

#[track_caller]
fn assert_clean(what: &str, text: &str) {
    if let Some((at, c)) = first_control(text) {
        panic!(
            "{what}: control character {c:?} at byte {at}: {:?}",
            &text[at.saturating_sub(40)..(at + 40).min(text.len())]
        );
    }
}

#[test]
fn every_human_output_shows_control_characters_as_visible_escapes() {
    let sb = Sandbox::new();
    sb.project("api");
    let queued = sb.run(&["dispatch", "api", HOSTILE]);
    assert_clean("dispatch", queued.ok());
    let ticket = serde_json::json!({
        "type": "ticket", "key": "OPS-1", "title": HOSTILE, "body": HOSTILE, "project": "api"
    });
    let alarm = serde_json::json!({
        "type": "alarm", "account": "123456789012", "name": HOSTILE, "state": "ALARM",
        "reason": HOSTILE, "at": "2026-01-01T00:00:00Z"
    });
    let input = format!("{ticket}\n{alarm}\n");
    sb.run_with_input(&["ingest", "-"], input.as_bytes()).ok();
    // What engines and agents write later: an event quoting the text, a
    // reason, a progress note, a review item, a chain.
    let conn = rusqlite::Connection::open(sb.home().join("journal.db")).unwrap();
    conn.execute(
        "INSERT INTO events (at, job_id, kind, message) VALUES (5, 1, 'nudge', ?1)",
        [HOSTILE],
    )
    .unwrap();
    conn.execute(
        "UPDATE jobs SET state = 'failed', attempt = 1, attempts = 1, state_reason = ?1, reason = ?1, progress = 40, note = ?1 WHERE id = 1",
        [HOSTILE],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO review_items (job_id, attempt, project, branch, files, insertions, deletions, created_at, updated_at) \
         VALUES (1, 1, ?1, ?1, 1, 1, 0, 5, 5)",
        [HOSTILE],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO chains (account, first_at, latest_at, alarms) VALUES (?1, 5, 5, 1)",
        [HOSTILE],
    )
    .unwrap();
    drop(conn);

    let outputs = [
        vec!["jobs"],
        vec!["jobs", "1"],
        vec!["jobs", "--state", "failed"],
        vec!["review"],
        vec!["chains"],
        vec!["project", "list"],
        vec!["explain", "1"],
        vec!["doctor"],
    ];
    for args in outputs {
        let run = sb.run(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_clean(&format!("{args:?} stdout"), &run.stdout);
        assert_clean(&format!("{args:?} stderr"), &run.stderr);
        // With colour forced on, nothing strips escapes on the way out: the
        // only ones left are switchboard's own colours.
        let coloured = Run::of(
            sb.cmd(&args)
                .env_remove("NO_COLOR")
                .env("CLICOLOR_FORCE", "1"),
        );
        assert_clean(
            &format!("{args:?} in colour"),
            &without_colours(&coloured.stdout),
        );
        assert_clean(
            &format!("{args:?} in colour, stderr"),
            &without_colours(&coloured.stderr),
        );
    }
    let one = sb.run(&["jobs", "1"]).ok().to_string();
    assert!(one.contains("␛]52;c;aGk=␇␛]0;PWNED␇"), "{one}");
    assert!(one.contains("␛[201~") && one.contains("cr␍"), "{one}");
    assert!(one.contains("\\u{9b}31m"), "{one}");

    // Errors that quote their input.
    let bad_project = sb.run(&["dispatch", HOSTILE, "x"]);
    assert_ne!(bad_project.code, 0);
    assert_clean("dispatch error", &bad_project.stderr);
    let bad_file = sb.run(&["ingest", HOSTILE]);
    assert_ne!(bad_file.code, 0);
    assert_clean("ingest error", &bad_file.stderr);
    let rejected = sb.run_with_input(
        &["ingest", "-"],
        format!("{{\"type\":\"{}\"}}\n", HOSTILE.replace('\x1b', "\\u001b")).as_bytes(),
    );
    assert_clean("ingest rejection stdout", &rejected.stdout);
    assert_clean("ingest rejection stderr", &rejected.stderr);

    // A command line clap cannot parse quotes it, on a terminal too.
    for args in [
        vec!["jobs", HOSTILE],
        vec![HOSTILE],
        vec!["dispatch", "--agent"],
    ] {
        let run = Run::of(
            sb.cmd(&args)
                .env_remove("NO_COLOR")
                .env("CLICOLOR_FORCE", "1"),
        );
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert_clean(
            &format!("{args:?} usage error"),
            &without_colours(&run.stderr),
        );
    }
    assert!(sb.run(&["jobs", HOSTILE]).stderr.contains("invalid value"));

    // JSON keeps the text exact.
    let json = sb.run(&["jobs", "1", "--json"]).json();
    assert_eq!(json["prompt"], HOSTILE);
    assert_eq!(
        json["events"].as_array().unwrap().last().unwrap()["message"],
        HOSTILE
    );
}

/// Arguments and the agent's environment that are not UTF-8 (a shell
/// passes any bytes) are refused with a usage error, never a panic; a
/// home path of any bytes is a path.
#[test]
fn bytes_that_are_not_utf8_in_argv_and_environment_are_refused_cleanly() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let sb = Sandbox::new();
    sb.project("api");
    let bad = OsStr::from_bytes(b"\xff\xfe \x1b]0;x\x07 bad");
    for args in [
        vec![OsStr::new("dispatch"), OsStr::new("api"), bad],
        vec![bad],
        vec![
            OsStr::new("report"),
            OsStr::new("1"),
            OsStr::new("--message"),
            bad,
        ],
        vec![OsStr::new("nudge"), OsStr::new("1"), bad],
        vec![
            OsStr::new("project"),
            OsStr::new("add"),
            bad,
            OsStr::new("/tmp"),
        ],
    ] {
        let run = Run::of(sb.cmd(&[]).args(&args));
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{args:?}: {}", run.stderr);
        assert_clean(&format!("{args:?}"), &run.stderr);
    }
    let odd_home = sb.dir.path().join(OsStr::from_bytes(b"home-\xff"));
    let listed = Run::of(common::command(&odd_home, &["jobs"]).arg("--json"));
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    let reported = Run::of(
        sb.cmd(&["report", "--progress", "5"])
            .env("SWITCHBOARD_JOB", OsStr::from_bytes(b"\xff1")),
    );
    assert!(!reported.stderr.contains("panicked"), "{}", reported.stderr);
    assert_clean("report with a job id of bytes", &reported.stderr);
}
