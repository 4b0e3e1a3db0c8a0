//! The git side: finding repositories and their branches. (Worktrees,
//! snapshots, commits and merges come with the runtime.)

use std::path::{Path, PathBuf};
use std::process::Command;

/// How to get git, for error messages.
pub const INSTALL_GIT: &str = "install git: `sudo apt-get install git` (Debian, Ubuntu), \
     `sudo dnf install git` (Fedora), `brew install git` (macOS)";

/// Runs git in `dir` and returns its trimmed stdout, or what went wrong.
fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("git is not installed; {INSTALL_GIT}"),
            _ => format!("cannot run git: {e}"),
        })?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}

/// The top directory of the git work tree that holds `path`.
pub fn repository_root(path: &Path) -> Result<PathBuf, String> {
    if !path.is_dir() {
        return Err(format!("{} is not a directory", path.display()));
    }
    git(path, &["rev-parse", "--show-toplevel"])
        .map(PathBuf::from)
        .map_err(|e| {
            if e.contains("not installed") {
                e
            } else {
                format!("{} is not a git repository (git says: {e})", path.display())
            }
        })
}

/// The branch checked out at `repo`.
pub fn current_branch(repo: &Path) -> Result<String, String> {
    git(repo, &["symbolic-ref", "--quiet", "--short", "HEAD"]).map_err(|_| {
        format!(
            "{} has no branch checked out (detached HEAD); pass --base BRANCH",
            repo.display()
        )
    })
}

/// Whether `branch` exists in `repo`.
pub fn has_branch(repo: &Path, branch: &str) -> bool {
    git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ],
    )
    .is_ok()
}

/// `git --version`, e.g. `2.47.3`.
pub fn git_version() -> Result<String, String> {
    git(Path::new("."), &["--version"]).map(|v| v.trim_start_matches("git version ").to_string())
}
