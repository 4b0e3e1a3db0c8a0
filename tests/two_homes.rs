//! Two homes on one repository (a second home, or a home made anew after
//! the old one was removed): job ids start at 1 in each, so a job's branch
//! `switchboard/<id>` may already exist, made by the other. Its commits
//! are not this job's: the job must not start on them.

mod common;

use common::engine::{FAST, home_with, jobs, start_engine, wait_secs};
use common::{Sandbox, git, git_output};
use serde_json::Value;

fn job(sb: &Sandbox, id: i64) -> Value {
    jobs(sb)
        .into_iter()
        .find(|j| j["id"] == id)
        .unwrap_or_else(|| panic!("no job #{id}"))
}

#[test]
fn a_branch_left_by_another_home_is_not_taken_as_the_job_s() {
    // The first home: job #1 done, its branch switchboard/1 with its work.
    let first = home_with(FAST, &["api"]);
    let repo = first.home().parent().expect("sandbox").join("api");
    {
        let _engine = start_engine(&first);
        first
            .run(&["dispatch", "api", "the first home's work"])
            .ok();
        wait_secs(60, "the first home's job to be done", || {
            job(&first, 1)["state"] == "done"
        });
    }
    let theirs = git_output(&repo, &["rev-parse", "refs/heads/switchboard/1"]);
    // Its worktree removed (as a home removed by hand leaves it after a
    // prune): the branch alone stays.
    git(
        &repo,
        &[
            "worktree",
            "remove",
            "--force",
            first.home().join("worktrees/job-1").to_str().unwrap(),
        ],
    );

    // A second home on the same repository.
    let second = Sandbox::new();
    std::fs::create_dir_all(second.home()).expect("home");
    std::fs::write(second.home().join("config.toml"), FAST).expect("config");
    second
        .run(&[
            "project",
            "add",
            "api",
            repo.to_str().unwrap(),
            "--agent",
            "fast",
        ])
        .ok();
    let _engine = start_engine(&second);
    second
        .run(&["dispatch", "api", "the second home's work"])
        .ok();
    wait_secs(60, "the second home's job #1 to try", || {
        job(&second, 1)["attempts"].as_u64().unwrap_or(0) >= 1
            && job(&second, 1)["state"] != "starting"
    });
    let j = job(&second, 1);
    assert_ne!(j["state"], "running", "{j}");
    assert_ne!(j["state"], "done", "{j}");
    let reason = j["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("switchboard/1") && reason.contains("already exists"),
        "{reason}"
    );
    // The other home's work is as it was.
    assert_eq!(
        git_output(&repo, &["rev-parse", "refs/heads/switchboard/1"]),
        theirs
    );
}
