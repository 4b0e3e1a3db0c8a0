//! Delivering approved work to a remote: `deliver = "push"` and `"pr"`,
//! with a real bare repository as the remote, a recording stand-in for
//! `gh` on PATH, and the real engine.

mod common;

use std::fs;
use std::path::PathBuf;

use common::engine::{FAST, home_with, wait_secs};
use common::remote::{
    GITHUB, Remote, approve_until, calls, dispatch_until_ready, engine, engine_with, events,
    fake_gh, fake_glab, glab_calls, has_ref, merge_on_remote, push_to_remote_main, rev, review,
    review_state, until,
};
use common::{Sandbox, git_output};

#[test]
fn push_delivers_the_branch_and_the_job_ends_once_it_is_merged_there() {
    let Remote { sb, repo, bare } = Remote::new("deliver = \"push\"", None);
    let _engine = engine(&sb);
    dispatch_until_ready(&sb);
    approve_until(&sb, "delivered", "the push");
    assert_eq!(
        rev(&bare, "refs/heads/switchboard/1"),
        rev(&repo, "refs/heads/switchboard/1"),
        "the branch arrived on the remote"
    );
    let item = review(&sb);
    assert_eq!(item["delivery"]["kind"], "push", "{item}");
    assert_eq!(item["delivery"]["state"], "open", "{item}");
    assert_eq!(item["delivery"]["remote"], "origin", "{item}");
    assert!(
        sb.home().join("worktrees/job-1").exists(),
        "the worktree stays until the work is merged"
    );
    let listed = sb.run(&["review"]).ok().to_string();
    assert!(listed.contains("pushed to origin"), "{listed}");

    merge_on_remote(sb.dir.path(), &bare, "switchboard/1");
    until(&sb, "merged", "the merge seen on the remote");
    assert!(!has_ref(&bare, "refs/heads/switchboard/1"), "deleted there");
    assert!(!has_ref(&repo, "refs/heads/switchboard/1"), "deleted here");
    assert!(!sb.home().join("worktrees/job-1").exists());
    let item = review(&sb);
    assert_eq!(item["delivery"]["state"], "merged", "{item}");
    let said = events(&sb, 1);
    assert!(said.contains("the branch was deleted on origin"), "{said}");
    assert_eq!(
        rev(&repo, "refs/heads/main"),
        rev(&bare, "refs/heads/main"),
        "the local main follows the remote's: {said}"
    );
    assert!(
        repo.join("DEMO.md").exists(),
        "its clean checkout too: {said}"
    );
}

#[test]
fn push_without_a_remote_says_so_and_changes_nothing() {
    let config = format!("{FAST}\n[projects.api]\ndeliver = \"push\"\n");
    let sb = home_with(&config, &["api"]);
    let _engine = engine(&sb);
    dispatch_until_ready(&sb);
    let said = sb.run(&["approve", "1"]).fails(1).to_string();
    assert!(
        said.contains("has no remote `origin`"),
        "approve says why: {said}"
    );
    wait_secs(30, "the approve's answer", || {
        events(&sb, 1).contains("has no remote `origin`")
    });
    assert_eq!(review_state(&sb), "ready");
    let said = events(&sb, 1);
    assert!(said.contains("git remote add origin URL"), "{said}");
}

