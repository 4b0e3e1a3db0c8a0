//! Work after "done": the operator gives a done agent more to do (typing
//! in its session, as when attached); its new change is committed and the
//! review item refreshed; approve merges both changes and what was left
//! uncommitted, and removes the worktree only when nothing is left in it.

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Sandbox, git};
use serde_json::Value;

const FAST: &str = r#"
[scheduler]
active_interval = "200ms"
idle_interval = "500ms"

[agents.fast]
command = ["{switchboard}", "demo-agent", "--steps", "2", "--step-ms", "50", "{prompt}"]
prompt = "argv"
ready = '(?m)^demo> \s*\z'
busy = '⠿ working[^\n]*\s*\z'
"#;

struct Engine(Child, std::path::PathBuf);

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::process::Command::new("tmux")
            .arg("-S")
            .arg(self.1.join("tmux/server.sock"))
            .arg("kill-server")
            .output();
    }
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn review(sb: &Sandbox) -> Value {
    sb.run(&["review", "--json"]).json()[0].clone()
}

fn agents_tmux(sb: &Sandbox, args: &[&str]) {
    let out = std::process::Command::new("tmux")
        .arg("-S")
        .arg(sb.home().join("tmux/server.sock"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn work_after_done_is_committed_reviewed_and_merged() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    std::fs::create_dir_all(sb.home()).unwrap();
    std::fs::write(sb.home().join("config.toml"), FAST).unwrap();
    sb.run(&[
        "project",
        "add",
        "api",
        repo.to_str().unwrap(),
        "--agent",
        "fast",
    ])
    .ok();
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    let child = sb
        .cmd(&["run", "--headless"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _engine = Engine(child, sb.home());
    wait_for("the review item", || review(&sb)["state"] == "ready");
    assert_eq!(review(&sb)["insertions"], 1);
    let listing = sb.run(&["review"]).ok().to_string();
    assert!(listing.contains("1 file, +1 -0"), "{listing}");

    // The operator gives the done agent more to do in its session.
    agents_tmux(
        &sb,
        &["send-keys", "-t", "=sb-1-1:", "-l", "and the changelog"],
    );
    agents_tmux(&sb, &["send-keys", "-t", "=sb-1-1:", "Enter"]);
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
