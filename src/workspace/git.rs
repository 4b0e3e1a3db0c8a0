//! Running git: argv only (no shell), errors that say what git said.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How to get git, for error messages.
pub const INSTALL_GIT: &str = "install git: `sudo apt-get install git` (Debian, Ubuntu), \
     `sudo dnf install git` (Fedora), `brew install git` (macOS)";

/// What went wrong running git.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitError {
    #[error("git is not installed; {INSTALL_GIT}")]
    Missing,
    #[error("cannot run git: {0}")]
    Spawn(String),
    #[error("{0}")]
    Failed(String),
}

/// git, run in one directory.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
}

impl Git {
    pub fn at(dir: &Path) -> Git {
        Git {
            dir: dir.to_path_buf(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(&self.dir).args(args);
        // Never ask a question on a terminal, never open an editor.
        cmd.env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_EDITOR", "true")
            .stdin(Stdio::null());
        cmd
    }

    /// Runs git and returns its trimmed stdout.
    pub fn run(&self, args: &[&str]) -> Result<String, GitError> {
        self.run_with(args, &[])
    }

    /// Runs git with extra environment.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Result<String, GitError> {
        let mut cmd = self.command(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let output = cmd.output().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => GitError::Missing,
            _ => GitError::Spawn(e.to_string()),
        })?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout)
                .trim_end()
                .to_string())
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
            let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
            Err(GitError::Failed(if stderr.is_empty() {
                stdout
            } else {
                stderr
            }))
        }
    }

    /// Runs git for something that talks to a remote (fetch, push): with
    /// a deadline, and ssh never asking on a terminal (BatchMode) unless
    /// the operator chose their own ssh command.
    pub fn run_remote(&self, args: &[&str]) -> Result<String, GitError> {
        let mut cmd = self.command(args);
        let own_ssh = std::env::var_os("GIT_SSH_COMMAND").is_some()
            || std::env::var_os("GIT_SSH").is_some()
            || self.run(&["config", "core.sshCommand"]).is_ok();
        if !own_ssh {
            cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        let output = super::bounded::run_bounded(cmd, super::bounded::NETWORK_TIMEOUT).map_err(
            |e| match e {
                super::bounded::BoundedError::Missing { .. } => GitError::Missing,
                other => GitError::Failed(format!("git {}: {other}", args.join(" "))),
            },
        )?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout)
                .trim_end()
                .to_string())
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
            Err(GitError::Failed(stderr))
        }
    }

    /// The identity for commits switchboard makes: the repository's own
    /// when it has one, else "switchboard".
    pub fn identity(&self) -> Vec<(&'static str, String)> {
        let name = self.run(&["config", "user.name"]).unwrap_or_default();
        let email = self.run(&["config", "user.email"]).unwrap_or_default();
        let mut env = Vec::new();
        if name.is_empty() {
            env.push(("GIT_AUTHOR_NAME", "switchboard".to_string()));
            env.push(("GIT_COMMITTER_NAME", "switchboard".to_string()));
        }
        if email.is_empty() {
            env.push(("GIT_AUTHOR_EMAIL", "switchboard@localhost".to_string()));
            env.push(("GIT_COMMITTER_EMAIL", "switchboard@localhost".to_string()));
        }
        env
    }
}

/// `git --version`, e.g. `2.47.3`.
pub fn git_version() -> Result<String, String> {
    Git::at(Path::new("."))
        .run(&["--version"])
        .map(|v| v.trim_start_matches("git version ").to_string())
        .map_err(|e| e.to_string())
}
