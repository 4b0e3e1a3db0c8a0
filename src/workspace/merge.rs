//! Merging approved work into the base branch.
//!
//! The merge commit is computed without any checkout (`git merge-tree
//! --write-tree`, then `git commit-tree`), so a conflict changes nothing.
//! The base branch then moves: if it is checked out somewhere, only when
//! that checkout is clean, by a fast-forward there (its files follow);
//! otherwise by `update-ref` guarded by the old value. Never a half-merged
//! checkout, never a surprise in someone's working tree.

use std::path::{Path, PathBuf};

use super::git::{Git, GitError};

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeOutcome {
    /// The base branch now points at `commit`.
    Merged { commit: String },
    /// The branch conflicts with the base; nothing changed.
    Conflict { files: Vec<String> },
    /// The merge could not be made safely; nothing changed.
    Refused { reason: String },
}

/// Merges `branch` into `base` in `repo` with `message`.
pub fn merge(
    repo: &Path,
    base: &str,
    branch: &str,
    message: &str,
) -> Result<MergeOutcome, GitError> {
    let git = Git::at(repo);
    let base_ref = format!("refs/heads/{base}");
    let old = git.run(&["rev-parse", "--verify", &base_ref])?;
    let theirs = git.run(&["rev-parse", "--verify", &format!("refs/heads/{branch}")])?;
    if git
        .run(&["merge-base", "--is-ancestor", &theirs, &old])
        .is_ok()
    {
        return Ok(MergeOutcome::Merged { commit: old }); // already in
    }
    let checkout = checkout_of(&git, &base_ref)?;
    if let Some(dir) = &checkout {
        let status = Git::at(dir).run(&["status", "--porcelain", "--untracked-files=no"])?;
        if !status.is_empty() {
            return Ok(MergeOutcome::Refused {
                reason: format!(
                    "{base} is checked out at {} with uncommitted changes; commit or stash them, then approve again",
                    dir.display()
                ),
            });
        }
    }
    let tree = match git.run(&[
        "merge-tree",
        "--write-tree",
        "--name-only",
        "--no-messages",
        &old,
        &theirs,
    ]) {
        Ok(out) => out.lines().next().unwrap_or_default().to_string(),
        Err(GitError::Failed(out)) => {
            // Exit 1: the first line is the tree, then the conflicted files.
            let files: Vec<String> = out
                .lines()
                .skip(1)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            if files.is_empty() {
                return Err(GitError::Failed(out));
            }
            return Ok(MergeOutcome::Conflict { files });
        }
        Err(e) => return Err(e),
    };
    let identity = git.identity();
    let env: Vec<(&str, &str)> = identity.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let commit = git.run_with(
        &[
            "commit-tree",
            &tree,
            "-p",
            &old,
            "-p",
            &theirs,
            "-m",
            message,
        ],
        &env,
    )?;
    match checkout {
        Some(dir) => {
            Git::at(&dir).run(&["merge", "--ff-only", "--quiet", &commit])?;
        }
        None => {
            git.run(&["update-ref", "-m", message, &base_ref, &commit, &old])?;
        }
    }
    Ok(MergeOutcome::Merged { commit })
}

/// The worktree (the main one included) where `branch_ref` is checked out.
fn checkout_of(git: &Git, branch_ref: &str) -> Result<Option<PathBuf>, GitError> {
    let list = git.run(&["worktree", "list", "--porcelain"])?;
    let mut path: Option<PathBuf> = None;
    for line in list.lines() {
        if let Some(p) = line.strip_prefix("worktree ") {
            path = Some(PathBuf::from(p));
        } else if line.strip_prefix("branch ") == Some(branch_ref) {
            return Ok(path);
        }
    }
    Ok(None)
}
