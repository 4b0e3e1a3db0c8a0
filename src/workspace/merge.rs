//! Merging approved work into the base branch.
//!
//! The merge commit is computed without any checkout (`git merge-tree
//! --write-tree`, then `git commit-tree`), so a conflict changes nothing.
//! The base branch then moves: if it is checked out somewhere, only when
//! that checkout is clean, by a fast-forward there (its files follow);
//! otherwise by `update-ref` guarded by the old value. Never a half-merged
//! checkout, never a surprise in someone's working tree.

use std::path::{Path, PathBuf};

use super::git::{Git, GitError, Place};
use crate::config::MergeStrategy;

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeOutcome {
    /// The base branch now points at `commit`.
    Merged { commit: String },
    /// The branch holds nothing the base lacks (no change of its own, or
    /// merged before): nothing to merge, nothing changed.
    AlreadyIn,
    /// The branch conflicts with the base; nothing changed.
    Conflict { files: Vec<String> },
    /// The merge could not be made safely; nothing changed.
    Refused { reason: String },
}

/// Merges `branch` into `base` in `repo` with `message` (a merge commit).
pub fn merge(
    repo: &Path,
    base: &str,
    branch: &str,
    message: &str,
) -> Result<MergeOutcome, GitError> {
    merge_with(repo, base, branch, message, MergeStrategy::Merge)
}

/// Brings `branch` into `base` in `repo` by `strategy`: a merge commit
/// with `message`, one squashed commit with `message`, or the branch's
/// commits replayed on the base (their own messages kept; the branch then
/// points at the replayed commits too). No checkout is touched but the
/// base's own, and only when it is clean; a conflict changes nothing.
pub fn merge_with(
    repo: &Path,
    base: &str,
    branch: &str,
    message: &str,
    strategy: MergeStrategy,
) -> Result<MergeOutcome, GitError> {
    merge_on(&Place::Local, repo, base, branch, message, strategy)
}

/// [`merge_with`] at `place`: on a host, every git step runs there.
pub fn merge_on(
    place: &Place,
    repo: &Path,
    base: &str,
    branch: &str,
    message: &str,
    strategy: MergeStrategy,
) -> Result<MergeOutcome, GitError> {
    let git = Git::on(place, repo);
    let base_ref = format!("refs/heads/{base}");
    let old = git.run(&["rev-parse", "--verify", &base_ref])?;
    let theirs = git.run(&["rev-parse", "--verify", &format!("refs/heads/{branch}")])?;
    if git
        .run(&["merge-base", "--is-ancestor", &theirs, &old])
        .is_ok()
    {
        return Ok(MergeOutcome::AlreadyIn);
    }
    let checkout = checkout_of(&git, &base_ref)?;
    if let Some(dir) = &checkout {
        let status = Git::on(place, dir).run(&["status", "--porcelain", "--untracked-files=no"])?;
        if !status.is_empty() {
            return Ok(MergeOutcome::Refused {
                reason: format!(
                    "{base} is checked out at {} with uncommitted changes; commit or stash them, then approve again",
                    dir.display()
                ),
            });
        }
    }
    let commit = match strategy {
        MergeStrategy::Merge | MergeStrategy::Squash => {
            let tree = match merged_tree(&git, &old, &theirs, None)? {
                Ok(tree) => tree,
                Err(files) => return Ok(MergeOutcome::Conflict { files }),
            };
            let mut args = vec!["commit-tree", tree.as_str(), "-p", old.as_str()];
            if strategy == MergeStrategy::Merge {
                args.extend(["-p", theirs.as_str()]);
            }
            args.extend(["-m", message]);
            let identity = git.identity();
            let env: Vec<(&str, &str)> = identity.iter().map(|(k, v)| (*k, v.as_str())).collect();
            git.run_with(&args, &env)?
        }
        // Already on the base (brought up to date in its worktree): the
        // base moves to it, as a rebase onto an unmoved base would.
        MergeStrategy::Rebase
            if git
                .run(&["merge-base", "--is-ancestor", &old, &theirs])
                .is_ok() =>
        {
            theirs.clone()
        }
        MergeStrategy::Rebase => match replay(&git, &old, &theirs)? {
            Ok(tip) => {
                git.run(&[
                    "update-ref",
                    "-m",
                    "switchboard: rebased for approve",
                    &format!("refs/heads/{branch}"),
                    &tip,
                    &theirs,
                ])?;
                tip
            }
            Err(files) => return Ok(MergeOutcome::Conflict { files }),
        },
    };
    match checkout {
        Some(dir) => {
            Git::on(place, &dir).run(&["merge", "--ff-only", "--quiet", &commit])?;
        }
        None => {
            git.run(&["update-ref", "-m", message, &base_ref, &commit, &old])?;
        }
    }
    Ok(MergeOutcome::Merged { commit })
}

