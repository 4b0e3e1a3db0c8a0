//! The running engine when its surroundings fail under it (not between
//! runs, as in chaos.rs): the home's tmux server dies with agents in it,
//! and another process holds the journal's write lock for a while. The
//! engine keeps running, recovers by itself, and no work is lost.

mod common;

use std::time::Duration;

use common::engine::{FAST, agents_tmux, home_with, jobs, start_engine, wait_secs};

/// A demo agent that works for about three seconds.
fn slow() -> String {
    FAST.replace("\"--steps\", \"2\"", "\"--steps\", \"20\"")
        .replace("\"--step-ms\", \"50\"", "\"--step-ms\", \"150\"")
}

fn states(sb: &common::Sandbox) -> Vec<String> {
    jobs(sb)
        .iter()
        .map(|j| j["state"].as_str().unwrap_or("?").to_string())
        .collect()
}

#[test]
fn the_tmux_server_dying_under_the_engine_is_recovered() {
    let sb = home_with(&slow(), &["api", "web"]);
    let mut engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "first"]).ok();
    sb.run(&["dispatch", "web", "second"]).ok();
    wait_secs(30, "both agents running", || {
        states(&sb).iter().all(|s| s == "running")
    });
    let killed = agents_tmux(&sb, &["kill-server"]);
    assert!(killed.status.success(), "{killed:?}");
    std::thread::sleep(Duration::from_secs(2));
    assert!(engine.alive(), "the engine outlives its tmux server");
    // Work that arrives meanwhile runs on the next server.
    sb.run(&["dispatch", "api", "third"]).ok();
    wait_secs(90, "every job done on a new server", || {
        let now = states(&sb);
        now.len() == 3 && now.iter().all(|s| s == "done")
    });
    assert!(engine.alive());
    // The two that lost their agent were restarted from their worktree,
    // not failed.
    for id in ["1", "2"] {
        let job = sb.run(&["jobs", id, "--json"]).json();
        let restarts = job["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["kind"] == "restart")
            .count();
        assert!(restarts >= 1, "job {id} was restarted: {job}");
    }
}

#[test]
fn a_journal_held_by_another_writer_is_waited_out() {
    let sb = home_with(FAST, &["api"]);
    let mut engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "before the lock"]).ok();
    wait_secs(30, "the first job done", || states(&sb) == ["done"]);
    // Another program takes the write lock and keeps it for a while.
    let other = rusqlite::Connection::open(sb.home().join("journal.db")).expect("open");
    other.execute_batch("BEGIN IMMEDIATE").expect("the lock");
    let home = sb.home();
    let dispatch = std::thread::spawn(move || {
        common::Run::of(&mut common::command(
            &home,
            &["dispatch", "api", "during the lock"],
        ))
    });
    std::thread::sleep(Duration::from_secs(3));
    assert!(engine.alive(), "the engine waits for the lock");
    other.execute_batch("COMMIT").expect("release");
    drop(other);
    let queued = dispatch.join().expect("dispatch");
    queued.ok();
    wait_secs(30, "the job queued during the lock done", || {
        states(&sb) == ["done", "done"]
    });
    assert!(engine.alive());
    sb.run(&["dispatch", "api", "after the lock"]).ok();
    wait_secs(30, "the job after the lock done", || {
        states(&sb) == ["done", "done", "done"]
    });
}

/// Held past the journal's busy timeout (30 s), the lock makes the
/// engine's writes fail with SQLITE_BUSY: a fault it reports and waits
/// out, not a reason to exit, and not a reason to refuse the message it
/// was journaling. Here an inbox file arrives under the lock, and the lock
/// ends after the first try to journal it timed out (30 s) but before the
/// engine's second write would (60 s): the file is a message, not a
/// rejected one.
#[test]
fn a_journal_held_past_the_busy_timeout_refuses_no_message() {
    let sb = home_with(FAST, &["api"]);
    let mut engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "before the lock"]).ok();
    wait_secs(30, "the first job done", || states(&sb) == ["done"]);
    let other = rusqlite::Connection::open(sb.home().join("journal.db")).expect("open");
    other.execute_batch("BEGIN IMMEDIATE").expect("the lock");
    let inbox = sb.home().join("inbox");
    std::fs::create_dir_all(&inbox).expect("inbox");
    std::fs::write(
        inbox.join("task.json.tmp"),
        r#"{"type":"task","project":"api","prompt":"from the inbox"}"#,
    )
    .expect("message");
    std::fs::rename(inbox.join("task.json.tmp"), inbox.join("task.json")).expect("rename");
    std::thread::sleep(Duration::from_secs(42));
    assert!(engine.alive(), "a busy journal does not stop the engine");
    other.execute_batch("ROLLBACK").expect("release");
    drop(other);
    let settled = std::time::Instant::now() + Duration::from_secs(90);
    while states(&sb) != ["done", "done"] && std::time::Instant::now() < settled {
        std::thread::sleep(Duration::from_millis(200));
    }
    let listed = std::fs::read_dir(inbox.join("rejected"))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    for path in &listed {
        eprintln!(
            "{}: {}",
            path.display(),
            std::fs::read_to_string(path).unwrap_or_default()
        );
    }
    assert_eq!(states(&sb), ["done", "done"], "the inbox message done");
    assert!(listed.is_empty(), "nothing refused: {listed:?}");
    let health = sb.home().join("engine.health");
    wait_secs(30, "the fault cleared", || {
        std::fs::read_to_string(&health).is_ok_and(|t| t.contains("\"fault\":null"))
    });
    assert!(engine.alive());
}

/// A bug met on one job's data (here a stand-in: a panic while starting
/// it) does not end the engine: the pass is retried with backoff and the
/// fault is shown; the operator kills that job, and the rest runs.
#[test]
#[cfg(debug_assertions)]
fn a_pass_that_panics_on_one_job_does_not_end_the_engine() {
    let sb = home_with(FAST, &["api"]);
    let mut engine = common::engine::start_engine_with_env(
        &sb,
        &[(switchboard::engine::PANIC_ON_PROMPT, "the poison job")],
    );
    sb.run(&["dispatch", "api", "the poison job"]).ok();
    let health = sb.home().join("engine.health");
    wait_secs(30, "the engine to report the panic", || {
        std::fs::read_to_string(&health).is_ok_and(|t| t.contains("panicked"))
    });
    std::thread::sleep(Duration::from_secs(1));
    assert!(engine.alive(), "the engine outlives a panicking pass");
    sb.run(&["kill", "1"]).ok();
    sb.run(&["dispatch", "api", "an ordinary job"]).ok();
    wait_secs(60, "the ordinary job done", || {
        states(&sb) == ["killed", "done"]
    });
    wait_secs(30, "the fault cleared", || {
        std::fs::read_to_string(&health).is_ok_and(|t| t.contains("\"fault\":null"))
    });
    assert!(engine.alive());
}
