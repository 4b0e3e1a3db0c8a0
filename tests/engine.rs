//! The engine for real: the demo agent in a real worktree on a real tmux
//! server, run by `switchboard run --headless`.

mod common;

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{Sandbox, git};
use serde_json::Value;

const FAST: &str = r#"
[scheduler]
active_interval = "200ms"
idle_interval = "500ms"

[agents.fast]
command = ["{switchboard}", "demo-agent", "--steps", "2", "--step-ms", "50", "{prompt}"]
prompt = "argv"
ready = '(?m)^demo> \s*\z'
busy = '⠿ working[^\n]*\s*\z'
ask = '\[y/n\]\s*\z'
"#;

struct EngineProcess {
    child: Child,
    home: std::path::PathBuf,
}

impl Drop for EngineProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::process::Command::new("tmux")
            .arg("-S")
            .arg(self.home.join("tmux/server.sock"))
            .arg("kill-server")
            .output();
    }
}

fn start_engine(sb: &Sandbox) -> EngineProcess {
    let child = sb
        .cmd(&["run", "--headless"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    EngineProcess {
        child,
        home: sb.home(),
    }
}

fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn review(sb: &Sandbox) -> Vec<Value> {
    sb.run(&["review", "--json"])
        .json()
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_dispatched_task_ends_as_a_reviewed_merged_branch() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    std::fs::create_dir_all(sb.home()).unwrap();
    std::fs::write(sb.home().join("config.toml"), FAST).unwrap();
    sb.run(&[
        "project",
        "add",
        "api",
        repo.to_str().unwrap(),
        "--agent",
        "fast",
    ])
    .ok();
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    let mut engine = start_engine(&sb);

    wait_for("the review item", || {
        review(&sb).first().is_some_and(|r| r["state"] == "ready")
    });
    let item = &review(&sb)[0];
    assert_eq!(item["branch"], "switchboard/1");
    assert_eq!(item["files"], 1);
    assert_eq!(item["insertions"], 1);
    let job = sb.run(&["jobs", "1", "--json"]).json();
    assert_eq!(job["state"], "done");
    let log = std::process::Command::new("git")
        .arg("-C")
        .arg(&repo)
        .args(["log", "-1", "--format=%s", "switchboard/1"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&log.stdout).contains("job #1"),
        "{}",
        String::from_utf8_lossy(&log.stdout)
    );
    assert!(
        !repo.join("DEMO.md").exists(),
        "nothing merged before approval"
    );

    sb.run(&["approve", "1"]).ok();
    wait_for("the merge", || {
        review(&sb).first().is_some_and(|r| r["state"] == "merged")
    });
    assert_eq!(
        std::fs::read_to_string(repo.join("DEMO.md")).unwrap(),
        "- write the docs\n"
    );

    // A drain with nothing running: READY_FOR_SHUTDOWN, and the engine exits 0.
    sb.run(&["drain"]).ok();
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = engine.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the engine did not exit after the drain"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success());
    assert!(sb.home().join("READY_FOR_SHUTDOWN").exists());
    git(&repo, &["diff", "--quiet"]);
}

#[test]
fn one_engine_per_home() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.home()).unwrap();
    std::fs::write(sb.home().join("config.toml"), FAST).unwrap();
    let _first = start_engine(&sb);
    std::thread::sleep(Duration::from_millis(500));
    let second = sb.run(&["run", "--headless"]);
    assert_eq!(second.code, 1);
    assert!(
        second.stderr.contains("another engine runs"),
        "{}",
        second.stderr
    );
}
