//! The git side: repositories, one worktree per attempt, committing an
//! agent's work, its diff stat, and merging approved work into the base
//! branch without ever leaving a checkout in a confusing state.

pub mod bounded;
pub mod forge;
mod git;
mod merge;
pub mod remote;
mod update;
mod worktree;

use std::path::{Path, PathBuf};

pub use git::{Git, GitError, INSTALL_GIT, Place, git_version};
pub use merge::{
    MergeOutcome, fast_forward_base, merge, merge_base_into, merge_base_into_on, merge_on,
    merge_with,
};
pub use update::{UpdateOutcome, bring_up_to_date};
pub use worktree::{
    DiffStat, PRIVATE_DIR, Worktree, commit_all, commit_all_on, commit_work_on, diff_stat,
    diff_stat_on, diff_text, diff_text_on, files_changed, foreign_branch_on, kept_out,
    open_worktree, open_worktree_on, private_dir, private_dir_on, remove_worktree,
    remove_worktree_on, uncommitted, uncommitted_on,
};

/// The nearest directory at or above `path` that holds `.git` (a directory,
/// or the file of a linked worktree or submodule): the top of the work tree
/// as git finds it, read from the file system without starting git. `None`
/// when no directory above has one. `path` should be canonical, so that
/// its ancestors are too.
pub fn enclosing_repository(path: &Path) -> Option<PathBuf> {
    path.ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The top directory of the git work tree that holds `path`.
pub fn repository_root(path: &Path) -> Result<PathBuf, String> {
    if !path.is_dir() {
        return Err(format!("{} is not a directory", path.display()));
    }
    Git::at(path)
        .run(&["rev-parse", "--show-toplevel"])
        .map(PathBuf::from)
        .map_err(|e| match e {
            GitError::Missing => e.to_string(),
            other => format!(
                "{} is not a git repository (git says: {other})",
                path.display()
            ),
        })
}

/// The branch checked out at `repo`.
pub fn current_branch(repo: &Path) -> Result<String, String> {
    Git::at(repo)
        .run(&["symbolic-ref", "--quiet", "--short", "HEAD"])
        .map_err(|_| {
            format!(
                "{} has no branch checked out (detached HEAD); pass --base BRANCH",
                repo.display()
            )
        })
}

/// Whether `branch` exists in `repo`.
pub fn has_branch(repo: &Path, branch: &str) -> bool {
    Git::at(repo).has_branch(branch)
}
