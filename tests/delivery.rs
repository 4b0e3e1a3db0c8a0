//! From finished work to the base branch: merge strategies, what becomes
//! of worktrees and branches after a merge, and `switchboard clean`. Real
//! git, real repositories; the engine tests run the real binary.

mod common;

use std::fs;
use std::process::Command;
use std::time::Duration;

use common::engine::{FAST, home_with, start_engine, wait_secs};
use common::{Sandbox, git, git_output};
use switchboard::config::{Config, MergeStrategy};
use switchboard::workspace::{MergeOutcome, commit_all, merge_with, open_worktree};

fn rev(repo: &std::path::Path, what: &str) -> String {
    git_output(repo, &["rev-parse", what]).trim().to_string()
}

/// A worktree for job `id` with two commits, while the base moved on.
fn two_commits_and_a_moved_base(sb: &Sandbox, id: i64) -> (std::path::PathBuf, String) {
    let repo = sb.repo("api");
    let wt = open_worktree(&repo, "main", &sb.home().join("worktrees"), id).unwrap();
    fs::write(wt.path.join("a.txt"), "one\n").unwrap();
    commit_all(&wt.path, &format!("job #{id}: first")).unwrap();
    fs::write(wt.path.join("b.txt"), "two\n").unwrap();
    commit_all(&wt.path, &format!("job #{id}: second")).unwrap();
    fs::write(repo.join("other.txt"), "x\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "meanwhile"]);
    (repo, wt.branch)
}

#[test]
fn squash_makes_one_commit_with_one_parent() {
    let sb = Sandbox::new();
    let (repo, branch) = two_commits_and_a_moved_base(&sb, 5);
    let before = rev(&repo, "main");
    let outcome = merge_with(
        &repo,
        "main",
        &branch,
        "switchboard job #5: the task",
        MergeStrategy::Squash,
    )
    .unwrap();
    assert!(
        matches!(outcome, MergeOutcome::Merged { .. }),
        "{outcome:?}"
    );
    let parents = git_output(&repo, &["log", "-1", "--format=%P", "main"]);
    assert_eq!(parents.trim(), before, "one parent: the old base");
    assert_eq!(
        git_output(&repo, &["log", "-1", "--format=%s", "main"]).trim(),
        "switchboard job #5: the task"
    );
    assert_eq!(fs::read_to_string(repo.join("a.txt")).unwrap(), "one\n");
    assert_eq!(fs::read_to_string(repo.join("b.txt")).unwrap(), "two\n");
}

#[test]
fn rebase_replays_the_commits_on_the_moved_base() {
    let sb = Sandbox::new();
    let (repo, branch) = two_commits_and_a_moved_base(&sb, 6);
    let before = rev(&repo, "main");
    let outcome = merge_with(&repo, "main", &branch, "unused", MergeStrategy::Rebase).unwrap();
    assert!(
        matches!(outcome, MergeOutcome::Merged { .. }),
        "{outcome:?}"
    );
    let log = git_output(
        &repo,
        &["log", "--format=%s|%P", &format!("{before}..main")],
    );
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "two replayed commits: {log}");
    assert!(lines[0].starts_with("job #6: second|"));
    assert!(lines[1].starts_with(&format!("job #6: first|{before}")));
    assert!(
        lines
            .iter()
            .all(|l| !l.rsplit('|').next().unwrap_or_default().contains(' ')),
        "no merge commit: {log}"
    );
    assert_eq!(
        rev(&repo, &branch),
        rev(&repo, "main"),
        "the branch follows"
    );
}

