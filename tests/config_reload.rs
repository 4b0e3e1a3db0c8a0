//! config.toml edited while the engine runs: the engine reads it again on
//! its next pass, so what the command line accepts (it reads the file
//! anew each time) the engine can carry out; a broken edit is refused
//! with its line, and the engine goes on with the settings it had.

mod common;

use common::Sandbox;
use common::engine::{FAST, home_with, jobs, start_engine, wait_secs};
use serde_json::Value;

fn job(sb: &Sandbox, id: i64) -> Value {
    jobs(sb)
        .into_iter()
        .find(|j| j["id"] == id)
        .unwrap_or_else(|| panic!("no job #{id}"))
}

/// The events about no job (the engine's own notes), as text.
fn notes(sb: &Sandbox) -> Vec<String> {
    sb.journal()
        .events_after(0)
        .expect("events")
        .into_iter()
        .filter(|e| e.job.is_none())
        .map(|e| format!("{}: {}", e.kind, e.message))
        .collect()
}

const LATER: &str = r#"
[agents.later]
command = ["{switchboard}", "demo-agent", "--steps", "2", "--step-ms", "50", "{prompt}"]
prompt = "argv"
ready = '(?m)^demo> \s*\z'
busy = '⠿ working[^\n]*\s*\z'
"#;

#[test]
fn a_profile_added_while_the_engine_runs_is_the_one_its_job_starts() {
    let sb = home_with(FAST, &["api"]);
    let _engine = start_engine(&sb);
    wait_secs(30, "the engine to start", || {
        sb.home().join("engine.health").exists()
    });
    // The operator adds a profile and dispatches to it at once.
    std::fs::write(sb.home().join("config.toml"), format!("{FAST}{LATER}")).expect("config");
    sb.run(&["dispatch", "api", "use the new profile", "--agent", "later"])
        .ok();
    wait_secs(60, "job #1 to end its turn", || {
        // One reading of the job: its state and attempts from two
        // readings could be of two moments (queued, then started).
        let j = job(&sb, 1);
        let state = j["state"].as_str().unwrap_or("");
        state == "done" || state == "failed" || state == "queued" && j["attempts"] != 0
    });
    let j = job(&sb, 1);
    assert_eq!(j["state"], "done", "{j}");
    assert!(
        notes(&sb).iter().any(|n| n.starts_with("config: ")
            && n.contains("config.toml")
            && n.contains("read again")),
        "{:?}",
        notes(&sb)
    );

    // A broken edit: refused with its line; the settings stay as they were.
    std::fs::write(
        sb.home().join("config.toml"),
        format!("{FAST}{LATER}\n[routing]\ndefault_agent = 7\n"),
    )
    .expect("config");
    wait_secs(30, "the broken config to be refused", || {
        notes(&sb).iter().any(|n| n.contains("default_agent"))
    });
    let said = notes(&sb);
    let refused = said
        .iter()
        .find(|n| n.contains("default_agent"))
        .expect("a note");
    assert!(refused.contains("line"), "{refused}");
    assert!(refused.contains("keeps the settings it had"), "{refused}");
    std::fs::write(sb.home().join("config.toml"), format!("{FAST}{LATER}")).expect("config");
    sb.run(&["dispatch", "api", "again", "--agent", "later"])
        .ok();
    wait_secs(60, "job #2 to end its turn", || {
        job(&sb, 2)["state"] == "done" || job(&sb, 2)["state"] == "failed"
    });
    assert_eq!(job(&sb, 2)["state"], "done", "{}", job(&sb, 2));
}
