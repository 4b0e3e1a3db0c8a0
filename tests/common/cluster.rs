//! A home with two test hosts (tests/common/hosts.rs), a project on each,
//! the hosts' keys pinned: what the engine tests over SSH share.
#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;
use switchboard::home::Home;
use switchboard::runtime::TmuxServer;

use super::Sandbox;
use super::engine::FAST;
use super::hosts::{TestHost, UserKey, home_on_hosts, project_on};

/// The engine harness's fast demo agent, and a slow one.
pub fn config() -> String {
    format!(
        "{FAST}{}",
        r#"
[agents.slow]
command = ["{switchboard}", "demo-agent", "--steps", "30", "--step-ms", "500", "{prompt}"]
prompt = "argv"
ready = '(?m)^demo> \s*\z'
busy = '⠿ working[^\n]*\s*\z'
ask = '\[y/n\]\s*\z'
"#
    )
}

/// A home with two hosts, a project on each (`api1` on build1, `api2` on
/// build2), the hosts' keys pinned.
pub struct Cluster {
    pub key: UserKey,
    pub hosts: Vec<TestHost>,
    pub repos: Vec<PathBuf>,
    pub sb: Sandbox,
}

impl Cluster {
    pub fn new(agent: &str) -> Cluster {
        Cluster::with_config(agent, &config())
    }

    /// As [`Cluster::new`], with `config_text` as config.toml.
    pub fn with_config(agent: &str, config_text: &str) -> Cluster {
        let key = UserKey::new();
        let hosts: Vec<TestHost> = ["build1", "build2"]
            .iter()
            .map(|n| TestHost::start(n, &key))
            .collect();
        let sb = home_on_hosts(config_text, &hosts, &key);
        let mut repos = Vec::new();
        for (i, host) in hosts.iter().enumerate() {
            let name = format!("api{}", i + 1);
            repos.push(host.repo(&name));
            let said = project_on(&sb, &name, &repos[i], host, agent);
            let said = said.ok();
            assert!(!said.contains("Not checked"), "checked over ssh: {said}");
        }
        Cluster {
            key,
            hosts,
            repos,
            sb,
        }
    }

    /// A view of host `i`'s tmux server, as the engine's (same home).
    pub fn server(&self, i: usize) -> TmuxServer {
        self.hosts[i].tmux_server(&Home::at(self.sb.home()), &self.key)
    }

    /// The worktree of job `id` on host `i` (switchboard's place there).
    pub fn worktree(&self, i: usize, id: u32) -> PathBuf {
        self.hosts[i]
            .home()
            .join(".switchboard")
            .read_dir()
            .expect("place")
            .next()
            .expect("one")
            .expect("entry")
            .path()
            .join("worktrees")
            .join(format!("job-{id}"))
    }

    /// The events of job `id`, as `jobs ID --json` gives them.
    pub fn events(&self, id: u32) -> String {
        self.job(id)["events"].to_string()
    }

    pub fn job(&self, id: u32) -> Value {
        self.sb.run(&["jobs", &id.to_string(), "--json"]).json()
    }

    pub fn review(&self) -> Vec<Value> {
        self.sb
            .run(&["review", "--json"])
            .json()
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn host_state(&self, name: &str) -> String {
        let list = self.sb.run(&["host", "list", "--json"]).json();
        list.as_array()
            .and_then(|rows| rows.iter().find(|r| r["name"] == name))
            .map(|r| r["state"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    }
}