#[test]
fn a_rebase_that_conflicts_changes_nothing() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    let wt = open_worktree(&repo, "main", &sb.home().join("worktrees"), 7).unwrap();
    fs::write(wt.path.join("README.md"), "# agent's\n").unwrap();
    commit_all(&wt.path, "job #7").unwrap();
    fs::write(repo.join("README.md"), "# operator's\n").unwrap();
    git(&repo, &["commit", "-q", "-am", "conflicting"]);
    let (base, tip) = (rev(&repo, "main"), rev(&repo, &wt.branch));
    let outcome = merge_with(&repo, "main", &wt.branch, "m", MergeStrategy::Rebase).unwrap();
    assert_eq!(
        outcome,
        MergeOutcome::Conflict {
            files: vec!["README.md".into()]
        }
    );
    assert_eq!(rev(&repo, "main"), base);
    assert_eq!(rev(&repo, &wt.branch), tip);
}

fn has_branch(repo: &std::path::Path, branch: &str) -> bool {
    Command::new("git")
        .arg("-C")
        .arg(repo)
        .args([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ])
        .output()
        .unwrap()
        .status
        .success()
}

fn review_state(sb: &Sandbox) -> String {
    sb.run(&["review", "--json"]).json()[0]["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn approve_squashes_then_removes_the_worktree_and_the_branch() {
    let config = format!("{FAST}\n[projects.api]\nmerge_strategy = \"squash\"\n");
    let sb = home_with(&config, &["api"]);
    let repo = sb.dir.path().join("api");
    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    wait_secs(30, "the review item", || review_state(&sb) == "ready");
    let before = rev(&repo, "main");
    sb.run(&["approve", "1"]).ok();
    wait_secs(30, "the merge", || review_state(&sb) == "merged");
    assert_eq!(
        git_output(&repo, &["log", "-1", "--format=%P", "main"]).trim(),
        before,
        "squashed: one parent"
    );
    let message = git_output(&repo, &["log", "-1", "--format=%B", "main"]);
    assert!(
        message.contains("job #1") && message.contains("write the docs"),
        "{message}"
    );
    assert!(!sb.home().join("worktrees/job-1").exists());
    assert!(!has_branch(&repo, "switchboard/1"), "the branch is deleted");
    let events = sb.run(&["jobs", "1", "--json"]).json()["events"].to_string();
    assert!(
        events.contains("the branch switchboard/1 was deleted"),
        "{events}"
    );
}

#[test]
fn keep_branches_keeps_the_branch_after_the_merge() {
    let config = format!("{FAST}\n[projects.api]\nkeep_branches = true\n");
    let sb = home_with(&config, &["api"]);
    let repo = sb.dir.path().join("api");
    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    wait_secs(30, "the review item", || review_state(&sb) == "ready");
    sb.run(&["approve", "1"]).ok();
    wait_secs(30, "the merge", || review_state(&sb) == "merged");
    assert!(has_branch(&repo, "switchboard/1"));
    assert!(!sb.home().join("worktrees/job-1").exists());
}

#[test]
fn clean_removes_old_worktrees_of_killed_jobs_but_never_uncommitted_work() {
    let config = format!("{FAST}\n[projects.api]\nkeep_failed = \"1h\"\n");
    let sb = home_with(&config, &["api"]);
    let repo = sb.dir.path().join("api");
    for (id, text) in [(1, "clean"), (2, "dirty")] {
        sb.run(&["dispatch", "api", text]).ok();
        open_worktree(&repo, "main", &sb.home().join("worktrees"), id).unwrap();
    }
    let long_ago = switchboard::model::Timestamp::now().millis() - 2 * 3600 * 1000;
    sb.sql(&format!(
        "UPDATE jobs SET state = 'killed', state_since = {long_ago}, state_reason = 'killed by the operator'"
    ));
    fs::write(
        sb.home().join("worktrees/job-2/work.txt"),
        "not committed\n",
    )
    .unwrap();

    let dry = sb.run(&["clean", "--dry-run", "--json"]).json();
    assert_eq!(dry.as_array().map(Vec::len), Some(2), "{dry}");
    assert!(
        sb.home().join("worktrees/job-1").exists(),
        "a dry run removes nothing"
    );

    let done = sb.run(&["clean", "--json"]).json();
    assert!(!sb.home().join("worktrees/job-1").exists());
    assert!(!has_branch(&repo, "switchboard/1"));
    assert!(
        sb.home().join("worktrees/job-2/work.txt").exists(),
        "uncommitted work stays: {done}"
    );
    assert!(done.to_string().contains("uncommitted work.txt"), "{done}");

    sb.run(&["clean", "--force"]).ok();
    assert!(
        !sb.home().join("worktrees/job-2").exists(),
        "--force removes it"
    );
}

#[test]
fn keep_failed_is_measured_on_the_clock_it_is_given() {
    let config_text = format!("{FAST}\n[projects.api]\nkeep_failed = \"7d\"\n");
    let sb = home_with(&config_text, &["api"]);
    let repo = sb.dir.path().join("api");
    sb.run(&["dispatch", "api", "x"]).ok();
    open_worktree(&repo, "main", &sb.home().join("worktrees"), 1).unwrap();
    let now = switchboard::model::Timestamp::now();
    sb.sql(&format!(
        "UPDATE jobs SET state = 'killed', state_since = {}, state_reason = 'killed'",
        now.millis()
    ));
    let config =
        Config::from_texts(Some(&config_text), std::path::Path::new("config.toml")).unwrap();
    let home = switchboard::home::Home::at(sb.home());
    let journal = sb.journal();
    let plan = |at| {
        switchboard::engine::cleanup::plan(&journal, &config, &home, at)
            .unwrap()
            .removals
    };
    assert!(
        plan(now.plus(Duration::from_secs(6 * 86_400))).is_empty(),
        "six days: kept"
    );
    let due = plan(now.plus(Duration::from_secs(7 * 86_400 + 60)));
    assert_eq!(due.len(), 1);
    assert!(due[0].why.contains("killed"), "{:?}", due[0]);
}

fn job_json(sb: &Sandbox, id: i64) -> serde_json::Value {
    sb.run(&["jobs", &id.to_string(), "--json"]).json()
}

/// Whether a process with this command line runs.
fn sleeping(command_line: &str) -> bool {
    std::process::Command::new("pgrep")
        .args(["-f", "-x", command_line])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// A home whose project `api` has `settings` and whose jobs get one attempt.
fn with_settings(settings: &str) -> Sandbox {
    let config = FAST.replace("[scheduler]\n", "[scheduler]\nmax_attempts = 1\n")
        + &format!("\n[projects.api]\n{settings}\n");
    home_with(&config, &["api"])
}

#[test]
fn setup_runs_in_the_new_worktree_before_the_agent() {
    let sb = with_settings(
        r#"setup = ["sh", "-c", "echo set up by setup > SETUP.txt; echo the setup ran"]"#,
    );
    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "after the setup"]).ok();
    wait_secs(30, "the job done", || job_json(&sb, 1)["state"] == "done");
    let worktree = sb.home().join("worktrees/job-1");
    assert_eq!(
        fs::read_to_string(worktree.join("SETUP.txt")).unwrap(),
        "set up by setup\n"
    );
    let log = fs::read_to_string(sb.home().join("logs/job-1-setup.log")).unwrap();
    assert!(log.contains("the setup ran"), "{log}");
}

