//! A registered git repository that agents work in.

use std::path::PathBuf;

use serde::Serialize;

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

/// A project name operators can type: letters, digits, `-`, `_`, `.`.
pub fn check_project_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "project name {name:?} is not usable: use 1 to 64 letters, digits, '-', '_' or '.', not starting with '.' or '-'"
        ))
    }
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
