//! An engine run as the real binary (`run --headless`) on a sandbox, and
//! the waits that tests of it share.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Sandbox;
pub use super::wait::wait_secs;

/// A demo agent that finishes in about a tenth of a second.
pub const FAST: &str = r#"
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

/// The engine's process; killed (with its tmux server) when dropped.
pub struct EngineProcess {
    pub child: Child,
    pub home: std::path::PathBuf,
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

impl EngineProcess {
    /// SIGKILL, no clean-up of any kind; the tmux server and its agents
    /// stay.
    pub fn crash(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::forget(self);
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_none()
    }
}

pub fn start_engine(sb: &Sandbox) -> EngineProcess {
    start_engine_with_env(sb, &[])
}

/// The engine of `sb` with `env` (name, value) set over the sandbox's
/// environment: a `PATH` of the test's choosing, for one.
pub fn start_engine_with_env(sb: &Sandbox, env: &[(&str, &str)]) -> EngineProcess {
    let child = sb
        .cmd(&["run", "--headless"])
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the engine");
    EngineProcess {
        child,
        home: sb.home(),
    }
}

/// Runs tmux against the home's private server (where the agents are).
pub fn agents_tmux(sb: &Sandbox, args: &[&str]) -> std::process::Output {
    std::process::Command::new("tmux")
        .arg("-S")
        .arg(sb.home().join("tmux/server.sock"))
        .args(args)
        .output()
        .expect("tmux")
}

pub fn jobs(sb: &Sandbox) -> Vec<Value> {
    sb.run(&["jobs", "--json"])
        .json()
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// A sandbox home with `config` and a project per name (agent `fast`,
/// one agent at a time each).
pub fn home_with(config: &str, projects: &[&str]) -> Sandbox {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.home()).expect("home");
    std::fs::write(sb.home().join("config.toml"), config).expect("config");
    for name in projects {
        let repo = sb.repo(name);
        sb.add_project(name, &repo, "fast", &["--max-agents", "1"]);
    }
    sb
}

/// Passes an in-process `engine`, `step` apart, until `agents` run and
/// three passes in a row read no screen (their screens have settled);
/// fails after `secs`.
pub fn pass_until_settled(
    engine: &mut switchboard::engine::Engine,
    agents: u64,
    secs: u64,
    step: Duration,
) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut still = 0;
    while still < 3 {
        assert!(
            Instant::now() < deadline,
            "the agents did not settle: {} running",
            engine.journal.active_job_count().expect("count")
        );
        let before = engine.screen_reads;
        engine.pass().expect("pass");
        let running = engine.journal.active_job_count().expect("count");
        still = if running == agents && engine.screen_reads == before {
            still + 1
        } else {
            0
        };
        std::thread::sleep(step);
    }
}