#[test]
fn a_setup_that_fails_or_hangs_fails_the_attempt_with_its_last_lines() {
    let sb = with_settings(r#"setup = ["sh", "-c", "echo npm ERR! missing script; exit 3"]"#);
    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "never starts"]).ok();
    wait_secs(30, "the job failed", || {
        job_json(&sb, 1)["state"] == "failed"
    });
    let events = job_json(&sb, 1)["events"].to_string();
    assert!(
        events.contains("setup") && events.contains("npm ERR! missing script"),
        "{events}"
    );
    drop(_engine);

    // A setup that started a child of its own: out of time, the whole
    // of it is ended, not only its first process.
    let sb = with_settings(
        "setup = [\"sh\", \"-c\", \"sleep 3007 & sleep 3007\"]\nsetup_timeout = \"1s\"",
    );
    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "never starts"]).ok();
    wait_secs(30, "the job failed", || {
        job_json(&sb, 1)["state"] == "failed"
    });
    let events = job_json(&sb, 1)["events"].to_string();
    assert!(events.contains("did not finish within 1s"), "{events}");
    wait_secs(10, "no process of the setup left", || {
        !sleeping("sleep 3007")
    });
}

#[test]
fn a_setup_child_that_leaves_the_group_is_ended_too() {
    // setsid: the child heads a session of its own, out of the setup's
    // process group, which the timeout kills.
    let sb = with_settings(
        "setup = [\"sh\", \"-c\", \"setsid sleep 3013 </dev/null >/dev/null 2>&1 & sleep 3014\"]\nsetup_timeout = \"1s\"",
    );
    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "never starts"]).ok();
    wait_secs(30, "the job failed", || {
        job_json(&sb, 1)["state"] == "failed"
    });
    let events = job_json(&sb, 1)["events"].to_string();
    assert!(events.contains("did not finish within 1s"), "{events}");
    wait_secs(10, "no process of the setup left", || {
        !sleeping("sleep 3013") && !sleeping("sleep 3014")
    });
}