/// The tree of merging `theirs` into `ours` (from `merge_base` when
/// given, as a cherry-pick does), or the conflicted files.
fn merged_tree(
    git: &Git,
    ours: &str,
    theirs: &str,
    merge_base: Option<&str>,
) -> Result<Result<String, Vec<String>>, GitError> {
    let base_arg = merge_base.map(|b| format!("--merge-base={b}"));
    let mut args = vec!["merge-tree", "--write-tree", "--name-only", "--no-messages"];
    if let Some(b) = &base_arg {
        args.push(b);
    }
    args.extend([ours, theirs]);
    match git.run(&args) {
        Ok(out) => Ok(Ok(out.lines().next().unwrap_or_default().to_string())),
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
            Ok(Err(files))
        }
        Err(e) => Err(e),
    }
}

/// Replays the commits of `theirs` that `onto` lacks, oldest first, each
/// with its own author and message: the new tip, or the files of the first
/// commit that conflicts.
fn replay(git: &Git, onto: &str, theirs: &str) -> Result<Result<String, Vec<String>>, GitError> {
    let list = git.run(&[
        "rev-list",
        "--reverse",
        "--no-merges",
        &format!("{onto}..{theirs}"),
    ])?;
    let mut tip = onto.to_string();
    for commit in list.lines().filter(|l| !l.is_empty()) {
        let parent = git.run(&["rev-parse", &format!("{commit}^")])?;
        let tree = match merged_tree(git, &tip, commit, Some(&parent))? {
            Ok(tree) => tree,
            Err(files) => return Ok(Err(files)),
        };
        let meta = git.run(&["log", "-1", "--format=%an%x00%ae%x00%aI%x00%B", commit])?;
        let mut fields = meta.splitn(4, '\0');
        let (name, email, date, body) = (
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
        );
        let identity = git.identity();
        let mut env: Vec<(&str, &str)> = identity
            .iter()
            .filter(|(k, _)| k.starts_with("GIT_COMMITTER"))
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        env.extend([
            ("GIT_AUTHOR_NAME", name),
            ("GIT_AUTHOR_EMAIL", email),
            ("GIT_AUTHOR_DATE", date),
        ]);
        tip = git.run_with(
            &["commit-tree", &tree, "-p", &tip, "-m", body.trim_end()],
            &env,
        )?;
    }
    Ok(Ok(tip))
}

/// Moves the local `base` forward to `to` (the remote's base, after work
/// delivered there was merged) when that is a fast-forward; where `base`
/// is checked out, only when that checkout is clean (its files follow).
/// Says what happened, for the event.
pub fn fast_forward_base(
    place: &Place,
    repo: &Path,
    base: &str,
    to: &str,
) -> Result<String, GitError> {
    let git = Git::on(place, repo);
    let base_ref = format!("refs/heads/{base}");
    let old = git.run(&["rev-parse", "--verify", &base_ref])?;
    let new = git.run(&["rev-parse", "--verify", &format!("{to}^{{commit}}")])?;
    let ancestor = |a: &str, b: &str| git.run(&["merge-base", "--is-ancestor", a, b]).is_ok();
    if ancestor(&new, &old) {
        return Ok(format!("the local {base} already has it"));
    }
    if !ancestor(&old, &new) {
        return Ok(format!(
            "the local {base} has commits of its own, so it was left as it is"
        ));
    }
    match checkout_of(&git, &base_ref)? {
        Some(dir) => {
            let here = Git::on(place, &dir);
            if !here
                .run(&["status", "--porcelain", "--untracked-files=no"])?
                .is_empty()
            {
                return Ok(format!(
                    "the local {base} is checked out at {} with uncommitted changes, so it was left as it is",
                    dir.display()
                ));
            }
            here.run(&["merge", "--ff-only", "--quiet", &new])?;
        }
        None => {
            git.run(&[
                "update-ref",
                "-m",
                "switchboard: forward to the remote's base",
                &base_ref,
                &new,
                &old,
            ])?;
        }
    }
    Ok(format!("the local {base} moved forward to it"))
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

/// Starts merging `base` into the branch checked out in `worktree`, leaving
/// the conflicts there with their markers for the agent to resolve (its
/// next commit concludes the merge). Returns the conflicted files; empty
/// when the merge went through cleanly (then it is already committed).
pub fn merge_base_into(worktree: &Path, base: &str) -> Result<Vec<String>, GitError> {
    merge_base_into_on(&Place::Local, worktree, base)
}

/// [`merge_base_into`] at `place`.
pub fn merge_base_into_on(
    place: &Place,
    worktree: &Path,
    base: &str,
) -> Result<Vec<String>, GitError> {
    let git = Git::on(place, worktree);
    let identity = git.identity();
    let env: Vec<(&str, &str)> = identity.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let merged = git.run_with(
        &[
            "merge",
            "--no-ff",
            "--no-edit",
            "-m",
            &format!("Merge {base} into this job's branch"),
            base,
        ],
        &env,
    );
    if merged.is_ok() {
        return Ok(Vec::new());
    }
    let files = git.run(&["diff", "--name-only", "--diff-filter=U"])?;
    let files: Vec<String> = files
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if files.is_empty() {
        // It failed for another reason: say it.
        merged?;
    }
    Ok(files)
}
