//! The git workspace against real repositories made by the test.

mod common;

use std::fs;
use std::process::Command;

use common::{Sandbox, git};
use switchboard::workspace::{
    MergeOutcome, commit_all, diff_stat, diff_text, merge, open_worktree, remove_worktree,
};

fn rev(dir: &std::path::Path, what: &str) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["rev-parse", what])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn a_worktree_per_job_from_the_base_leaving_the_source_alone() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    fs::write(repo.join("README.md"), "# api\nlocal edit, not committed\n").unwrap();
    fs::write(repo.join("scratch.txt"), "mine").unwrap();
    let worktrees = sb.home().join("worktrees");
    let wt = open_worktree(&repo, "main", &worktrees, 7).unwrap();
    assert_eq!(wt.branch, "switchboard/7");
    assert_eq!(wt.path, worktrees.join("job-7"));
    assert_eq!(
        wt.base_commit,
        rev(&repo, "main"),
        "the snapshot is the base commit"
    );
    assert_eq!(
        fs::read_to_string(wt.path.join("README.md")).unwrap(),
        "# api\n",
        "committed state only"
    );
    assert!(!wt.path.join("scratch.txt").exists());
    // The source checkout keeps its uncommitted changes.
    assert!(
        fs::read_to_string(repo.join("README.md"))
            .unwrap()
            .contains("local edit")
    );
    assert!(repo.join("scratch.txt").exists());

    // A restart opens the same worktree with the work in it.
    fs::write(wt.path.join("work.txt"), "half done").unwrap();
    let again = open_worktree(&repo, "main", &worktrees, 7).unwrap();
    assert_eq!(again, wt);
    assert!(again.path.join("work.txt").exists());
}

#[test]
fn commit_takes_every_change_and_the_diff_stat_counts_it() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    let wt = open_worktree(&repo, "main", &sb.home().join("worktrees"), 1).unwrap();
    assert_eq!(
        commit_all(&wt.path, "nothing").unwrap(),
        None,
        "nothing to commit"
    );
    fs::write(wt.path.join("README.md"), "# api\nmore\nlines\n").unwrap();
    fs::create_dir(wt.path.join("src")).unwrap();
    fs::write(wt.path.join("src/new.rs"), "fn main() {}\n").unwrap();
    let commit = commit_all(&wt.path, "switchboard: job #1 fix the login button")
        .unwrap()
        .unwrap();
    assert_eq!(rev(&repo, "switchboard/1"), commit);
    let msg = Command::new("git")
        .arg("-C")
        .arg(&repo)
        .args(["log", "-1", "--format=%s", "switchboard/1"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&msg.stdout).trim(),
        "switchboard: job #1 fix the login button"
    );
    let stat = diff_stat(&repo, &wt.base_commit, &wt.branch).unwrap();
    assert_eq!((stat.files, stat.insertions, stat.deletions), (2, 3, 0));
    // The diff view's text: from the base commit, or from where the branch
    // left main; cut at a limit.
    let text = diff_text(&repo, Some(&wt.base_commit), "main", &wt.branch, 1000).unwrap();
    assert!(text.contains(&"+fn main() {}".to_string()), "{text:?}");
    assert_eq!(
        diff_text(&repo, None, "main", &wt.branch, 1000).unwrap(),
        text
    );
    let cut = diff_text(&repo, None, "main", &wt.branch, 3).unwrap();
    assert_eq!(cut.len(), 4);
    assert_eq!(cut[3], "… cut at 3 lines");
}

#[test]
fn approve_merges_into_a_clean_checked_out_base() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    let wt = open_worktree(&repo, "main", &sb.home().join("worktrees"), 3).unwrap();
    fs::write(wt.path.join("feature.txt"), "done\n").unwrap();
    commit_all(&wt.path, "job #3").unwrap();
    // The base moved on meanwhile: the merge is a real merge.
    fs::write(repo.join("other.txt"), "x\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "meanwhile"]);
    let outcome = merge(&repo, "main", &wt.branch, "Merge switchboard/3 (job #3)").unwrap();
    let MergeOutcome::Merged { commit } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(rev(&repo, "main"), commit);
    assert_eq!(
        fs::read_to_string(repo.join("feature.txt")).unwrap(),
        "done\n",
        "the checkout followed"
    );
    let status = Command::new("git")
        .arg("-C")
        .arg(&repo)
        .args(["status", "--porcelain"])
        .output()
        .unwrap();
    assert!(status.stdout.is_empty(), "a clean checkout after the merge");
    // Approving again is harmless: the branch is already in.
    assert_eq!(
        merge(&repo, "main", &wt.branch, "again").unwrap(),
        MergeOutcome::AlreadyIn
    );
    assert_eq!(rev(&repo, "main"), commit);
}