#[test]
fn include_refuses_a_path_whose_directory_is_a_link_out_of_the_repository() {
    // In the checkout, `secrets` is a link to a directory outside it.
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("key"), "not the repository's\n").unwrap();
    let sb = with_settings(r#"include = ["secrets/key"]"#);
    let repo = sb.dir.path().join("api");
    std::os::unix::fs::symlink(outside.path(), repo.join("secrets")).unwrap();
    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "never starts"]).ok();
    wait_secs(30, "the job failed", || {
        job_json(&sb, 1)["state"] == "failed"
    });
    let events = job_json(&sb, 1)["events"].to_string();
    assert!(
        events.contains("include secrets/key:") && events.contains("leads out of the repository"),
        "{events}"
    );
    assert!(!sb.home().join("worktrees/job-1/secrets/key").exists());

    // The worktree's side: the base commit has `conf` as a link out of
    // the repository (the checkout has a directory there, uncommitted):
    // copying into it would write outside the worktree.
    let target = tempfile::tempdir().unwrap();
    let sb = with_settings(r#"include = ["conf/local.toml"]"#);
    let repo = sb.dir.path().join("api");
    std::os::unix::fs::symlink(target.path(), repo.join("conf")).unwrap();
    git(&repo, &["add", "conf"]);
    git(&repo, &["commit", "-q", "-m", "conf is a link"]);
    fs::remove_file(repo.join("conf")).unwrap();
    fs::create_dir(repo.join("conf")).unwrap();
    fs::write(repo.join("conf/local.toml"), "port = 1\n").unwrap();
    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "never starts"]).ok();
    wait_secs(30, "the job failed", || {
        job_json(&sb, 1)["state"] == "failed"
    });
    let events = job_json(&sb, 1)["events"].to_string();
    assert!(
        events.contains("include conf/local.toml:") && events.contains("leads out of the worktree"),
        "{events}"
    );
    assert!(
        !target.path().join("local.toml").exists(),
        "nothing written outside the worktree"
    );
}

#[test]
fn included_files_reach_the_worktree_and_are_never_committed() {
    let sb = with_settings(r#"include = [".env", "config/local.toml", "missing.txt"]"#);
    let repo = sb.dir.path().join("api");
    fs::write(repo.join(".env"), "SECRET=1\n").unwrap();
    fs::create_dir_all(repo.join("config")).unwrap();
    fs::write(repo.join("config/local.toml"), "port = 1\n").unwrap();
    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "use the env"]).ok();
    wait_secs(30, "the review item", || review_state(&sb) == "ready");
    let worktree = sb.home().join("worktrees/job-1");
    assert_eq!(
        fs::read_to_string(worktree.join(".env")).unwrap(),
        "SECRET=1\n"
    );
    let committed = git_output(&repo, &["ls-tree", "-r", "--name-only", "switchboard/1"]);
    assert!(committed.contains("DEMO.md"), "{committed}");
    assert!(
        !committed.contains(".env") && !committed.contains("local.toml"),
        "included files stay out of the branch: {committed}"
    );
    sb.run(&["approve", "1"]).ok();
    wait_secs(30, "the merge", || review_state(&sb) == "merged");
    assert!(
        !worktree.exists(),
        "included files do not count as uncommitted work"
    );
}

