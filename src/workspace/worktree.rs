//! One worktree per attempt, on branch `switchboard/<job id>`, cut from the
//! project's base branch; the source checkout is never touched.

use std::path::{Path, PathBuf};

use super::git::{Git, GitError, Place};

/// An attempt's worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worktree {
    pub path: PathBuf,
    pub branch: String,
    /// The base branch's commit the work started from (the snapshot).
    pub base_commit: String,
}

/// Changes on a branch against its base.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DiffStat {
    pub files: u64,
    pub insertions: u64,
    pub deletions: u64,
}

/// "1 file", "3 files": a count of changed files in words.
pub fn files_changed(files: u64) -> String {
    format!("{files} file{}", if files == 1 { "" } else { "s" })
}

impl std::fmt::Display for DiffStat {
    /// `1 file, +1 -0`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, +{} -{}",
            files_changed(self.files),
            self.insertions,
            self.deletions
        )
    }
}

/// A branch `switchboard/<job>` that exists in `repo` (at `place`) while
/// job `job` of this home has never had a worktree: another home on the
/// same repository (ids start at 1 in each), or a home removed before,
/// made it. Its commits are not this job's; `None` when there is no such
/// branch. `ours` says whether this home's journal recorded a branch for
/// the job, and a worktree of its own under `worktrees` (a crash between
/// making it and journaling it) counts as ours too.
pub fn foreign_branch_on(
    place: &Place,
    repo: &Path,
    worktrees: &Path,
    job: i64,
    ours: bool,
) -> Result<Option<String>, GitError> {
    if ours || place.exists(&worktrees.join(format!("job-{job}")).join(".git"))? {
        return Ok(None);
    }
    let branch = format!("switchboard/{job}");
    let exists = Git::on(place, repo)
        .run(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ])
        .is_ok();
    Ok(exists.then_some(branch))
}

/// The worktree of job `job` under `worktrees`: created from `base` on the
/// first attempt, the same one (same branch, same files) on a restart.
pub fn open_worktree(
    repo: &Path,
    base: &str,
    worktrees: &Path,
    job: i64,
) -> Result<Worktree, GitError> {
    open_worktree_on(&Place::Local, repo, base, worktrees, job)
}

/// [`open_worktree`] at `place` (paths there).
pub fn open_worktree_on(
    place: &Place,
    repo: &Path,
    base: &str,
    worktrees: &Path,
    job: i64,
) -> Result<Worktree, GitError> {
    let git = Git::on(place, repo);
    let branch = format!("switchboard/{job}");
    let path = worktrees.join(format!("job-{job}"));
    if !git.has_branch(&branch) {
        let base_commit = git.run(&[
            "rev-parse",
            "--verify",
            &format!("refs/heads/{base}^{{commit}}"),
        ])?;
        place.create_dir_all(worktrees)?;
        let path_text = path.to_string_lossy();
        git.run(&[
            "worktree",
            "add",
            "--quiet",
            "-b",
            &branch,
            &path_text,
            &base_commit,
        ])?;
        return Ok(Worktree {
            path,
            branch,
            base_commit,
        });
    }
    if !place.exists(&path.join(".git"))? {
        git.run(&["worktree", "prune"])?;
        let path_text = path.to_string_lossy();
        git.run(&["worktree", "add", "--quiet", &path_text, &branch])?;
    }
    let base_commit = git.run(&[
        "merge-base",
        &format!("refs/heads/{base}"),
        &format!("refs/heads/{branch}"),
    ])?;
    Ok(Worktree {
        path,
        branch,
        base_commit,
    })
}

/// Commits everything in the worktree (untracked files included) with
/// `message`; `None` when there was nothing to commit.
pub fn commit_all(worktree: &Path, message: &str) -> Result<Option<String>, GitError> {
    commit_all_on(&Place::Local, worktree, message)
}

/// [`commit_all`] at `place`.
pub fn commit_all_on(
    place: &Place,
    worktree: &Path,
    message: &str,
) -> Result<Option<String>, GitError> {
    if !commit_work_on(place, worktree, message)? {
        return Ok(None);
    }
    Git::on(place, worktree)
        .run(&["rev-parse", "HEAD"])
        .map(Some)
}