/// A branch with no commit of its own (the agent changed no file) has
/// nothing to merge: the outcome says so and the base stays where it was.
#[test]
fn a_branch_without_changes_has_nothing_to_merge() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    let wt = open_worktree(&repo, "main", &sb.home().join("worktrees"), 4).unwrap();
    let before = rev(&repo, "main");
    assert_eq!(
        merge(&repo, "main", &wt.branch, "Merge switchboard/4").unwrap(),
        MergeOutcome::AlreadyIn
    );
    assert_eq!(rev(&repo, "main"), before, "the base did not move");
}

#[test]
fn a_conflict_leaves_the_base_as_it_was() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    let wt = open_worktree(&repo, "main", &sb.home().join("worktrees"), 4).unwrap();
    fs::write(wt.path.join("README.md"), "# agent's version\n").unwrap();
    commit_all(&wt.path, "job #4").unwrap();
    fs::write(repo.join("README.md"), "# operator's version\n").unwrap();
    git(&repo, &["commit", "-q", "-am", "conflicting"]);
    let before = rev(&repo, "main");
    let outcome = merge(&repo, "main", &wt.branch, "Merge").unwrap();
    assert_eq!(
        outcome,
        MergeOutcome::Conflict {
            files: vec!["README.md".into()]
        }
    );
    assert_eq!(rev(&repo, "main"), before);
    assert_eq!(
        fs::read_to_string(repo.join("README.md")).unwrap(),
        "# operator's version\n"
    );
    assert!(
        !repo.join(".git/MERGE_HEAD").exists(),
        "no merge in progress"
    );
}

#[test]
fn a_dirty_base_checkout_is_refused_with_the_reason() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    let wt = open_worktree(&repo, "main", &sb.home().join("worktrees"), 5).unwrap();
    fs::write(wt.path.join("feature.txt"), "done\n").unwrap();
    commit_all(&wt.path, "job #5").unwrap();
    fs::write(repo.join("README.md"), "# edited, not committed\n").unwrap();
    let before = rev(&repo, "main");
    match merge(&repo, "main", &wt.branch, "Merge").unwrap() {
        MergeOutcome::Refused { reason } => {
            assert!(reason.contains("uncommitted changes"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(rev(&repo, "main"), before);
    assert_eq!(
        fs::read_to_string(repo.join("README.md")).unwrap(),
        "# edited, not committed\n"
    );
}

#[test]
fn a_base_branch_checked_out_nowhere_moves_by_its_ref() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    git(&repo, &["branch", "release"]);
    let wt = open_worktree(&repo, "release", &sb.home().join("worktrees"), 6).unwrap();
    fs::write(wt.path.join("fix.txt"), "fix\n").unwrap();
    commit_all(&wt.path, "job #6").unwrap();
    let main_before = rev(&repo, "main");
    let MergeOutcome::Merged { commit } = merge(&repo, "release", &wt.branch, "Merge").unwrap()
    else {
        panic!()
    };
    assert_eq!(rev(&repo, "release"), commit);
    assert_eq!(
        rev(&repo, "main"),
        main_before,
        "the checked-out branch is untouched"
    );
    assert!(!repo.join("fix.txt").exists());
    remove_worktree(&repo, &wt.path).unwrap();
    assert!(!wt.path.exists());
    assert_eq!(
        rev(&repo, "switchboard/6"),
        rev(&repo, "release^2"),
        "the branch stays"
    );
}

/// `git status -z` writes a staged rename as two fields, the new path with
/// its status and then the old path bare: the old one is neither cut at
/// byte 3 (a panic inside a multi-byte name, a wrong name otherwise) nor
/// listed as a change of its own.
#[test]
fn a_staged_rename_with_a_multibyte_name_is_listed_once_and_whole() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    let worktrees = sb.home().join("worktrees");
    let wt = open_worktree(&repo, "main", &worktrees, 9).unwrap();
    fs::write(wt.path.join("ab€x.txt"), "moved\n").unwrap();
    git(&wt.path, &["add", "ab€x.txt"]);
    git(
        &wt.path,
        &["commit", "-qm", "a file with a multi-byte name"],
    );
    git(&wt.path, &["mv", "ab€x.txt", "né.txt"]);
    fs::write(wt.path.join("ü new.txt"), "new\n").unwrap();
    let mut left = switchboard::workspace::uncommitted(&wt.path).unwrap();
    left.sort();
    assert_eq!(left, vec!["né.txt".to_string(), "ü new.txt".to_string()]);
}