#[test]
fn a_conflict_sent_back_is_resolved_by_the_agent_then_merged() {
    let sb = home_with(FAST, &["api"]);
    let repo = sb.dir.path().join("api");
    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    wait_secs(30, "the review item", || review_state(&sb) == "ready");
    // Meanwhile the base gets its own DEMO.md: the two conflict.
    fs::write(repo.join("DEMO.md"), "the operator's line\n").unwrap();
    git(&repo, &["add", "DEMO.md"]);
    git(&repo, &["commit", "-q", "-m", "the operator's DEMO.md"]);
    let base = rev(&repo, "main");
    sb.run(&["approve", "1"]).ok();
    wait_secs(30, "the conflict", || review_state(&sb) == "conflict");
    assert_eq!(
        rev(&repo, "main"),
        base,
        "a conflict leaves the base as it was"
    );

    // Sent back: the agent is told which files, in its own worktree.
    sb.run(&["reject", "1"]).ok();
    wait_secs(30, "the resolved work in review", || {
        review_state(&sb) == "ready"
    });
    let events = job_json(&sb, 1)["events"].to_string();
    assert!(
        events.contains("conflicts with your work in DEMO.md"),
        "{events}"
    );
    sb.run(&["approve", "1"]).ok();
    wait_secs(30, "the merge", || review_state(&sb) == "merged");
    let merged = fs::read_to_string(repo.join("DEMO.md")).unwrap();
    assert!(
        merged.contains("- write the docs") && merged.contains("the operator's line"),
        "both sides kept: {merged}"
    );
    assert!(
        !merged.contains("<<<<<<<"),
        "no markers left: {merged}\n{}",
        sb.run(&["jobs", "1"]).stdout
    );
}

/// Approve with each strategy after the base moved: the branch is brought
/// up to date in its worktree first, then merged; the worktree is left
/// clean (so it is removed) and the base has both sides.
#[test]
fn approve_brings_the_branch_up_to_date_with_a_moved_base_by_each_strategy() {
    for strategy in ["merge", "rebase", "squash"] {
        let config = format!("{FAST}\n[projects.api]\nmerge_strategy = \"{strategy}\"\n");
        let sb = home_with(&config, &["api"]);
        let repo = sb.dir.path().join("api");
        let _engine = start_engine(&sb);
        sb.run(&["dispatch", "api", "write the docs"]).ok();
        wait_secs(30, "the review item", || review_state(&sb) == "ready");
        fs::write(repo.join("other.txt"), "meanwhile\n").unwrap();
        git(&repo, &["add", "other.txt"]);
        git(&repo, &["commit", "-q", "-m", "meanwhile on main"]);
        sb.run(&["approve", "1"]).ok();
        wait_secs(30, "the merge", || review_state(&sb) == "merged");
        let events = job_json(&sb, 1)["events"].to_string();
        assert!(
            !sb.home().join("worktrees/job-1").exists(),
            "{strategy}: the worktree is removed: {events}"
        );
        assert!(!has_branch(&repo, "switchboard/1"), "{strategy}: {events}");
        let tree = git_output(&repo, &["ls-tree", "--name-only", "main"]);
        assert!(
            tree.contains("other.txt") && tree.contains("DEMO.md"),
            "{strategy}: {tree}"
        );
        let how = match strategy {
            "merge" => "was merged into the branch",
            "rebase" => "the branch was rebased onto the base",
            _ => "the branch was squashed into one commit on the base",
        };
        assert!(
            events.contains(how),
            "{strategy}: the event says how the branch was brought up to date: {events}"
        );
    }
}
