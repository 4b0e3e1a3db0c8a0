//! `project remove`, run as the real binary against a temp home.

mod common;

use common::Sandbox;

#[test]
fn a_project_is_removed_once_its_work_is_over_and_its_jobs_keep_its_name() {
    let sb = Sandbox::new();
    sb.run(&["host", "add", "build1", "ops@build1"]).ok();
    sb.run(&[
        "project", "add", "api", "/srv/api", "--host", "build1", "--base", "main",
    ])
    .ok();
    sb.project("web");
    sb.run(&["dispatch", "api", "first"]).ok();
    sb.run(&["dispatch", "api", "second"]).ok();
    sb.run(&["dispatch", "web", "elsewhere"]).ok();

    let err = sb.run(&["host", "remove", "build1"]).fails(1).to_string();
    assert!(err.contains("has projects (api)"), "{err}");
    assert!(err.contains("switchboard project remove"), "{err}");

    // Queued jobs are active: refused, each named.
    let err = sb.run(&["project", "remove", "api"]).fails(1).to_string();
    assert!(err.contains("project api has active jobs"), "{err}");
    assert!(err.contains("#1 queued, #2 queued"), "{err}");
    assert!(!err.contains("#3"), "{err}");

    // Done with its work still in review is not over; killed is.
    sb.sql(
        "UPDATE jobs SET state = 'done', attempt = 1 WHERE id = 1;
         UPDATE jobs SET state = 'killed', state_reason = 'killed by the operator' WHERE id = 2;
         INSERT INTO review_items (job_id, attempt, project, branch, state, created_at, updated_at)
           VALUES (1, 1, 'api', 'switchboard/1', 'ready', 0, 0);",
    );
    let err = sb.run(&["project", "remove", "api"]).fails(1).to_string();
    assert!(err.contains("#1 in review (ready)"), "{err}");
    assert!(!err.contains("#2"), "{err}");

    sb.sql("UPDATE review_items SET state = 'merged' WHERE job_id = 1");
    let out = sb.run(&["project", "remove", "api"]);
    assert!(out.ok().contains("Removed project api."), "{}", out.stdout);

    let projects = sb.run(&["project", "list", "--json"]).json();
    let names: Vec<&str> = projects
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web"]);
    // History keeps the name.
    let job = sb.run(&["jobs", "1", "--json"]).json();
    assert_eq!(job["project"], "api");
    assert!(sb.run(&["jobs"]).ok().contains("api"));

    // The host whose projects are gone can go too.
    sb.run(&["host", "remove", "build1"]).ok();

    let err = sb.run(&["project", "remove", "api"]).fails(1).to_string();
    assert!(err.contains("no project api"), "{err}");
}

/// A repository just made with `git init` has no commit to cut an agent's
/// worktree from. Registering it (by `project add`, or by dispatching to
/// its path) is refused, saying how to make the first commit, and nothing
/// is queued. Before, it was registered with its unborn branch, and every
/// attempt of the job failed with git's `fatal: Needed a single revision`.
#[test]
fn a_repository_without_a_commit_is_refused_saying_how_to_make_one() {
    let sb = Sandbox::new();
    let path = sb.dir.path().join("fresh");
    std::fs::create_dir_all(&path).unwrap();
    common::git(&path, &["init", "-q", "-b", "main"]);
    let fresh = path.to_str().unwrap();
    for args in [
        vec!["dispatch", fresh, "add a health check"],
        vec!["project", "add", "fresh", fresh],
    ] {
        let err = sb.run(&args).fails(1).to_string();
        assert!(
            err.contains("has no commit yet") && err.contains("commit --allow-empty"),
            "{args:?}: {err}"
        );
    }
    let projects = sb.run(&["project", "list", "--json"]).json();
    assert_eq!(projects, serde_json::json!([]));
    let jobs = sb.run(&["jobs", "--json"]).json();
    assert_eq!(jobs, serde_json::json!([]));
}
