//! Delivering approved work from a project on a remote host (`deliver =
//! "push"` and `"pr"`): fetch, bring up to date, push and the forge's
//! tool run on the host, with the host's remote (a bare repository there)
//! and a recording `gh`/`glab` stand-in on the host's PATH; following the
//! delivery and the clean-up after the merge happen there too. Real sshd
//! servers in network namespaces (tests/common/hosts.rs); skipped, with a
//! message, where namespaces cannot be made (not root).

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::cluster::{Cluster, config};
use common::engine::{start_engine, wait_secs};
use common::remote::{
    GITHUB, bare_remote, calls, fake_gh, fake_glab, glab_calls, has_ref, merge_on_remote,
    push_to_remote_main, ran_on, rev,
};
use common::{git, git_output};
use serde_json::Value;

/// A bare repository in host `i`'s home as the remote `origin` of its
/// project's repository (reached through `address` by `insteadOf`, when
/// given), with the repository's main pushed to it.
fn remote_on_host(c: &Cluster, i: usize, address: Option<&str>) -> PathBuf {
    bare_remote(&c.hosts[i].home(), &c.repos[i], address)
}

/// Puts a stand-in made by `make` (recording in `dir`) on host `i`'s PATH.
fn stand_in_on_host(c: &Cluster, i: usize, make: fn(&Path) -> PathBuf, program: &str) -> PathBuf {
    let dir = c.hosts[i].dir.path().join(format!("fake-{program}"));
    let bin = make(&dir);
    fs::copy(bin.join(program), c.hosts[i].bin().join(program)).expect("install the stand-in");
    dir
}

/// The review item of job `id`.
fn item(c: &Cluster, id: u32) -> Value {
    c.review()
        .into_iter()
        .find(|r| r["branch"] == format!("switchboard/{id}"))
        .unwrap_or(Value::Null)
}

