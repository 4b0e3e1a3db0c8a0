//! A project's remote: which one, its address, fetching its base,
//! pushing a job's branch, whether the remote's base contains the
//! branch, and deleting the branch there once it is merged. Each runs
//! where the repository is (`place`): for a project on a host, git runs
//! there, with the host's remotes and credentials.

use std::path::Path;

use super::git::{Git, GitError, Place};

/// The remote to deliver to: `configured` when set (it must exist), else
/// `origin` when the repository has one; otherwise an error that says
/// what to do.
pub fn resolve_remote(
    place: &Place,
    repo: &Path,
    configured: Option<&str>,
) -> Result<String, String> {
    let list = Git::on(place, repo)
        .run(&["remote"])
        .map_err(|e| format!("cannot list the remotes of {}: {e}", repo.display()))?;
    let remotes: Vec<&str> = list.lines().map(str::trim).collect();
    match configured {
        Some(name) if remotes.contains(&name) => Ok(name.to_string()),
        Some(name) => Err(format!(
            "the project's remote {name:?} is not a remote of {} (it has: {}); add it with `git remote add {name} URL`",
            repo.display(),
            shown(&remotes)
        )),
        None if remotes.contains(&"origin") => Ok("origin".to_string()),
        None => Err(format!(
            "{} has no remote `origin` to push to (it has: {}); add one with `git remote add origin URL`, or set `remote = \"NAME\"` in the project's [projects.NAME] settings",
            repo.display(),
            shown(&remotes)
        )),
    }
}

fn shown(remotes: &[&str]) -> String {
    let named: Vec<&str> = remotes.iter().copied().filter(|r| !r.is_empty()).collect();
    if named.is_empty() {
        "none".to_string()
    } else {
        named.join(", ")
    }
}

/// The remote's address as configured (before any `insteadOf`), which
/// says which forge it is.
pub fn remote_url(place: &Place, repo: &Path, remote: &str) -> Result<String, GitError> {
    Git::on(place, repo).run(&["config", "--get", &format!("remote.{remote}.url")])
}

/// The ref that tracks `base` on `remote` (`refs/remotes/origin/main`).
pub fn remote_base_ref(remote: &str, base: &str) -> String {
    format!("refs/remotes/{remote}/{base}")
}

/// Fetches `base` from `remote`; returns the ref that now tracks it.
pub fn fetch_base(
    place: &Place,
    repo: &Path,
    remote: &str,
    base: &str,
) -> Result<String, GitError> {
    let tracking = remote_base_ref(remote, base);
    Git::on(place, repo)
        .run_remote(&[
            "fetch",
            "--quiet",
            "--no-tags",
            remote,
            &format!("+refs/heads/{base}:{tracking}"),
        ])
        .map_err(|e| GitError::Failed(format!("cannot fetch {base} from {remote}: {e}")))?;
    Ok(tracking)
}

/// Pushes the local `branch` to the same name on `remote`. A branch this
/// job pushed before (and then rebased) is replaced, but only if the
/// remote still has what switchboard last pushed there.
pub fn push_branch(place: &Place, repo: &Path, remote: &str, branch: &str) -> Result<(), GitError> {
    let git = Git::on(place, repo);
    let tracking = format!("refs/remotes/{remote}/{branch}");
    let expected = git
        .run(&["rev-parse", "--verify", "--quiet", &tracking])
        .unwrap_or_default();
    let lease = format!("--force-with-lease=refs/heads/{branch}:{expected}");
    git.run_remote(&[
        "push",
        "--quiet",
        "--porcelain",
        &lease,
        remote,
        &format!("refs/heads/{branch}:refs/heads/{branch}"),
    ])
    .map_err(|e| GitError::Failed(format!("cannot push {branch} to {remote}: {e}")))?;
    // Remember what is there now, for the next push's lease.
    let tip = git.run(&["rev-parse", &format!("refs/heads/{branch}")])?;
    git.run(&["update-ref", &tracking, &tip])?;
    Ok(())
}

/// Whether `commit` is contained in `into` (a ref or commit).
pub fn contains(place: &Place, repo: &Path, into: &str, commit: &str) -> bool {
    Git::on(place, repo)
        .run(&["merge-base", "--is-ancestor", commit, into])
        .is_ok()
}

/// Deletes `branch` on `remote`; a branch already gone there (the forge
/// deleted it after the merge) is fine.
pub fn delete_remote_branch(
    place: &Place,
    repo: &Path,
    remote: &str,
    branch: &str,
) -> Result<(), GitError> {
    let git = Git::on(place, repo);
    let result = git.run_remote(&[
        "push",
        "--quiet",
        remote,
        "--delete",
        &format!("refs/heads/{branch}"),
    ]);
    let _ = git.run(&[
        "update-ref",
        "-d",
        &format!("refs/remotes/{remote}/{branch}"),
    ]);
    match result {
        Ok(_) => Ok(()),
        Err(GitError::Failed(why)) if why.contains("remote ref does not exist") => Ok(()),
        Err(e) => Err(e),
    }
}
