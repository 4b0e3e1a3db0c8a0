//! `switchboard pause` for real: the engine (`run --headless`, the demo
//! agent, a real tmux server) keeps new work queued while paused, lets a
//! running agent go on, keeps the pause over a restart, never exits
//! because of it, and starts the kept work on `switchboard resume`.

mod common;

use std::time::Duration;

use common::Sandbox;
use common::engine::{FAST, home_with, start_engine, wait_secs};
use serde_json::Value;

const PAUSED: &str = "paused: no new agents start (switchboard resume)";

/// A demo agent that works for about three seconds.
const SLOW: &str = r#"
[agents.slow]
command = ["{switchboard}", "demo-agent", "--steps", "30", "--step-ms", "100", "{prompt}"]
ready = '(?m)^demo> \s*\z'
busy = '⠿ working[^\n]*\s*\z'
"#;

fn wait_for(what: &str, check: impl FnMut() -> bool) {
    wait_secs(30, what, check);
}

fn job(sb: &Sandbox, id: i64) -> Value {
    sb.run(&["jobs", &id.to_string(), "--json"]).json()
}

/// Asks for a pause and waits until the engine has carried it out.
fn pause(sb: &Sandbox) {
    sb.run(&["pause"]).ok();
    wait_for("the engine to pause", || sb.home().join("PAUSED").exists());
}

#[test]
fn a_paused_engine_keeps_new_work_queued_lets_agents_finish_and_starts_it_on_resume() {
    // api takes two agents: only the pause holds the second job back.
    let sb = home_with(&format!("{FAST}\n{SLOW}"), &[]);
    let repo = sb.repo("api");
    sb.run(&[
        "project",
        "add",
        "api",
        repo.to_str().unwrap(),
        "--agent",
        "fast",
        "--max-agents",
        "2",
    ])
    .ok();
    let mut engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "long one", "--agent", "slow"])
        .ok();
    wait_for("the first agent to run", || {
        job(&sb, 1)["state"] == "running"
    });
    pause(&sb);
    sb.run(&["dispatch", "api", "arrives during the pause"])
        .ok();
    wait_for("the second job to be told", || {
        job(&sb, 2)["reason"] == PAUSED
    });
    assert_eq!(job(&sb, 1)["state"], "running", "the running agent goes on");
    wait_for("the running agent to finish", || {
        job(&sb, 1)["state"] == "done"
    });
    // A free slot and passes go by: still nothing starts.
    std::thread::sleep(Duration::from_millis(1500));
    let held = job(&sb, 2);
    assert_eq!(held["state"], "queued", "{held}");
    assert_eq!(held["reason"], PAUSED);
    let listed = sb.run(&["jobs", "--json"]).json();
    let listed = listed.as_array().unwrap();
    assert!(
        listed.iter().any(|j| j["id"] == 2 && j["reason"] == PAUSED),
        "{listed:?}"
    );
    assert!(
        sb.run(&["jobs"])
            .ok()
            .contains("paused: no new agents start"),
        "the human listing shows the wait"
    );
    assert!(engine.alive(), "a pause never ends the engine");
    let told = sb
        .journal()
        .events(2)
        .unwrap()
        .iter()
        .filter(|e| e.message == PAUSED)
        .count();
    assert_eq!(told, 1, "the wait is told once, not every pass");

    sb.run(&["resume"]).ok();
    wait_for("the kept job to run", || job(&sb, 2)["state"] == "done");
    assert!(!sb.home().join("PAUSED").exists());
}

#[test]
fn the_pause_outlives_an_engine_restart() {
    let sb = home_with(FAST, &["api"]);
    let engine = start_engine(&sb);
    pause(&sb);
    let again = sb.run(&["pause"]);
    assert!(again.ok().contains("Already paused"), "{}", again.stdout);
    drop(engine);

    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "after the restart"]).ok();
    wait_for("the job to be told", || job(&sb, 1)["reason"] == PAUSED);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(job(&sb, 1)["state"], "queued", "still paused");
    sb.run(&["resume"]).ok();
    wait_for("the job to run", || job(&sb, 1)["state"] == "done");
}

#[test]
fn a_paused_engine_with_nothing_running_does_not_exit() {
    let sb = home_with(FAST, &["api"]);
    let mut engine = start_engine(&sb);
    pause(&sb);
    // Several idle passes (idle_interval 500ms): a drain would have ended it.
    std::thread::sleep(Duration::from_secs(3));
    assert!(engine.alive(), "the engine exited while paused");
    assert!(!sb.home().join("READY_FOR_SHUTDOWN").exists());
    // A drain asked during the pause still ends it.
    sb.run(&["drain"]).ok();
    wait_for("the drained engine to exit", || !engine.alive());
}

#[test]
fn a_pause_not_yet_carried_out_is_not_asked_twice() {
    // No engine: the command waits in the journal for the next one.
    let sb = home_with(FAST, &["api"]);
    assert!(
        sb.run(&["pause"])
            .ok()
            .contains("Asked the engine to pause")
    );
    let again = sb.run(&["pause"]);
    assert!(
        again.ok().contains("Already asked to pause (command 1)"),
        "{}",
        again.stdout
    );
    // A resume journaled after it: pausing again is a new request.
    sb.run(&["resume"]).ok();
    assert!(
        sb.run(&["pause"])
            .ok()
            .contains("Asked the engine to pause")
    );
    let kinds: Vec<String> = sb
        .journal()
        .pending_commands()
        .unwrap()
        .into_iter()
        .map(|c| c.kind_text().to_string())
        .collect();
    assert_eq!(kinds, ["pause", "resume", "pause"]);
}

/// `doctor`, the command an operator runs when nothing starts, says that
/// the home is paused (or draining) and how to end it, on the engine's
/// line, with an engine running and with none (the pause outlives it).
/// Before, it said `✓ engine running (pid …)` and nothing else.
#[test]
fn doctor_says_the_home_is_paused_or_draining_and_how_to_end_it() {
    let sb = home_with(FAST, &["api"]);
    let engine_line = |sb: &Sandbox| {
        sb.run(&["doctor", "--json"])
            .json()
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .find(|c| c["check"] == "engine")
            .unwrap_or_default()
    };
    let engine = start_engine(&sb);
    pause(&sb);
    let line = engine_line(&sb);
    let detail = line["detail"].as_str().unwrap_or_default().to_string();
    assert!(
        detail.contains("running")
            && detail.contains("paused")
            && detail.contains("switchboard resume"),
        "{line}"
    );
    assert_eq!(line["status"], "warn", "{line}");
    drop(engine);
    let detail = engine_line(&sb)["detail"].to_string();
    assert!(
        detail.contains("paused") && detail.contains("switchboard resume"),
        "{detail}"
    );
    sb.run(&["resume"]).ok();
    std::fs::remove_file(sb.home().join("PAUSED")).ok();
    std::fs::write(sb.home().join("DRAIN"), "").unwrap();
    let detail = engine_line(&sb)["detail"].to_string();
    assert!(
        detail.contains("draining") && detail.contains("switchboard resume"),
        "{detail}"
    );
}