#[test]
fn pr_pushes_opens_a_pull_request_with_gh_and_follows_it_to_the_merge() {
    let Remote { sb, repo, bare } = Remote::new("deliver = \"pr\"", Some(GITHUB));
    let fake = sb.dir.path().join("fake-gh");
    let bin = fake_gh(&fake);
    let _engine = engine_with(&sb, &bin);
    sb.run_with_input(
        &["ingest", "-"],
        br#"{"type":"ticket","key":"OPS-12","title":"login broken","body":"the login button does nothing","project":"api"}"#,
    )
    .ok();
    until(&sb, "ready", "the review item");
    approve_until(&sb, "delivered", "the pull request");

    assert_eq!(
        rev(&bare, "refs/heads/switchboard/1"),
        rev(&repo, "refs/heads/switchboard/1"),
        "the push went to the real remote"
    );
    let title = sb.run(&["jobs", "1", "--json"]).json()["title"]
        .as_str()
        .unwrap()
        .to_string();
    let made = calls(&fake);
    let create = made.first().expect("gh was called");
    let body_file = sb
        .home()
        .join("worktrees/job-1/.switchboard/pull-request.md");
    assert_eq!(
        create,
        &[
            "pr",
            "create",
            "--base",
            "main",
            "--head",
            "switchboard/1",
            "--title",
            title.as_str(),
            "--body-file",
            body_file.to_str().unwrap(),
            "--repo",
            "acme/api",
        ],
    );
    assert_eq!(
        fs::read_to_string(fake.join("stdin")).unwrap(),
        "",
        "no stdin"
    );
    let body = fs::read_to_string(fake.join("body")).unwrap();
    for part in [
        "the login button does nothing",
        "ticket OPS-12: login broken",
        "## Changes",
        "DEMO.md",
        "## Key events",
        "is ready for review",
    ] {
        assert!(body.contains(part), "{part:?} in the body:\n{body}");
    }
    assert!(!body_file.exists(), "the body file is removed after use");
    let item = review(&sb);
    assert_eq!(item["url"], "https://github.com/acme/api/pull/7", "{item}");
    assert_eq!(item["delivery"]["kind"], "pr", "{item}");
    assert_eq!(item["delivery"]["state"], "open", "{item}");
    let listed = sb.run(&["review"]).ok().to_string();
    assert!(
        listed.contains("pr open to origin: https://github.com/acme/api/pull/7"),
        "{listed}"
    );

    // It is followed with `gh pr view URL --json state,url,mergedAt`.
    wait_secs(30, "a look at the pull request", || {
        calls(&fake).iter().any(|c| c[1] == "view")
    });
    let view = calls(&fake).into_iter().find(|c| c[1] == "view").unwrap();
    assert_eq!(
        view,
        [
            "pr",
            "view",
            "https://github.com/acme/api/pull/7",
            "--json",
            "state,url,mergedAt"
        ]
    );
    assert_eq!(review_state(&sb), "delivered", "still open");

    fs::write(
        fake.join("state.json"),
        r#"{"mergedAt":"2026-11-29T21:00:00Z","state":"MERGED","url":"https://github.com/acme/api/pull/7"}"#,
    )
    .unwrap();
    until(&sb, "merged", "the merge");
    assert_eq!(review(&sb)["delivery"]["state"], "merged");
    assert!(!has_ref(&bare, "refs/heads/switchboard/1"));
    assert!(!has_ref(&repo, "refs/heads/switchboard/1"));
    assert!(!sb.home().join("worktrees/job-1").exists());
    assert_eq!(
        calls(&fake).iter().filter(|c| c[1] == "create").count(),
        1,
        "one pull request"
    );
}

#[test]
fn a_closed_pull_request_is_shown_closed_and_left_to_the_operator() {
    let Remote { sb, bare, .. } = Remote::new("deliver = \"pr\"", Some(GITHUB));
    let fake = sb.dir.path().join("fake-gh");
    let bin = fake_gh(&fake);
    fs::write(
        fake.join("state.json"),
        r#"{"mergedAt":null,"state":"CLOSED","url":"https://github.com/acme/api/pull/7"}"#,
    )
    .unwrap();
    let _engine = engine_with(&sb, &bin);
    dispatch_until_ready(&sb);
    sb.run(&["approve", "1"]).ok();
    until(&sb, "closed", "the closed pull request");
    assert_eq!(review(&sb)["delivery"]["state"], "closed");
    assert!(
        has_ref(&bare, "refs/heads/switchboard/1"),
        "nothing deleted"
    );
    assert!(sb.home().join("worktrees/job-1").exists());
    assert!(events(&sb, 1).contains("was closed without a merge"));
    // The operator may deliver it again: a new pull request.
    sb.run(&["approve", "1"]).ok();
    wait_secs(30, "a second pull request", || {
        calls(&fake).iter().filter(|c| c[1] == "create").count() == 2
    });
}

#[test]
fn pr_without_gh_pushes_and_gives_the_compare_url() {
    let Remote { sb, bare, .. } = Remote::new("deliver = \"pr\"", Some(GITHUB));
    let _engine = engine(&sb);
    dispatch_until_ready(&sb);
    let printed = sb.run(&["approve", "1"]).ok().to_string();
    assert!(
        printed.contains("gh is not on PATH")
            && printed.contains("https://github.com/acme/api/compare/main...switchboard/1"),
        "approve prints the compare URL: {printed}"
    );
    until(&sb, "delivered", "the push");
    assert!(has_ref(&bare, "refs/heads/switchboard/1"));
    let item = review(&sb);
    assert_eq!(item["delivery"]["kind"], "push", "{item}");
    assert_eq!(
        item["url"], "https://github.com/acme/api/compare/main...switchboard/1",
        "{item}"
    );
    let said = events(&sb, 1);
    assert!(
        said.contains("gh is not on PATH")
            && said.contains("https://github.com/acme/api/compare/main...switchboard/1"),
        "{said}"
    );
}

