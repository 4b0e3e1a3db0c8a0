//! The private tmux server of a home on a remote host: every tmux command
//! goes through the host's SSH transport, the server's socket and config
//! in `$HOME/.switchboard/PLACE/tmux/` there (0700), PLACE naming this
//! home and the host (so two engines, or two hosts sharing an NFS home,
//! never share a server).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use super::server::{TmuxError, config_text};
use crate::home::Home;
use crate::remote::{RemoteCommand, Ssh, SshError, commands};

/// Where on the host the server's files are, once prepared.
#[derive(Debug, Clone)]
struct Paths {
    dir: PathBuf,
    socket: PathBuf,
    config: PathBuf,
}

/// A home's tmux server on one host.
#[derive(Debug)]
pub struct RemoteTmux {
    host: String,
    ssh: Ssh,
    place: String,
    history_limit: u32,
    paths: Mutex<Option<Paths>>,
}

impl RemoteTmux {
    /// The server of `home` on host `host` (its name in the config),
    /// reached through `ssh`.
    pub fn new(home: &Home, host: &str, ssh: Ssh, history_limit: u32) -> RemoteTmux {
        let root = home.root().as_os_str().as_encoded_bytes();
        let safe: String = host
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .take(32)
            .collect();
        RemoteTmux {
            host: host.to_string(),
            ssh,
            place: format!("{}-{safe}", crate::remote::ssh::short_hash(root)),
            history_limit,
            paths: Mutex::new(None),
        }
    }

    /// The host's name.
    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn ssh(&self) -> &Ssh {
        &self.ssh
    }

    /// Switchboard's private directory on the host (made on first use).
    pub fn dir(&self) -> Result<PathBuf, TmuxError> {
        Ok(self.paths()?.dir)
    }

    fn paths(&self) -> Result<Paths, TmuxError> {
        if let Some(paths) = self.paths.lock().ok().and_then(|p| p.clone()) {
            return Ok(paths);
        }
        let out = self
            .ssh
            .run(&commands::prepare_place(
                &self.place,
                &config_text(self.history_limit),
            ))
            .map_err(|e| self.error(e))?;
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).into_owned());
        if !dir.is_absolute() {
            return Err(TmuxError::Failed(format!(
                "host {}: its HOME is not an absolute path ({})",
                self.host,
                dir.display()
            )));
        }
        let paths = Paths {
            socket: dir.join("tmux").join("server.sock"),
            config: dir.join("tmux").join("tmux.conf"),
            dir,
        };
        if let Ok(mut p) = self.paths.lock() {
            *p = Some(paths.clone());
        }
        Ok(paths)
    }

    fn tmux(&self, args: &[&str]) -> Result<RemoteCommand, TmuxError> {
        let paths = self.paths()?;
        Ok(commands::tmux(&paths.socket, &paths.config, args))
    }

    /// The ssh command that runs tmux `args` on the host.
    pub fn command(&self, args: &[&str]) -> Result<Command, TmuxError> {
        self.ssh
            .command(&self.tmux(args)?)
            .map_err(|e| self.error(e))
    }

    /// Runs tmux `args` on the host, `input` on its stdin; its stdout.
    pub fn run(&self, args: &[&str], input: Option<&[u8]>) -> Result<String, TmuxError> {
        let mut cmd = self.tmux(args)?;
        if let Some(bytes) = input {
            cmd = cmd.with_input(bytes.to_vec());
        }
        let out = self.ssh.run(&cmd).map_err(|e| self.error(e))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `ssh -t` into the session: the operator's attach.
    pub fn attach_command(&self, name: &str) -> Result<Command, TmuxError> {
        let session = format!("={name}");
        let cmd = self.tmux(&["attach-session", "-t", &session])?;
        self.ssh
            .interactive_command(&cmd)
            .map_err(|e| self.error(e))
    }

    /// What an ssh failure means for tmux's callers: a command that failed
    /// on the host reads as tmux's own error (so "no server running" is
    /// told as locally); the host's own trouble stays the host's.
    fn error(&self, e: SshError) -> TmuxError {
        match e {
            SshError::Remote { code: 127, .. } => TmuxError::Failed(format!(
                "tmux is not installed on host {}; {}",
                self.host,
                super::INSTALL_TMUX
            )),
            SshError::Remote { stderr, .. } => TmuxError::Failed(stderr),
            other => TmuxError::Host(other),
        }
    }
}
