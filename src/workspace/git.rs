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
    /// The repository's host could not be reached (or refused us).
    #[error("{0}")]
    Host(String),
}

/// Where a repository is: on this machine, or on a host over SSH (its
/// paths are then paths there).
#[derive(Debug, Clone, Default)]
pub enum Place {
    #[default]
    Local,
    Host(std::sync::Arc<crate::remote::Ssh>),
}

impl Place {
    pub fn is_local(&self) -> bool {
        matches!(self, Place::Local)
    }

    /// Whether `path` is a file or directory there.
    pub fn exists(&self, path: &Path) -> Result<bool, GitError> {
        match self {
            Place::Local => Ok(path.exists()),
            Place::Host(ssh) => match ssh.run(&crate::remote::commands::exists(path)) {
                Ok(_) => Ok(true),
                Err(crate::remote::SshError::Remote { code: 1, .. }) => Ok(false),
                Err(e) => Err(GitError::Host(e.to_string())),
            },
        }
    }

    /// Makes `dir` and its parents there.
    pub fn create_dir_all(&self, dir: &Path) -> Result<(), GitError> {
        match self {
            Place::Local => {
                std::fs::create_dir_all(dir).map_err(|e| GitError::Failed(e.to_string()))
            }
            Place::Host(ssh) => ssh
                .run(&crate::remote::commands::private_dir(dir))
                .map(|_| ())
                .map_err(|e| GitError::Host(e.to_string())),
        }
    }

    /// The text of `file` there; `None` when it cannot be read.
    pub fn read_to_string(&self, file: &Path) -> Option<String> {
        match self {
            Place::Local => std::fs::read_to_string(file).ok(),
            Place::Host(ssh) => ssh
                .run(&crate::remote::commands::read_file(file))
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned()),
        }
    }

    /// Removes `file` there (gone already is fine).
    pub fn remove_file(&self, file: &Path) -> Result<(), GitError> {
        match self {
            Place::Local => match std::fs::remove_file(file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(GitError::Failed(e.to_string()))
                }
                _ => Ok(()),
            },
            Place::Host(ssh) => ssh
                .run(&crate::remote::commands::remove_file(file))
                .map(|_| ())
                .map_err(|e| GitError::Host(e.to_string())),
        }
    }

    /// Writes `content` to `file` there (its directory must exist).
    pub fn write(&self, file: &Path, content: &[u8]) -> Result<(), GitError> {
        match self {
            Place::Local => {
                std::fs::write(file, content).map_err(|e| GitError::Failed(e.to_string()))
            }
            Place::Host(ssh) => ssh
                .run(&crate::remote::commands::write_file(file, content.to_vec()))
                .map(|_| ())
                .map_err(|e| GitError::Host(e.to_string())),
        }
    }
}

/// git, run in one directory.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
    place: Place,
}

impl Git {
    pub fn at(dir: &Path) -> Git {
        Git {
            dir: dir.to_path_buf(),
            place: Place::Local,
        }
    }

    /// git in `dir` at `place` (over the host's master connection for a
    /// remote one).
    pub fn on(place: &Place, dir: &Path) -> Git {
        Git {
            dir: dir.to_path_buf(),
            place: place.clone(),
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

    /// Whether the repository has the local branch `branch` (false too
    /// when git cannot tell: a host out of reach).
    pub fn has_branch(&self, branch: &str) -> bool {
        self.run(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ])
        .is_ok()
    }

    /// Runs git and returns its trimmed stdout.
    pub fn run(&self, args: &[&str]) -> Result<String, GitError> {
        self.run_with(args, &[])
    }

    /// Runs git with extra environment.
    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Result<String, GitError> {
        if let Place::Host(ssh) = &self.place {
            return self.run_on_host(ssh, args, env, None);
        }
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

    /// git on the host `ssh` reaches (within `timeout`, else the
    /// transport's usual deadline).
    fn run_on_host(
        &self,
        ssh: &crate::remote::Ssh,
        args: &[&str],
        env: &[(&str, &str)],
        timeout: Option<std::time::Duration>,
    ) -> Result<String, GitError> {
        let cmd = crate::remote::commands::git(&self.dir, args, env);
        let result = match timeout {
            Some(t) => ssh.run_within(&cmd, t),
            None => ssh.run(&cmd),
        };
        match result {
            Ok(out) => Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string()),
            Err(crate::remote::SshError::Remote {
                code: 127, host, ..
            }) => Err(GitError::Failed(format!(
                "git is not installed on {host}; {INSTALL_GIT}"
            ))),
            Err(crate::remote::SshError::Remote { stderr, .. }) => Err(GitError::Failed(stderr)),
            Err(e) => Err(GitError::Host(e.to_string())),
        }
    }

    /// Runs git for something that talks to a remote (fetch, push): with
    /// a deadline, and ssh never asking on a terminal (BatchMode) unless
    /// the operator chose their own ssh command. On a host it runs there,
    /// with the host's credentials and remotes (no terminal: nothing can
    /// ask), within the same deadline.
    pub fn run_remote(&self, args: &[&str]) -> Result<String, GitError> {
        if let Place::Host(ssh) = &self.place {
            return self
                .run_on_host(ssh, args, &[], Some(super::bounded::NETWORK_TIMEOUT))
                .map_err(|e| match e {
                    GitError::Failed(why) => GitError::Failed(format!(
                        "git {} on {}: {why}",
                        args.join(" "),
                        ssh.address()
                    )),
                    other => other,
                });
        }
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
        // One git run for both keys (a job's finish waits for it).
        let set = self
            .run(&["config", "--get-regexp", r"^user\.(name|email)$"])
            .unwrap_or_default();
        identity_fallback(&set)
    }
}

/// The identity to put in the environment of a commit, given what
/// `git config --get-regexp '^user\.(name|email)$'` printed (`key value`
/// lines; the last of a key wins, as in git): "switchboard" for what is
/// not set or empty.
fn identity_fallback(config: &str) -> Vec<(&'static str, String)> {
    let value = |key: &str| {
        config
            .lines()
            .filter_map(|l| {
                let (k, v) = l.split_once(' ').unwrap_or((l, ""));
                (k == key).then(|| v.trim().to_string())
            })
            .next_back()
            .unwrap_or_default()
    };
    let (name, email) = (value("user.name"), value("user.email"));
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

/// `git --version`, e.g. `2.47.3`.
pub fn git_version() -> Result<String, String> {
    Git::at(Path::new("."))
        .run(&["--version"])
        .map(|v| v.trim_start_matches("git version ").to_string())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::identity_fallback;

    #[test]
    fn the_identity_falls_back_only_for_what_is_not_set() {
        let both = "user.name Ada Lovelace\nuser.email ada@example.org\n";
        assert!(identity_fallback(both).is_empty());
        let keys = |config: &str| -> Vec<&'static str> {
            identity_fallback(config)
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        };
        assert_eq!(
            keys("user.name Ada\n"),
            ["GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"]
        );
        assert_eq!(
            keys("user.email ada@example.org"),
            ["GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"]
        );
        // Nothing set (git printed nothing), an empty value, a key with no
        // value: all four fall back.
        assert_eq!(keys("").len(), 4);
        assert_eq!(keys("user.name \nuser.email").len(), 4);
        // The last value of a key wins, as in git.
        assert_eq!(keys("user.name Ada\nuser.name \nuser.email a@b").len(), 2);
        assert!(keys("user.name \nuser.name Ada\nuser.email a@b").is_empty());
    }
}