/// As [`commit_all_on`], saying only whether a commit was made: one git
/// run fewer, for a job's finish, which waits for it before it shows done.
pub fn commit_work_on(place: &Place, worktree: &Path, message: &str) -> Result<bool, GitError> {
    let git = Git::on(place, worktree);
    let kept = kept_out_on(place, worktree);
    let excludes: Vec<String> = kept
        .iter()
        .map(|p| format!(":(exclude,literal){p}"))
        .collect();
    let mut args = vec!["add", "--all", "--", "."];
    args.extend(excludes.iter().map(String::as_str));
    // The identity is read while the work is added (neither waits for
    // the other).
    let (added, identity) = std::thread::scope(|s| {
        let identity = s.spawn(|| git.identity());
        let added = git.run(&args);
        (added, identity.join().unwrap_or_default())
    });
    added?;
    let env: Vec<(&str, &str)> = identity.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // An agent's turn mostly leaves work: the commit is tried at once, and
    // only when it fails is the index asked whether there was any.
    match git.run_with(&["commit", "--quiet", "--no-verify", "-m", message], &env) {
        Ok(_) => Ok(true),
        Err(_) if git.run(&["diff", "--cached", "--quiet"]).is_ok() => Ok(false),
        Err(e) => Err(e),
    }
}

/// The files in a worktree that are not committed (changed, new or
/// deleted), as `git status` names them; empty when it is clean.
pub fn uncommitted(worktree: &Path) -> Result<Vec<String>, GitError> {
    uncommitted_on(&Place::Local, worktree)
}

/// [`uncommitted`] at `place`.
pub fn uncommitted_on(place: &Place, worktree: &Path) -> Result<Vec<String>, GitError> {
    let out =
        Git::on(place, worktree).run(&["status", "--porcelain", "-z", "--untracked-files=all"])?;
    let kept = kept_out_on(place, worktree);
    Ok(porcelain_paths(&out)
        .into_iter()
        .filter(|p| !kept.contains(p))
        .collect())
}

/// The paths of `git status --porcelain -z` output: each entry is `XY
/// PATH`, and a rename or copy (`R` or `C` in either column) is followed
/// by its original path as a field of its own, which is not a change.
/// Paths are the agent's file names: anything but a NUL, any length.
pub fn porcelain_paths(out: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut fields = out.split('\0');
    while let Some(field) = fields.next() {
        let (Some(status), Some(path)) = (field.get(..2), field.get(3..)) else {
            continue;
        };
        if status.contains(['R', 'C']) {
            fields.next();
        }
        if !path.is_empty() {
            paths.push(path.to_string());
        }
    }
    paths
}

/// switchboard's own directory in a worktree: it ignores itself (a
/// `.gitignore` of `*`), so nothing in it is ever committed.
pub const PRIVATE_DIR: &str = ".switchboard";

/// Creates [`PRIVATE_DIR`] in `worktree`; its path.
pub fn private_dir(worktree: &Path) -> std::io::Result<std::path::PathBuf> {
    let dir = worktree.join(PRIVATE_DIR);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join(".gitignore"), "*\n")?;
    Ok(dir)
}

/// [`private_dir`] at `place` (on a host: over its connection).
pub fn private_dir_on(place: &Place, worktree: &Path) -> Result<PathBuf, GitError> {
    if place.is_local() {
        return private_dir(worktree).map_err(|e| GitError::Failed(e.to_string()));
    }
    let dir = worktree.join(PRIVATE_DIR);
    place.create_dir_all(&dir)?;
    place.write(&dir.join(".gitignore"), b"*\n")?;
    Ok(dir)
}

/// Files copied into the worktree from the source checkout (a project's
/// `include`): listed in `.switchboard/include`, never committed and not
/// counted as uncommitted work.
pub fn kept_out(worktree: &Path) -> Vec<String> {
    kept_out_on(&Place::Local, worktree)
}

