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
