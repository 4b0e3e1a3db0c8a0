//! The real Claude Code and Codex, installed from npm into a cache under
//! `target/`, each run in a temp HOME that skips onboarding and login and
//! talks only to a [`FakeApi`](super::fake_api::FakeApi) on 127.0.0.1.
//!
//! Facts found by running the real programs (Claude Code 2.1.197, Codex
//! 0.171.0):
//! - Claude Code takes `ANTHROPIC_BASE_URL` and `ANTHROPIC_API_KEY`; it asks
//!   nothing when `~/.claude.json` says `hasCompletedOnboarding`, lists the
//!   key's last 20 characters under `customApiKeyResponses.approved`, and
//!   trusts a parent directory of the worktree (`projects.<dir>`).
//! - Codex takes a `model_provider` with `base_url` and `wire_api =
//!   "responses"` in `$CODEX_HOME/config.toml` (default `~/.codex`) and the
//!   key from `env_key`; it trusts a git worktree when the repository it
//!   belongs to is trusted (`[projects."<repo>"]`). `approval_policy =
//!   "untrusted"` is refused by 0.171; `on-request` with a read-only
//!   sandbox asks before a command that requests escalation. It refuses
//!   to put helper binaries under /tmp, so the homes live under `target/`.
//! - Both set the terminal title. Codex 0.169 ran an app-server daemon
//!   per `CODEX_HOME` that outlived the TUI; 0.171 started none in these
//!   tests (the clean-up below stays for versions that do).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::fake_api::FakeApi;

/// The versions the tests and the recorded screens are made with;
/// `SWITCHBOARD_CLAUDE_VERSION` / `SWITCHBOARD_CODEX_VERSION` override
/// (e.g. `latest`, to see whether a new release still reads right).
pub const CLAUDE_VERSION: &str = "2.1.197";
pub const CODEX_VERSION: &str = "0.171.0";

/// The API key given to Claude Code (its last 20 characters are approved
/// in `~/.claude.json`).
const CLAUDE_KEY: &str = "sk-ant-fake-0123456789abcdefghijkl";

fn cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("real-agents")
}

/// The directory with `claude` and `codex`, installed on first use. `None`
/// (after saying why on stderr) where npm is missing or the install fails:
/// the caller skips its test.
pub fn installed() -> Option<PathBuf> {
    static DIR: OnceLock<Option<PathBuf>> = OnceLock::new();
    DIR.get_or_init(install).clone()
}

fn version(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_string())
}

fn install() -> Option<PathBuf> {
    let claude = version("SWITCHBOARD_CLAUDE_VERSION", CLAUDE_VERSION);
    let codex = version("SWITCHBOARD_CODEX_VERSION", CODEX_VERSION);
    let dir = cache().join(format!("claude-{claude}-codex-{codex}"));
    let bin = dir.join("node_modules").join(".bin");
    let works = |name: &str| {
        Command::new(bin.join(name))
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if works("claude") && works("codex") {
        return Some(bin);
    }
    if Command::new("npm").arg("--version").output().is_err() {
        eprintln!(
            "SKIPPED: the real-agent tests need npm (Node.js) to install @anthropic-ai/claude-code and @openai/codex; npm is not on PATH"
        );
        return None;
    }
    std::fs::create_dir_all(&dir).ok()?;
    eprintln!(
        "installing @anthropic-ai/claude-code@{claude} and @openai/codex@{codex} into {}",
        dir.display()
    );
    let out = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .arg(format!("@anthropic-ai/claude-code@{claude}"))
        .arg(format!("@openai/codex@{codex}"))
        .output();
    match out {
        Ok(o) if o.status.success() && works("claude") && works("codex") => Some(bin),
        Ok(o) => {
            eprintln!(
                "SKIPPED: npm could not install the real agents: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            None
        }
        Err(e) => {
            eprintln!("SKIPPED: npm could not run: {e}");
            None
        }
    }
}

/// Which real agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agent {
    Claude,
    Codex,
}

impl Agent {
    pub fn name(self) -> &'static str {
        match self {
            Agent::Claude => "claude",
            Agent::Codex => "codex",
        }
    }
}

