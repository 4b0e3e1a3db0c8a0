//! The private tmux server of a home on a remote host: every tmux command
//! goes through the host's SSH transport, the server's socket and config
//! in `$HOME/.switchboard/PLACE/tmux/` there (0700), PLACE naming this
//! home and the host (so two engines, or two hosts sharing an NFS home,
//! never share a server).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, channel};

use crate::locks::{relock, relock_reset};
use std::time::Duration;

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

/// The open ssh session that writes paste-buffer files on the host
/// ([`commands::buffer_writer`]).
struct Writer {
    child: Child,
    stdin: ChildStdin,
    acks: Receiver<String>,
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Writer({})", self.child.id())
    }
}

/// A home's tmux server on one host.
#[derive(Debug)]
pub struct RemoteTmux {
    host: String,
    ssh: Ssh,
    place: String,
    history_limit: u32,
    paths: Mutex<Option<Paths>>,
    writer: Mutex<Option<Writer>>,
    /// The text slots in use, one bit each.
    slots: Mutex<u32>,
}

/// How many texts may wait on a host at once to be loaded by tmux (a file
/// each in the private `buffers/` directory there, rewritten, never
/// removed).
pub const SLOTS: u32 = 16;

/// Text staged in a slot on a host: its path there; the slot is free
/// again when this is dropped.
pub struct StagedText<'a> {
    pub path: PathBuf,
    slot: u32,
    owner: &'a RemoteTmux,
}

impl Drop for StagedText<'_> {
    fn drop(&mut self) {
        *relock(&self.owner.slots) &= !(1 << self.slot);
    }
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
            writer: Mutex::new(None),
            slots: Mutex::new(0),
        }
    }

    /// This home's place on the host (the name of switchboard's directory
    /// there; set in its agents' environment as
    /// [`commands::PLACE_VAR`], so that what they leave behind is found).
    pub fn place(&self) -> &str {
        &self.place
    }

    /// Ends the processes attempt `attempt` of job `job` left on the host
    /// (found by their environment; TERM, then KILL after `grace`): how
    /// many there were. One ssh command.
    pub fn end_attempt_processes(
        &self,
        job: i64,
        attempt: u32,
        grace: Duration,
    ) -> Result<usize, TmuxError> {
        let tenths = u32::try_from(grace.as_millis() / 100).unwrap_or(u32::MAX);
        let out = self
            .ssh
            .run(&commands::end_attempt_processes(
                &self.place,
                job,
                attempt,
                tenths,
            ))
            .map_err(|e| self.error(e))?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0))
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
        if let Some(paths) = relock(&self.paths).clone() {
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
        *relock(&self.paths) = Some(paths.clone());
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

    /// Puts `text` in a private file on the host, one of [`SLOTS`] kept
    /// for it, through the session kept open for text, and returns the
    /// file's path there for tmux to load; the slot is the caller's until
    /// the [`StagedText`] is dropped (after tmux loaded it). Text for an
    /// agent thus travels as ssh's stdin, with no new process per nudge,
    /// here or on the host.
    pub fn stage_text(&self, text: &[u8]) -> Result<StagedText<'_>, TmuxError> {
        let dir = self.paths()?.dir.join("buffers");
        let slot = self.take_slot()?;
        let name = format!("sb-slot-{slot}");
        let staged = StagedText {
            path: dir.join(&name),
            slot,
            owner: self,
        };
        let frame = commands::buffer_frame(&name, text).ok_or_else(|| {
            TmuxError::Failed("text with a NUL byte cannot be staged in a file".into())
        })?;
        // A panic while it was held may have cut a frame in two: the
        // writer is dropped, a fresh one opened.
        let mut guard = relock_reset(&self.writer, |w| *w = None);
        for attempt in 0..2 {
            if guard
                .as_mut()
                .is_none_or(|w| w.child.try_wait().ok().flatten().is_some())
            {
                *guard = Some(self.open_writer(&dir)?);
            }
            if let Some(writer) = guard.as_mut() {
                let sent = writer
                    .stdin
                    .write_all(&frame)
                    .and_then(|()| writer.stdin.flush());
                if sent.is_ok()
                    && writer.acks.recv_timeout(Duration::from_secs(10)).as_deref() == Ok("ok")
                {
                    return Ok(staged);
                }
            }
            *guard = None;
            if attempt == 1 {
                break;
            }
        }
        Err(TmuxError::Failed(format!(
            "host {}: the text could not be written there",
            self.host
        )))
    }

    fn take_slot(&self) -> Result<u32, TmuxError> {
        let mut busy = relock(&self.slots);
        let free = (0..SLOTS)
            .find(|s| *busy & (1 << s) == 0)
            .ok_or_else(|| TmuxError::Failed("every text slot is in use".into()))?;
        *busy |= 1 << free;
        Ok(free)
    }

    fn open_writer(&self, dir: &std::path::Path) -> Result<Writer, TmuxError> {
        let mut cmd = self
            .ssh
            .command(&commands::buffer_writer(dir))
            .map_err(|e| self.error(e))?;
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().map_err(|e| TmuxError::Spawn(e.to_string()))?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(TmuxError::Spawn("no stdin or stdout".into()));
        };
        let (tx, acks) = channel();
        std::thread::Builder::new()
            .name("ssh-buffers".into())
            .spawn(move || {
                for line in std::io::BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| TmuxError::Spawn(e.to_string()))?;
        Ok(Writer { child, stdin, acks })
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