/// After the agent's work is ready, the remote's main moves on (another
/// file); approve brings the branch up to date by `strategy` and pushes.
fn moved_base_delivered(strategy: &str) -> (Sandbox, PathBuf, PathBuf) {
    let Remote { sb, repo, bare } = Remote::new(
        &format!("deliver = \"push\"\nmerge_strategy = \"{strategy}\""),
        None,
    );
    let engine = engine(&sb);
    dispatch_until_ready(&sb);
    push_to_remote_main(sb.dir.path(), &bare, "other.txt", "someone else's\n");
    approve_until(&sb, "delivered", "the push");
    drop(engine);
    let main = rev(&bare, "refs/heads/main");
    let tip = rev(&bare, "refs/heads/switchboard/1");
    assert_eq!(tip, rev(&repo, "refs/heads/switchboard/1"));
    assert!(
        has_ref(&bare, &format!("{main}^{{commit}}"))
            && std::process::Command::new("git")
                .arg("-C")
                .arg(&bare)
                .args(["merge-base", "--is-ancestor", &main, &tip])
                .status()
                .unwrap()
                .success(),
        "{strategy}: the pushed branch contains the moved base"
    );
    let files = git_output(&bare, &["ls-tree", "--name-only", &tip]);
    assert!(
        files.contains("other.txt") && files.contains("DEMO.md"),
        "{files}"
    );
    (sb, repo, bare)
}

#[test]
fn a_moved_base_is_merged_into_the_branch_before_the_push() {
    let (_sb, _repo, bare) = moved_base_delivered("merge");
    let parents = git_output(&bare, &["log", "-1", "--format=%P", "switchboard/1"]);
    assert_eq!(parents.split_whitespace().count(), 2, "a merge: {parents}");
}

#[test]
fn a_moved_base_is_rebased_onto_before_the_push() {
    let (_sb, _repo, bare) = moved_base_delivered("rebase");
    let merges = git_output(&bare, &["rev-list", "--merges", "main..switchboard/1"]);
    assert_eq!(merges.trim(), "", "no merge commit: linear on the base");
    let parent = git_output(&bare, &["rev-parse", "switchboard/1~1"]);
    let main = git_output(&bare, &["rev-parse", "main"]);
    let count = git_output(&bare, &["rev-list", "--count", "main..switchboard/1"]);
    let n: usize = count.trim().parse().unwrap();
    assert!(n >= 1);
    if n == 1 {
        assert_eq!(parent.trim(), main.trim());
    }
}

#[test]
fn a_moved_base_is_squashed_onto_before_the_push() {
    let (_sb, _repo, bare) = moved_base_delivered("squash");
    let count = git_output(&bare, &["rev-list", "--count", "main..switchboard/1"]);
    assert_eq!(count.trim(), "1", "one commit on the base");
    assert_eq!(
        git_output(&bare, &["rev-parse", "switchboard/1~1"]).trim(),
        git_output(&bare, &["rev-parse", "main"]).trim()
    );
    let message = git_output(&bare, &["log", "-1", "--format=%B", "switchboard/1"]);
    assert!(
        message.contains("switchboard job #1") && message.contains("write the docs"),
        "{message}"
    );
}