fn kept_out_on(place: &Place, worktree: &Path) -> Vec<String> {
    place
        .read_to_string(&worktree.join(PRIVATE_DIR).join("include"))
        .map(|t| {
            t.lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// What `branch` changed since `base_commit`.
pub fn diff_stat(repo: &Path, base_commit: &str, branch: &str) -> Result<DiffStat, GitError> {
    diff_stat_on(&Place::Local, repo, base_commit, branch)
}

/// [`diff_stat`] at `place`.
pub fn diff_stat_on(
    place: &Place,
    repo: &Path,
    base_commit: &str,
    branch: &str,
) -> Result<DiffStat, GitError> {
    let out = Git::on(place, repo).run(&[
        "diff",
        "--numstat",
        base_commit,
        &format!("refs/heads/{branch}"),
    ])?;
    let mut stat = DiffStat::default();
    for line in out.lines() {
        let mut parts = line.split('\t');
        let (added, removed) = (parts.next().unwrap_or("-"), parts.next().unwrap_or("-"));
        stat.files += 1;
        // Binary files show "-": counted as a file, not as lines.
        stat.insertions += added.parse::<u64>().unwrap_or(0);
        stat.deletions += removed.parse::<u64>().unwrap_or(0);
    }
    Ok(stat)
}

/// The text of what `branch` changed, as `git diff` shows it without
/// colour: since `base_commit` when known, else since it left `base`.
/// At most `max_lines` lines.
pub fn diff_text(
    repo: &Path,
    base_commit: Option<&str>,
    base: &str,
    branch: &str,
    max_lines: usize,
) -> Result<Vec<String>, GitError> {
    diff_text_on(&Place::Local, repo, base_commit, base, branch, max_lines)
}

/// [`diff_text`] at `place`: the review's diff, fetched from its host.
pub fn diff_text_on(
    place: &Place,
    repo: &Path,
    base_commit: Option<&str>,
    base: &str,
    branch: &str,
    max_lines: usize,
) -> Result<Vec<String>, GitError> {
    let range = match base_commit {
        Some(commit) => format!("{commit}..refs/heads/{branch}"),
        None => format!("{base}...refs/heads/{branch}"),
    };
    let out = Git::on(place, repo).run(&["diff", "--no-color", "--no-ext-diff", &range, "--"])?;
    let mut all = out.lines();
    let mut lines: Vec<String> = all.by_ref().take(max_lines).map(str::to_string).collect();
    if all.next().is_some() {
        lines.push(format!("… cut at {max_lines} lines"));
    }
    Ok(lines)
}

/// Removes the worktree (its branch stays, for review and merging).
pub fn remove_worktree(repo: &Path, path: &Path) -> Result<(), GitError> {
    remove_worktree_on(&Place::Local, repo, path)
}

/// [`remove_worktree`] at `place`.
pub fn remove_worktree_on(place: &Place, repo: &Path, path: &Path) -> Result<(), GitError> {
    let git = Git::on(place, repo);
    if place.exists(path)? {
        git.run(&["worktree", "remove", "--force", &path.to_string_lossy()])?;
    }
    git.run(&["worktree", "prune"])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::porcelain_paths;
    use proptest::prelude::*;

    #[test]
    fn renames_and_copies_list_their_new_path_only() {
        let out = "R  né.txt\0ab€x.txt\0?? ü new.txt\0 M src/lib.rs\0C  b\0a\0";
        assert_eq!(
            porcelain_paths(out),
            ["né.txt", "ü new.txt", "src/lib.rs", "b"]
        );
    }

    proptest! {
        /// Whatever git (or a broken pipe) gives, the parse ends without a
        /// panic and every path it lists is one of the fields it was given.
        #[test]
        fn any_output_parses_without_panic(fields in prop::collection::vec("[RC?M €ü\\PC]{0,8}", 0..8)) {
            let out = fields.join("\0");
            for path in porcelain_paths(&out) {
                prop_assert!(fields.iter().any(|f| f.ends_with(&path)));
            }
        }
    }
}
