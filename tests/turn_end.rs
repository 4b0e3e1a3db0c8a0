//! An agent's turn end shows at once: the job is `done` before git has
//! committed its work (the review item says `committing` meanwhile), and
//! a commit that fails leaves the job done with its review item
//! `uncommitted` and the reason, never a job that goes back or fails.
//! git is a wrapper on the engine's PATH that holds or fails `git commit`
//! while a file of the test's says so.

mod common;

use std::path::{Path, PathBuf};

use common::Sandbox;
use common::engine::{EngineProcess, FAST, home_with, start_engine_with_env, wait_secs};
use serde_json::Value;

/// A `git` that runs the real one, except that `commit` waits while
/// `dir/hold` exists and fails while `dir/fail` exists.
fn fake_git(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let real = String::from_utf8(
        std::process::Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let script = format!(
        "#!/bin/sh\nfor a in \"$@\"; do\n  if [ \"$a\" = commit ]; then\n    while [ -e '{hold}' ]; do sleep 0.05; done\n    if [ -e '{fail}' ]; then echo 'fatal: the test says no' >&2; exit 128; fi\n  fi\ndone\nexec '{real}' \"$@\"\n",
        hold = dir.join("hold").display(),
        fail = dir.join("fail").display(),
        real = real.trim(),
    );
    let git = bin.join("git");
    std::fs::write(&git, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&git, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn engine_with_fake_git(sb: &Sandbox, dir: &Path) -> EngineProcess {
    let bin = fake_git(dir);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    start_engine_with_env(sb, &[("PATH", &path)])
}

fn job(sb: &Sandbox, id: i64) -> Value {
    sb.run(&["jobs", &id.to_string(), "--json"]).json()
}

fn review_state(sb: &Sandbox, id: i64) -> Option<String> {
    sb.run(&["review", "--json"])
        .json()
        .as_array()
        .into_iter()
        .flatten()
        .find(|r| r["job"] == id)
        .and_then(|r| r["state"].as_str().map(str::to_string))
}

#[test]
fn a_job_shows_done_while_git_still_commits_its_work() {
    let sb = home_with(FAST, &["api"]);
    let git = tempfile::tempdir().unwrap();
    std::fs::write(git.path().join("hold"), "").unwrap();
    let _engine = engine_with_fake_git(&sb, git.path());
    sb.run(&["dispatch", "api", "write the docs"]).ok();

    // git's commit is held: the turn's end shows all the same.
    wait_secs(30, "the job done while its commit is held", || {
        job(&sb, 1)["state"] == "done"
    });
    assert_eq!(review_state(&sb, 1).as_deref(), Some("committing"));
    let approve = sb.run(&["approve", "1"]);
    assert!(
        approve.code != 0 && approve.stderr.contains("being committed"),
        "approve waits for the commit: {} {}",
        approve.stdout,
        approve.stderr
    );

    std::fs::remove_file(git.path().join("hold")).unwrap();
    wait_secs(30, "the review item ready", || {
        review_state(&sb, 1).as_deref() == Some("ready")
    });
    let item = &sb.run(&["review", "--json"]).json()[0];
    assert_eq!(item["files"], 1, "{item}");
    // The story in order: done, then committing, then ready.
    let events: Vec<(String, String)> = sb
        .journal()
        .events(1)
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.message))
        .collect();
    let at = |kind: &str, text: &str| {
        events
            .iter()
            .position(|(k, m)| k == kind && m.contains(text))
            .unwrap_or_else(|| panic!("no {kind} event with {text:?}: {events:?}"))
    };
    assert!(at("done", "") < at("review", "committing"), "{events:?}");
    assert!(
        at("review", "committing") < at("review", "ready for review"),
        "{events:?}"
    );
}

#[test]
fn a_commit_that_fails_leaves_the_job_done_and_its_work_uncommitted_with_the_reason() {
    let sb = home_with(FAST, &["api"]);
    let git = tempfile::tempdir().unwrap();
    std::fs::write(git.path().join("fail"), "").unwrap();
    let _engine = engine_with_fake_git(&sb, git.path());
    sb.run(&["dispatch", "api", "write the docs"]).ok();

    wait_secs(30, "the review item uncommitted", || {
        review_state(&sb, 1).as_deref() == Some("uncommitted")
    });
    assert_eq!(job(&sb, 1)["state"], "done");
    let said = sb
        .journal()
        .events(1)
        .unwrap()
        .into_iter()
        .rev()
        .find(|e| e.kind == "review")
        .expect("a review event");
    assert!(
        said.message.contains("could not be committed")
            && said.message.contains("the test says no"),
        "the reason is shown: {}",
        said.message
    );
    // Some passes later it is still so: no silent reversal, no failure.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(job(&sb, 1)["state"], "done");
    assert_eq!(review_state(&sb, 1).as_deref(), Some("uncommitted"));

    // Approve commits it (the cause gone) and merges it.
    std::fs::remove_file(git.path().join("fail")).unwrap();
    sb.run(&["approve", "1"]).ok();
    wait_secs(30, "the merge", || {
        review_state(&sb, 1).as_deref() == Some("merged")
    });
    assert_eq!(
        std::fs::read_to_string(sb.dir.path().join("api/DEMO.md")).unwrap(),
        "- write the docs\n"
    );
}

#[test]
fn work_left_committing_by_an_engine_that_ended_is_committed_by_the_next() {
    let sb = home_with(FAST, &["api"]);
    let git = tempfile::tempdir().unwrap();
    std::fs::write(git.path().join("hold"), "").unwrap();
    let engine = engine_with_fake_git(&sb, git.path());
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    wait_secs(30, "the job done while its commit is held", || {
        review_state(&sb, 1).as_deref() == Some("committing")
    });
    engine.crash();
    std::fs::remove_file(git.path().join("hold")).unwrap();
    let _engine = engine_with_fake_git(&sb, git.path());
    wait_secs(30, "the review item ready", || {
        review_state(&sb, 1).as_deref() == Some("ready")
    });
    assert_eq!(sb.run(&["review", "--json"]).json()[0]["files"], 1);
}
