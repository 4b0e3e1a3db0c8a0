//! Work after "done": the operator gives a done agent more to do (typing
//! in its session, as when attached); its new change is committed and the
//! review item refreshed; approve merges both changes and what was left
//! uncommitted, and removes the worktree only when nothing is left in it.

mod common;

use common::engine::{FAST, agents_tmux, home_with, start_engine, wait_secs};
use common::{Sandbox, git};
use serde_json::Value;

fn review(sb: &Sandbox) -> Value {
    sb.run(&["review", "--json"]).json()[0].clone()
}

fn tmux_ok(sb: &Sandbox, args: &[&str]) {
    let out = agents_tmux(sb, args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn wait_for(what: &str, check: impl FnMut() -> bool) {
    wait_secs(30, what, check);
}

#[test]
fn work_after_done_is_committed_reviewed_and_merged() {
    let sb = home_with(FAST, &["api"]);
    let repo = sb.dir.path().join("api");
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    let _engine = start_engine(&sb);
    wait_for("the review item", || review(&sb)["state"] == "ready");
    assert_eq!(review(&sb)["insertions"], 1);
    let listing = sb.run(&["review"]).ok().to_string();
    assert!(listing.contains("1 file, +1 -0"), "{listing}");

    // The operator gives the done agent more to do in its session.
    tmux_ok(
        &sb,
        &["send-keys", "-t", "=sb-1-1:", "-l", "and the changelog"],
    );
    tmux_ok(&sb, &["send-keys", "-t", "=sb-1-1:", "Enter"]);
    wait_for("the review item's new diff stat", || {
        review(&sb)["insertions"] == 2
    });
    let log = std::process::Command::new("git")
        .arg("-C")
        .arg(&repo)
        .args(["log", "--format=%s", "switchboard/1"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&log.stdout).to_string();
    assert!(log.contains("(after done)"), "{log}");
    assert_eq!(sb.run(&["jobs", "1", "--json"]).json()["state"], "done");

    // A change nobody committed or reported: approve commits it too.
    let worktree = sb.home().join("worktrees/job-1");
    std::fs::write(worktree.join("NOTES.md"), "left behind\n").unwrap();
    sb.run(&["approve", "1"]).ok();
    wait_for("the merge", || review(&sb)["state"] == "merged");
    assert_eq!(
        std::fs::read_to_string(repo.join("DEMO.md")).unwrap(),
        "- write the docs\n- and the changelog\n"
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("NOTES.md")).unwrap(),
        "left behind\n"
    );
    assert!(!worktree.exists(), "a clean worktree is removed");
    let events = sb.run(&["jobs", "1", "--json"]).json()["events"].clone();
    let merged = events
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["message"].as_str())
        .find(|m| m.contains("merged into main"))
        .unwrap_or_default()
        .to_string();
    assert!(
        merged.contains("its worktree was removed") && merged.contains("the branch switchboard/1"),
        "{merged}"
    );
    git(&repo, &["diff", "--quiet"]);
}

#[test]
fn uncommitted_names_what_a_worktree_holds_that_git_does_not() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    assert!(
        switchboard::workspace::uncommitted(&repo)
            .unwrap()
            .is_empty()
    );
    std::fs::write(repo.join("README.md"), "changed\n").unwrap();
    std::fs::create_dir_all(repo.join("new dir")).unwrap();
    std::fs::write(repo.join("new dir/a file.txt"), "new\n").unwrap();
    let mut left = switchboard::workspace::uncommitted(&repo).unwrap();
    left.sort();
    assert_eq!(left, ["README.md", "new dir/a file.txt"]);
}
