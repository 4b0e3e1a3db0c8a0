//! A registered git repository that agents work in.

use std::path::PathBuf;

use serde::Serialize;

use super::name::check_name;
use super::{HostName, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    pub name: String,
    /// The source checkout; never modified by switchboard except by merges
    /// that the operator approved.
    pub path: PathBuf,
    /// The branch worktrees are cut from and approved work merges into.
    pub base_branch: String,
    /// The agent profile for this project's jobs; `None` means the config's
    /// `routing.default_agent`.
    pub agent: Option<String>,
    /// Agents at once in this repository; 1 means one agent claims it.
    pub max_agents: u32,
    /// The machine the repository (and `path`) is on; [`HostName::local`]
    /// for the engine's own (stored as NULL).
    pub host: HostName,
    pub created_at: Timestamp,
}

/// A project name operators can type: letters, digits, `-`, `_`, `.`
/// (the rule hosts' names follow too).
pub fn check_project_name(name: &str) -> Result<(), String> {
    check_name("project", name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_project_name("api").is_ok());
        assert!(check_project_name("web-app_2.0").is_ok());
        for bad in ["", "-x", ".hidden", "a b", "a/b", "ü"] {
            assert!(check_project_name(bad).is_err(), "{bad:?}");
        }
    }
}