/// A temp HOME for the real agents, set up to skip onboarding and login,
/// trusting `trusted` (the project repository).
pub struct AgentHome {
    pub dir: tempfile::TempDir,
}

impl AgentHome {
    pub fn new(api: &FakeApi, trusted: &Path, claude_hooks: bool) -> AgentHome {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("homes");
        std::fs::create_dir_all(&root).expect("homes dir");
        let dir = tempfile::tempdir_in(root).expect("temp home");
        let home = dir.path();
        let trusted = trusted.to_string_lossy();
        let key_tail = &CLAUDE_KEY[CLAUDE_KEY.len() - 20..];
        let claude = serde_json::json!({
            "hasCompletedOnboarding": true,
            "theme": "dark",
            "customApiKeyResponses": {"approved": [key_tail], "rejected": []},
            "projects": {trusted.as_ref(): {"hasTrustDialogAccepted": true,
                "hasCompletedProjectOnboarding": true}},
        });
        std::fs::write(home.join(".claude.json"), claude.to_string()).expect("claude.json");
        if claude_hooks {
            std::fs::create_dir_all(home.join(".claude")).expect(".claude");
            let hooks = include_str!("../../assets/hooks/claude-settings.json");
            std::fs::write(home.join(".claude/settings.json"), hooks).expect("settings");
        }
        std::fs::create_dir_all(home.join(".codex")).expect(".codex");
        let codex = format!(
            r#"model = "gpt-fake"
model_provider = "fake"
approval_policy = "on-request"
sandbox_mode = "read-only"
check_for_update_on_startup = false

[model_providers.fake]
name = "fake"
base_url = "{}/v1"
wire_api = "responses"
env_key = "OPENAI_API_KEY"
request_max_retries = 1
stream_max_retries = 1

[projects."{trusted}"]
trust_level = "trusted"
"#,
            api.base_url()
        );
        std::fs::write(home.join(".codex/config.toml"), codex).expect("codex config");
        AgentHome { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The environment an agent (or the engine that starts agents) runs
    /// with: this HOME, the agents and switchboard on PATH, the fake API,
    /// and a proxy that goes nowhere for anything not on 127.0.0.1.
    pub fn env(&self, api: &FakeApi, agents: &Path) -> Vec<(String, String)> {
        let switchboard = Path::new(super::BIN)
            .parent()
            .expect("binary dir")
            .to_string_lossy()
            .into_owned();
        let path = format!(
            "{}:{switchboard}:/usr/local/bin:/usr/bin:/bin",
            agents.display()
        );
        [
            ("HOME", self.path().to_string_lossy().into_owned()),
            ("PATH", path),
            ("TERM", "xterm-256color".into()),
            ("ANTHROPIC_BASE_URL", api.base_url()),
            ("ANTHROPIC_API_KEY", CLAUDE_KEY.into()),
            ("OPENAI_API_KEY", "sk-fake".into()),
            ("DISABLE_AUTOUPDATER", "1".into()),
            // A failing API is retried once, not ten times with backoff.
            ("CLAUDE_CODE_MAX_RETRIES", "1".into()),
            ("DISABLE_TELEMETRY", "1".into()),
            ("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1".into()),
            ("HTTP_PROXY", "http://127.0.0.1:9".into()),
            ("HTTPS_PROXY", "http://127.0.0.1:9".into()),
            ("NO_PROXY", "127.0.0.1,localhost".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

impl Drop for AgentHome {
    /// Codex's app-server daemon outlives its TUI: end the ones this home
    /// started (their binary lives under the home).
    fn drop(&mut self) {
        end_daemons_under(self.path());
    }
}

/// Ends every process whose executable lies under `dir`.
pub fn end_daemons_under(dir: &Path) {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return;
    };
    for p in procs.flatten() {
        let Some(pid) = p.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if let Ok(exe) = std::fs::read_link(p.path().join("exe"))
            && exe.starts_with(dir)
        {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
    }
}
