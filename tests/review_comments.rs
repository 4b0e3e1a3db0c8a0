//! Review comments reach the agent literally: `reject --comment` keeps
//! each comment with the review item, and the engine sends the agent the
//! reason and every comment as `path:line: comment` through the paste
//! buffer (the demo agent writes each line it gets to DEMO.md).

mod common;

use common::Sandbox;
use common::engine::{FAST, home_with, start_engine, wait_secs};
use serde_json::Value;
use switchboard::model::{ReviewComment, Timestamp};

fn job(sb: &Sandbox, id: i64) -> Value {
    sb.run(&["jobs", &id.to_string(), "--json"]).json()
}

fn review_state(sb: &Sandbox) -> Option<String> {
    sb.run(&["review", "--json"]).json()[0]["state"]
        .as_str()
        .map(str::to_string)
}

/// Shell and tmux syntax that must arrive as written.
const HOSTILE: &str = "$(rm -rf /) `id`; 'q' \"dq\" \\ ; send-keys C-c | & #{pane_id}";

#[test]
fn comments_reach_the_agent_literally_with_the_reason() {
    let sb = home_with(FAST, &["api"]);
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    let _engine = start_engine(&sb);
    wait_secs(30, "in review", || {
        review_state(&sb).as_deref() == Some("ready")
    });
    // A bad comment keeps none.
    let err = sb
        .run(&[
            "reject",
            "1",
            "--comment",
            "DEMO.md:1: fine",
            "--comment",
            "no line",
        ])
        .fails(1)
        .to_string();
    assert!(err.contains("a comment is PATH:LINE: TEXT"), "{err}");
    let first = format!("DEMO.md:1: {HOSTILE}");
    sb.run(&[
        "reject",
        "1",
        "--reason",
        "not yet",
        "--comment",
        &first,
        "--comment",
        "src/a b.rs:12: and a space in the path",
    ])
    .ok();
    let told = "not yet\nReview comments (path:line: comment):\n".to_string()
        + &first
        + "\nsrc/a b.rs:12: and a space in the path";
    wait_secs(30, "the agent told", || {
        job(&sb, 1)["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["message"] == format!("rejected; told the agent: {told}"))
    });
    // What the agent got: the reason and every comment, as written, as
    // one task (the demo agent takes a bracketed paste whole and writes
    // it as one entry).
    let demo = sb.home().join("worktrees/job-1/DEMO.md");
    wait_secs(30, "every line at the agent", || {
        std::fs::read_to_string(&demo)
            .unwrap_or_default()
            .contains("src/a b.rs:12: and a space in the path")
    });
    let demo = std::fs::read_to_string(&demo).unwrap();
    assert!(demo.contains(&format!("- {told}\n")), "{demo}");
    // Sent: the next rejection does not send them again.
    assert!(
        sb.journal().open_review_comments(1).unwrap().is_empty(),
        "{demo}"
    );

    // A comment made since (the room's `c`), not sent yet.
    sb.journal()
        .add_review_comment(
            1,
            &ReviewComment::parse("README.md:3: and the install").unwrap(),
            Timestamp::now(),
        )
        .unwrap();
    // `review --json` lists every comment of the item, oldest first, with
    // when it was made and when a rejection sent it (null: not yet).
    let item = sb.run(&["review", "--json"]).json()[0].clone();
    let comments = item["comments"].as_array().cloned().unwrap_or_default();
    let said: Vec<(String, u64, String, bool)> = comments
        .iter()
        .map(|c| {
            assert!(c["at"].as_str().is_some_and(|t| t.ends_with('Z')), "{c}");
            (
                c["path"].as_str().unwrap_or_default().to_string(),
                c["line"].as_u64().unwrap_or_default(),
                c["text"].as_str().unwrap_or_default().to_string(),
                c["sent_at"].is_string(),
            )
        })
        .collect();
    assert_eq!(
        said,
        [
            ("DEMO.md".to_string(), 1, HOSTILE.to_string(), true),
            (
                "src/a b.rs".to_string(),
                12,
                "and a space in the path".to_string(),
                true
            ),
            (
                "README.md".to_string(),
                3,
                "and the install".to_string(),
                false
            ),
        ],
        "{item}"
    );
    assert!(comments[2]["sent_at"].is_null(), "{item}");
}
