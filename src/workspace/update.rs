//! Bringing a job's branch up to date with a base that moved, in the
//! job's own worktree, before it is delivered: a merge of the base, a
//! rebase onto it, or (squash) one commit on top of it. On a conflict the
//! attempt is undone, so the worktree and the branch are as they were.

use std::path::Path;

use super::git::{Git, GitError, Place};
use crate::config::MergeStrategy;

/// What bringing a branch up to date did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// Nothing to do: the branch already contains the base (and, for
    /// squash, is one commit on it).
    AlreadyUpToDate,
    /// The branch now sits on the base; `how` says what was done.
    Updated { how: String },
    /// The branch conflicts with the base; nothing changed.
    Conflict { files: Vec<String> },
}

/// Brings the branch checked out in `worktree` up to date with `onto` (a
/// ref or commit) by `strategy`. `message` is the squashed commit's
/// message. The worktree must hold no uncommitted changes. `place` is
/// where the worktree is (on a host, git runs there).
pub fn bring_up_to_date(
    place: &Place,
    worktree: &Path,
    onto: &str,
    strategy: MergeStrategy,
    message: &str,
) -> Result<UpdateOutcome, GitError> {
    let git = Git::on(place, worktree);
    let onto = git.run(&["rev-parse", "--verify", &format!("{onto}^{{commit}}")])?;
    let contains_base = git
        .run(&["merge-base", "--is-ancestor", &onto, "HEAD"])
        .is_ok();
    let identity = git.identity();
    let env: Vec<(&str, &str)> = identity.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let short = &onto[..onto.len().min(12)];
    match strategy {
        MergeStrategy::Merge => {
            if contains_base {
                return Ok(UpdateOutcome::AlreadyUpToDate);
            }
            if let Some(files) = merge_in(&git, &onto, &env)? {
                return Ok(UpdateOutcome::Conflict { files });
            }
            Ok(UpdateOutcome::Updated {
                how: format!("the base ({short}) was merged into the branch"),
            })
        }
        MergeStrategy::Rebase => {
            if contains_base {
                return Ok(UpdateOutcome::AlreadyUpToDate);
            }
            let rebased = git.run_with(&["rebase", "--quiet", &onto], &env);
            if let Err(e) = rebased {
                let files = conflicted(&git)?;
                let _ = git.run(&["rebase", "--abort"]);
                if files.is_empty() {
                    return Err(e);
                }
                return Ok(UpdateOutcome::Conflict { files });
            }
            Ok(UpdateOutcome::Updated {
                how: format!("the branch was rebased onto the base ({short})"),
            })
        }
        MergeStrategy::Squash => {
            let one_on_base = contains_base
                && git.run(&["rev-parse", "HEAD^"]).ok().as_deref() == Some(onto.as_str())
                && git.run(&["rev-list", "--count", &format!("{onto}..HEAD")])? == "1";
            if one_on_base {
                return Ok(UpdateOutcome::AlreadyUpToDate);
            }
            if !contains_base && let Some(files) = merge_in(&git, &onto, &env)? {
                return Ok(UpdateOutcome::Conflict { files });
            }
            git.run(&["reset", "--soft", &onto])?;
            git.run_with(&["commit", "--quiet", "--no-verify", "-m", message], &env)?;
            Ok(UpdateOutcome::Updated {
                how: format!("the branch was squashed into one commit on the base ({short})"),
            })
        }
    }
}

/// Merges `onto` into HEAD; the conflicted files (the merge undone), or
/// `None` when it went through.
fn merge_in(git: &Git, onto: &str, env: &[(&str, &str)]) -> Result<Option<Vec<String>>, GitError> {
    let merged = git.run_with(
        &[
            "merge",
            "--no-ff",
            "--no-edit",
            "--quiet",
            "-m",
            "Merge the moved base into this job's branch",
            onto,
        ],
        env,
    );
    match merged {
        Ok(_) => Ok(None),
        Err(e) => {
            let files = conflicted(git)?;
            let _ = git.run(&["merge", "--abort"]);
            if files.is_empty() {
                return Err(e);
            }
            Ok(Some(files))
        }
    }
}

/// The files with unresolved conflicts in the worktree.
fn conflicted(git: &Git) -> Result<Vec<String>, GitError> {
    Ok(git
        .run(&["diff", "--name-only", "--diff-filter=U"])?
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}