#[test]
fn a_conflict_with_the_remote_base_pushes_nothing_and_is_resolved_by_the_agent() {
    let Remote { sb, repo, bare } =
        Remote::new("deliver = \"push\"\nmerge_strategy = \"rebase\"", None);
    let _engine = engine(&sb);
    dispatch_until_ready(&sb);
    push_to_remote_main(sb.dir.path(), &bare, "DEMO.md", "the operator's line\n");
    let tip = rev(&repo, "refs/heads/switchboard/1");
    let remote_main = rev(&bare, "refs/heads/main");
    approve_until(&sb, "conflict", "the conflict");
    assert!(
        !has_ref(&bare, "refs/heads/switchboard/1"),
        "nothing pushed"
    );
    assert_eq!(rev(&bare, "refs/heads/main"), remote_main, "base untouched");
    assert_eq!(
        rev(&repo, "refs/heads/switchboard/1"),
        tip,
        "branch as it was"
    );
    let said = events(&sb, 1);
    assert!(
        said.contains("conflicts with origin/main in DEMO.md"),
        "{said}"
    );
    let status = git_output(
        &sb.home().join("worktrees/job-1"),
        &["status", "--porcelain"],
    );
    assert!(!status.contains("UU"), "no half-done rebase left: {status}");

    // Sent back: the agent resolves against the remote's base.
    sb.run(&["reject", "1"]).ok();
    until(&sb, "ready", "the resolved work in review");
    approve_until(&sb, "delivered", "the push");
    let pushed = git_output(&bare, &["show", "switchboard/1:DEMO.md"]);
    assert!(
        pushed.contains("the operator's line") && !pushed.contains("<<<<<<<"),
        "{pushed}"
    );
}

#[test]
fn pr_on_a_gitlab_remote_opens_a_merge_request_with_glab() {
    let url = "https://gitlab.com/acme/api.git";
    let Remote { sb, bare, .. } = Remote::new("deliver = \"pr\"", Some(url));
    let fake = sb.dir.path().join("fake-glab");
    let bin = fake_glab(&fake);
    let _engine = engine_with(&sb, &bin);
    dispatch_until_ready(&sb);
    approve_until(&sb, "delivered", "the merge request");
    assert!(has_ref(&bare, "refs/heads/switchboard/1"));
    let item = review(&sb);
    assert_eq!(item["delivery"]["kind"], "mr", "{item}");
    assert_eq!(
        item["url"], "https://gitlab.com/acme/api/-/merge_requests/3",
        "{item}"
    );
    let made = glab_calls(&fake);
    let create = &made[0];
    assert_eq!(
        &create[..8],
        [
            "mr",
            "create",
            "--source-branch",
            "switchboard/1",
            "--target-branch",
            "main",
            "--title",
            "write the docs"
        ]
    );
    assert_eq!(create[8], "--description");
    assert!(create[9].contains("> write the docs"), "{:?}", create[9]);
    assert_eq!(&create[10..], ["--yes", "--repo", "acme/api"]);

    // A look that fails is told once, as a fault event; the item waits.
    wait_secs(30, "the failed look told", || {
        events(&sb, 1).contains("cannot look at its delivery on the remote")
    });
    assert_eq!(review_state(&sb), "delivered");
    fs::write(
        fake.join("state.json"),
        r#"{"iid":3,"state":"merged","web_url":"https://gitlab.com/acme/api/-/merge_requests/3"}"#,
    )
    .unwrap();
    until(&sb, "merged", "the merge");
    let view = glab_calls(&fake)
        .into_iter()
        .find(|c| c[1] == "view")
        .unwrap();
    assert_eq!(
        view,
        [
            "mr",
            "view",
            "switchboard/1",
            "--output",
            "json",
            "--repo",
            "acme/api"
        ]
    );
    let faults = events(&sb, 1)
        .matches("cannot look at its delivery")
        .count();
    assert_eq!(faults, 1, "told once, not at every look");
}

#[test]
fn work_sent_back_after_its_pull_request_opened_updates_the_same_pull_request() {
    let Remote { sb, repo, bare } = Remote::new("deliver = \"pr\"", Some(GITHUB));
    let fake = sb.dir.path().join("fake-gh");
    let bin = fake_gh(&fake);
    let _engine = engine_with(&sb, &bin);
    dispatch_until_ready(&sb);
    approve_until(&sb, "delivered", "the pull request");
    let first = rev(&bare, "refs/heads/switchboard/1");

    // A reviewer asked for more: the operator sends it back.
    sb.run(&["reject", "1", "--reason", "also write the changelog"])
        .ok();
    until(&sb, "ready", "the new work in review");
    approve_until(&sb, "delivered", "the second push");
    let second = rev(&bare, "refs/heads/switchboard/1");
    assert_ne!(first, second, "the new work was pushed");
    assert_eq!(second, rev(&repo, "refs/heads/switchboard/1"));
    assert_eq!(
        calls(&fake).iter().filter(|c| c[1] == "create").count(),
        1,
        "the open pull request shows the new push; no second one"
    );
    assert_eq!(review(&sb)["url"], "https://github.com/acme/api/pull/7");
    assert!(events(&sb, 1).contains("its open pull request now shows the new push"));
}