fn state(c: &Cluster, id: u32) -> String {
    item(c, id)["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A task for each host's project (#1 on build1, #2 on build2), waited
/// for until both are in review.
fn dispatch_to_both_and_wait_for_review(c: &Cluster) {
    c.sb.run(&["dispatch", "api1", "write the docs"]).ok();
    c.sb.run(&["dispatch", "api2", "write the tests"]).ok();
    wait_secs(60, "both review items", || {
        state(c, 1) == "ready" && state(c, 2) == "ready"
    });
}

/// The stand-in for `program` recorded calls, every one on `host`.
fn assert_ran_only_on(fake: &Path, program: &str, host: &str) {
    let ran = ran_on(fake);
    assert!(
        !ran.is_empty() && ran.iter().all(|h| h == host),
        "{program} ran on {host} only: {ran:?}"
    );
}

#[test]
fn push_and_pr_go_out_from_their_hosts_and_end_once_merged_there() {
    need_test_hosts!();
    let settings = r#"
[projects.api1]
deliver = "push"
merge_strategy = "rebase"

[projects.api2]
deliver = "pr"
"#;
    let c = Cluster::with_config("fast", &(config() + settings));
    let bare1 = remote_on_host(&c, 0, None);
    let bare2 = remote_on_host(&c, 1, Some(GITHUB));
    let fake = stand_in_on_host(&c, 1, fake_gh, "gh");
    let scratch = tempfile::tempdir().expect("scratch");
    let _engine = start_engine(&c.sb);
    dispatch_to_both_and_wait_for_review(&c);
    push_to_remote_main(scratch.path(), &bare1, "other.txt", "someone else's\n");
    c.sb.run(&["approve", "1"]).ok();
    c.sb.run(&["approve", "2"]).ok();
    wait_secs(60, "both delivered", || {
        state(&c, 1) == "delivered" && state(&c, 2) == "delivered"
    });

    // Job 1: rebased onto the moved base on build1, pushed from there.
    let tip = rev(&bare1, "refs/heads/switchboard/1");
    assert_eq!(tip, rev(&c.repos[0], "refs/heads/switchboard/1"));
    let main1 = rev(&bare1, "refs/heads/main");
    assert!(
        std::process::Command::new("git")
            .arg("-C")
            .arg(&bare1)
            .args(["merge-base", "--is-ancestor", &main1, &tip])
            .status()
            .unwrap()
            .success(),
        "the pushed branch sits on the moved base"
    );
    assert_eq!(item(&c, 1)["delivery"]["kind"], "push");
    assert!(c.worktree(0, 1).exists(), "kept until merged there");

    // Job 2: pushed to build2's remote, a pull request opened by the gh
    // on build2's PATH, its body file written there.
    assert_eq!(
        rev(&bare2, "refs/heads/switchboard/2"),
        rev(&c.repos[1], "refs/heads/switchboard/2")
    );
    let title = c.job(2)["title"].as_str().unwrap().to_string();
    let body_file = c.worktree(1, 2).join(".switchboard/pull-request.md");
    assert_eq!(
        calls(&fake).first().expect("gh was called"),
        &[
            "pr",
            "create",
            "--base",
            "main",
            "--head",
            "switchboard/2",
            "--title",
            title.as_str(),
            "--body-file",
            body_file.to_str().unwrap(),
            "--repo",
            "acme/api",
        ]
    );
    let body = fs::read_to_string(fake.join("body")).expect("the body gh read");
    for part in ["write the tests", "## Changes", "DEMO.md"] {
        assert!(body.contains(part), "{part:?} in the body:\n{body}");
    }
    assert!(!body_file.exists(), "the body file is removed on the host");
    assert_eq!(item(&c, 2)["url"], "https://github.com/acme/api/pull/7");

    // Both are followed there: job 1 by a fetch on build1, job 2 by gh.
    wait_secs(30, "a look at the pull request", || {
        calls(&fake).iter().any(|call| call[1] == "view")
    });
    merge_on_remote(scratch.path(), &bare1, "switchboard/1");
    fs::write(
        fake.join("state.json"),
        r#"{"mergedAt":"2026-11-29T21:00:00Z","state":"MERGED","url":"https://github.com/acme/api/pull/7"}"#,
    )
    .unwrap();
    wait_secs(60, "both merged", || {
        state(&c, 1) == "merged" && state(&c, 2) == "merged"
    });
    for (i, id, bare) in [(0usize, 1u32, &bare1), (1, 2, &bare2)] {
        let branch = format!("refs/heads/switchboard/{id}");
        assert!(!has_ref(bare, &branch), "deleted on the remote of host {i}");
        assert!(!has_ref(&c.repos[i], &branch), "deleted on host {i}");
        assert!(!c.worktree(i, id).exists(), "worktree gone on host {i}");
        let said = c.events(id);
        assert!(said.contains("the branch was deleted on origin"), "{said}");
    }
    assert_eq!(
        rev(&c.repos[0], "refs/heads/main"),
        rev(&bare1, "refs/heads/main"),
        "build1's main follows its remote's"
    );
    assert!(c.repos[0].join("other.txt").exists(), "its checkout too");
    assert_ran_only_on(&fake, "gh", "build2");
}

#[test]
fn glab_on_one_host_and_no_gh_on_the_other() {
    need_test_hosts!();
    let settings = r#"
[projects.api1]
deliver = "pr"

[projects.api2]
deliver = "pr"
"#;
    let c = Cluster::with_config("fast", &(config() + settings));
    let gitlab = "https://gitlab.com/acme/api.git";
    let bare1 = remote_on_host(&c, 0, Some(gitlab));
    let bare2 = remote_on_host(&c, 1, Some(GITHUB));
    let fake = stand_in_on_host(&c, 0, fake_glab, "glab");
    let _engine = start_engine(&c.sb);
    dispatch_to_both_and_wait_for_review(&c);
    c.sb.run(&["approve", "1"]).ok();
    let printed = c.sb.run(&["approve", "2"]).ok().to_string();
    wait_secs(60, "both delivered", || {
        state(&c, 1) == "delivered" && state(&c, 2) == "delivered"
    });

    // build1: a merge request by the glab on its PATH.
    assert!(has_ref(&bare1, "refs/heads/switchboard/1"));
    assert_eq!(item(&c, 1)["delivery"]["kind"], "mr");
    assert_eq!(
        item(&c, 1)["url"],
        "https://gitlab.com/acme/api/-/merge_requests/3"
    );
    let create = glab_calls(&fake).first().cloned().expect("glab was called");
    assert_eq!(
        &create[..4],
        ["mr", "create", "--source-branch", "switchboard/1"]
    );

    // build2 has no gh: pushed, and the compare page given.
    assert!(
        printed.contains("gh is not on PATH on host build2")
            && printed.contains("https://github.com/acme/api/compare/main...switchboard/2"),
        "{printed}"
    );
    assert!(has_ref(&bare2, "refs/heads/switchboard/2"));
    assert_eq!(item(&c, 2)["delivery"]["kind"], "push");

    fs::write(
        fake.join("state.json"),
        r#"{"iid":3,"state":"merged","web_url":"https://gitlab.com/acme/api/-/merge_requests/3"}"#,
    )
    .unwrap();
    wait_secs(60, "the merge request merged", || state(&c, 1) == "merged");
    assert!(!has_ref(&bare1, "refs/heads/switchboard/1"));
    assert!(!c.worktree(0, 1).exists());
    assert_ran_only_on(&fake, "glab", "build1");
}

#[test]
fn a_conflict_with_the_remote_base_on_a_host_pushes_nothing_and_the_agent_resolves_it_there() {
    need_test_hosts!();
    let settings = r#"
[projects.api1]
deliver = "push"
merge_strategy = "rebase"
"#;
    let c = Cluster::with_config("fast", &(config() + settings));
    let bare = remote_on_host(&c, 0, None);
    let scratch = tempfile::tempdir().expect("scratch");
    let _engine = start_engine(&c.sb);
    c.sb.run(&["dispatch", "api1", "write the docs"]).ok();
    wait_secs(60, "the review item", || state(&c, 1) == "ready");
    push_to_remote_main(scratch.path(), &bare, "DEMO.md", "the operator's line\n");
    let tip = rev(&c.repos[0], "refs/heads/switchboard/1");
    let remote_main = rev(&bare, "refs/heads/main");
    c.sb.run(&["approve", "1"]).ok();
    wait_secs(60, "the conflict", || state(&c, 1) == "conflict");
    assert!(
        !has_ref(&bare, "refs/heads/switchboard/1"),
        "nothing pushed"
    );
    assert_eq!(rev(&bare, "refs/heads/main"), remote_main, "base untouched");
    assert_eq!(rev(&c.repos[0], "refs/heads/switchboard/1"), tip);
    let said = c.events(1);
    assert!(
        said.contains("conflicts with origin/main in DEMO.md"),
        "{said}"
    );
    let status = git_output(&c.worktree(0, 1), &["status", "--porcelain"]);
    assert!(!status.contains("UU"), "no half-done rebase left: {status}");

    // Sent back: the remote's base is fetched and merged in on build1, the
    // agent resolves the conflict there, and the next approve pushes.
    c.sb.run(&["reject", "1"]).ok();
    wait_secs(60, "the resolved work in review", || {
        state(&c, 1) == "ready"
    });
    c.sb.run(&["approve", "1"]).ok();
    wait_secs(60, "the push", || state(&c, 1) == "delivered");
    let pushed = git_output(&bare, &["show", "switchboard/1:DEMO.md"]);
    assert!(
        pushed.contains("the operator's line") && !pushed.contains("<<<<<<<"),
        "{pushed}"
    );
}

/// `deliver = "merge"` on a host: approve brings the branch up to date
/// with a moved base in its worktree there first, like on this machine;
/// a conflict merges nothing, leaves the base and the branch as they were
/// and sends the work back to be resolved on the host.
#[test]
fn approve_on_a_host_brings_the_branch_up_to_date_with_a_moved_base_first() {
    need_test_hosts!();
    let settings = r#"
[projects.api1]
merge_strategy = "rebase"

[projects.api2]
merge_strategy = "rebase"
"#;
    let c = Cluster::with_config("fast", &(config() + settings));
    let _engine = start_engine(&c.sb);
    dispatch_to_both_and_wait_for_review(&c);
    // The base moves on each host: without a conflict on build1, with one
    // (the same file) on build2.
    fs::write(c.repos[0].join("other.txt"), "meanwhile\n").expect("write");
    git(&c.repos[0], &["add", "other.txt"]);
    git(&c.repos[0], &["commit", "-q", "-m", "meanwhile on main"]);
    fs::write(c.repos[1].join("DEMO.md"), "the operator's line\n").expect("write");
    git(&c.repos[1], &["add", "DEMO.md"]);
    git(
        &c.repos[1],
        &["commit", "-q", "-m", "the operator's DEMO.md"],
    );
    let base2 = rev(&c.repos[1], "refs/heads/main");
    let tip2 = rev(&c.repos[1], "refs/heads/switchboard/2");

    c.sb.run(&["approve", "1"]).ok();
    wait_secs(60, "job 1 merged", || state(&c, 1) == "merged");
    let said = c.events(1);
    assert!(
        said.contains("the branch was rebased onto the base"),
        "brought up to date on build1 first: {said}"
    );
    let log = git_output(&c.repos[0], &["log", "--format=%s", "main"]);
    assert!(!log.contains("Merge"), "rebased, so no merge commit: {log}");
    let tree = git_output(&c.repos[0], &["ls-tree", "--name-only", "main"]);
    assert!(
        tree.contains("other.txt") && tree.contains("DEMO.md"),
        "{tree}"
    );

    c.sb.run(&["approve", "2"]).ok();
    wait_secs(60, "job 2 in conflict", || state(&c, 2) == "conflict");
    assert_eq!(rev(&c.repos[1], "refs/heads/main"), base2, "base untouched");
    assert_eq!(rev(&c.repos[1], "refs/heads/switchboard/2"), tip2);
    let status = git_output(&c.worktree(1, 2), &["status", "--porcelain"]);
    assert!(!status.contains("UU"), "no half-done rebase left: {status}");
    let said = c.events(2);
    assert!(said.contains("conflicts with main in DEMO.md"), "{said}");

    // Sent back: the agent resolves it in its worktree on build2.
    c.sb.run(&["reject", "2"]).ok();
    wait_secs(60, "the resolved work in review", || {
        state(&c, 2) == "ready"
    });
    c.sb.run(&["approve", "2"]).ok();
    wait_secs(60, "job 2 merged", || state(&c, 2) == "merged");
    let merged = fs::read_to_string(c.repos[1].join("DEMO.md")).expect("merged");
    assert!(
        merged.contains("the operator's line") && !merged.contains("<<<<<<<"),
        "{merged}"
    );
}
