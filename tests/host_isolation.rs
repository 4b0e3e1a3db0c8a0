//! One host's trouble stays that host's: an agent left running on a host
//! the engine no longer knows (its entry removed while the agent ran) is
//! left as it is, and the engine goes on with the work of every other
//! place. Before, the pass failed at that host each time and local work
//! stood still.

mod common;

use common::engine::{FAST, home_with, jobs, start_engine, wait_secs};

#[test]
fn an_agent_on_a_host_no_longer_known_does_not_stop_local_work() {
    let sb = home_with(FAST, &["app"]);
    // A host nobody answers on, a project on it and a job of it.
    sb.run(&["host", "add", "ghost", "127.0.0.1:9"]).ok();
    let repo = sb.repo("far");
    sb.run(&[
        "project",
        "add",
        "far",
        repo.to_str().expect("utf-8 path"),
        "--host",
        "ghost",
        "--base",
        "main",
    ])
    .ok();
    sb.run(&["dispatch", "far", "far away work"]).ok();
    // Its agent runs there when the host's entry goes away.
    let db = rusqlite::Connection::open(sb.home().join("journal.db")).expect("journal");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i64;
    db.execute(
        "INSERT INTO attempts (job_id, number, session, worktree, branch, base_commit, started_at) \
         VALUES (1, 1, 'sb-1-1', '/nowhere', 'switchboard/1', NULL, ?1)",
        [now],
    )
    .expect("attempt");
    db.execute(
        "UPDATE jobs SET state = 'running', attempt = 1, attempts = 1, state_since = ?1 WHERE id = 1",
        [now],
    )
    .expect("running");
    db.execute("DELETE FROM hosts WHERE name = 'ghost'", [])
        .expect("host gone");
    drop(db);

    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "app", "local work"]).ok();
    wait_secs(30, "the local job to finish", || {
        jobs(&sb).iter().any(|j| {
            j["id"] == 2
                && j["state"] != "queued"
                && j["state"] != "starting"
                && j["state"] != "running"
        })
    });
    let all = jobs(&sb);
    let far = all.iter().find(|j| j["id"] == 1).expect("job 1");
    assert_eq!(far["state"], "running", "left as it is: {far}");
}
