//! `[projects.NAME]`: how a registered project's finished work reaches its
//! base branch, and how its worktrees are set up and cleaned up. The
//! project itself (path, base, agent, limit) is registered in the journal
//! with `project add`; these settings sit beside it in the config file.

use std::time::Duration;

use serde::Deserialize;

/// What approve does with a finished job's branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Deliver {
    /// Merge into the local base branch (the default).
    #[default]
    Merge,
    /// Push `switchboard/<id>` to the remote; the job ends when the branch
    /// is merged there.
    Push,
    /// Push and open a pull request.
    Pr,
}

/// How approved work is brought into the base branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MergeStrategy {
    /// A merge commit with both parents (the default).
    #[default]
    Merge,
    /// One new commit on the base with the branch's changes.
    Squash,
    /// The branch's commits replayed on the base, which then moves to them.
    Rebase,
}

impl MergeStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            MergeStrategy::Merge => "merge",
            MergeStrategy::Squash => "squash",
            MergeStrategy::Rebase => "rebase",
        }
    }
}

/// The settings of one project; every key is optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProjectSettings {
    pub deliver: Deliver,
    pub merge_strategy: MergeStrategy,
    /// The remote for `push` and `pr` (`origin` when unset).
    pub remote: Option<String>,
    /// An argv run in each new worktree before its agent starts.
    pub setup: Vec<String>,
    /// How long `setup` may take.
    #[serde(with = "super::duration")]
    pub setup_timeout: Duration,
    /// Untracked files copied from the source checkout into each new
    /// worktree; never committed back.
    pub include: Vec<String>,
    /// Keep `switchboard/<id>` after its work is merged.
    pub keep_branches: bool,
    /// How long worktrees of killed and failed jobs stay.
    #[serde(with = "super::duration")]
    pub keep_failed: Duration,
}

impl Default for ProjectSettings {
    fn default() -> ProjectSettings {
        ProjectSettings {
            deliver: Deliver::Merge,
            merge_strategy: MergeStrategy::Merge,
            remote: None,
            setup: Vec::new(),
            setup_timeout: Duration::from_secs(600),
            include: Vec::new(),
            keep_branches: false,
            keep_failed: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

impl ProjectSettings {
    /// An include path must stay inside the worktree: relative, no `..`.
    pub fn check(&self) -> Result<(), String> {
        for path in &self.include {
            let p = std::path::Path::new(path);
            if p.is_absolute()
                || p.components()
                    .any(|c| !matches!(c, std::path::Component::Normal(_)))
            {
                return Err(format!(
                    "include path {path:?} must be relative to the repository, without `..`"
                ));
            }
        }
        if self.setup.first().is_some_and(|p| p.is_empty()) {
            return Err("setup's first element is the program to run; it is empty".into());
        }
        Ok(())
    }
}
