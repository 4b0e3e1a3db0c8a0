//! The transport to a host: the system's OpenSSH, one shared master
//! connection per host.
//!
//! - The master's socket lives in `<home>/ssh/` (0700), named by a short
//!   hash of the destination, so that its path fits the 104 bytes of a
//!   Unix socket address (ssh adds a 17-byte suffix while it sets one up);
//!   a home whose path is too long for that keeps its sockets in a private
//!   directory of the system's temp dir instead.
//! - `ControlMaster=auto` with `ControlPersist`: the first command opens the
//!   master and leaves it up; every later one rides on it (no handshake).
//! - `BatchMode=yes` (never a password or passphrase question), `-a -x`
//!   (no agent or X forwarding), `IdentitiesOnly` with the host's key.
//! - Host keys are pinned in `<home>/ssh/known_hosts`:
//!   `StrictHostKeyChecking=yes` refuses a host whose key is not there;
//!   `accept-new` (only when the operator asks) pins it on first contact.
//! - Exit status 255 is ssh's own failure; its message says which
//!   ([`classify`]). Any other status is the remote command's.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::commands::RemoteCommand;
use super::quote::{NulInWord, command_line};
use crate::home::Home;
use crate::model::{Host, HostAddress};

/// How long one remote command may take before the host counts as not
/// answering (a cut link is noticed by the keep-alives well before).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(25);

/// How long the master stays up with no command riding on it.
const PERSIST: &str = "10m";

/// Whether a host key not yet pinned is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPolicy {
    /// Only keys already in the home's known_hosts (always, after the first
    /// contact).
    Pinned,
    /// A host not in known_hosts has its key pinned on this contact; a
    /// changed key is still refused.
    AcceptNew,
}

/// What went wrong reaching a host or running a command there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SshError {
    #[error(
        "ssh is not installed; install OpenSSH's client (`sudo apt-get install openssh-client`)"
    )]
    Missing,
    #[error("cannot run ssh: {0}")]
    Spawn(String),
    #[error("host {host} cannot be reached: {reason}")]
    Unreachable { host: String, reason: String },
    #[error(
        "the host key of {host} is not pinned in {known_hosts}; check it, then pin it with `switchboard host add NAME ADDRESS --accept-new-key`"
    )]
    UnknownHostKey { host: String, known_hosts: String },
    #[error(
        "the host key of {host} has CHANGED from the one pinned in {known_hosts}: refused (a new machine, or someone in between); remove the old line from that file only once you know why"
    )]
    ChangedHostKey { host: String, known_hosts: String },
    #[error("{host} refused the login: {reason}")]
    Refused { host: String, reason: String },
    #[error("{host} did not answer within {secs}s")]
    Timeout { host: String, secs: u64 },
    #[error(transparent)]
    BadWord(#[from] NulInWord),
    #[error("on {host}: `{program}` exited with {code}: {stderr}")]
    Remote {
        host: String,
        program: String,
        code: i32,
        stderr: String,
    },
}

impl SshError {
    /// The host could not be reached at all (as opposed to a command that
    /// failed there, or a key or login refused).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            SshError::Unreachable { .. } | SshError::Timeout { .. }
        )
    }
}

/// What a command printed, when it succeeded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// The transport to one host.
#[derive(Debug, Clone)]
pub struct Ssh {
    dest: HostAddress,
    identity: Option<PathBuf>,
    control_path: PathBuf,
    known_hosts: PathBuf,
    policy: KeyPolicy,
}

impl Ssh {
    /// The transport to `host` for `home`.
    pub fn for_host(home: &Home, host: &Host) -> std::io::Result<Ssh> {
        let policy = if host.accept_new_key {
            KeyPolicy::AcceptNew
        } else {
            KeyPolicy::Pinned
        };
        let identity = host.identity_path(dirs::home_dir().as_deref());
        Ssh::new(home, host.address.clone(), identity, policy)
    }

    /// The transport to `dest` for `home`, logging in with `identity` (ssh's
    /// defaults when `None`): makes `<home>/ssh` (0700).
    pub fn new(
        home: &Home,
        dest: HostAddress,
        identity: Option<PathBuf>,
        policy: KeyPolicy,
    ) -> std::io::Result<Ssh> {
        let dir = home.root().join("ssh");
        crate::remote::private_dir(&dir)?;
        let name = socket_name(&dest);
        let control_path = if fits(&dir.join(&name)) {
            dir.join(&name)
        } else {
            let spare = std::env::temp_dir().join(format!("switchboard-ssh-{}", unsafe_uid()));
            crate::remote::private_dir(&spare)?;
            spare.join(format!(
                "{}-{name}",
                short_hash(home.root().as_os_str().as_encoded_bytes())
            ))
        };
        Ok(Ssh {
            dest,
            identity,
            control_path,
            known_hosts: dir.join("known_hosts"),
            policy,
        })
    }

    pub fn address(&self) -> &HostAddress {
        &self.dest
    }

    /// The master connection's socket.
    pub fn control_path(&self) -> &Path {
        &self.control_path
    }

    /// The home's pinned host keys.
    pub fn known_hosts(&self) -> &Path {
        &self.known_hosts
    }

    /// ssh with every option of the transport, up to (not including) the
    /// destination.
    fn base(&self) -> Command {
        let mut cmd = Command::new("ssh");
        let strict = match self.policy {
            KeyPolicy::Pinned => "yes",
            KeyPolicy::AcceptNew => "accept-new",
        };
        let opt = |cmd: &mut Command, o: String| {
            cmd.arg("-o").arg(o);
        };
        opt(&mut cmd, "ControlMaster=auto".into());
        opt(
            &mut cmd,
            format!("ControlPath={}", self.control_path.display()),
        );
        opt(&mut cmd, format!("ControlPersist={PERSIST}"));
        opt(&mut cmd, "BatchMode=yes".into());
        opt(&mut cmd, format!("StrictHostKeyChecking={strict}"));
        opt(
            &mut cmd,
            format!("UserKnownHostsFile={}", self.known_hosts.display()),
        );
        opt(&mut cmd, "ConnectTimeout=5".into());
        // A cut link is noticed in about 6 s, and the master closes.
        opt(&mut cmd, "ServerAliveInterval=3".into());
        opt(&mut cmd, "ServerAliveCountMax=2".into());
        opt(&mut cmd, "LogLevel=ERROR".into());
        cmd.args(["-a", "-x", "-p", &self.dest.port.to_string()]);
        if let Some(user) = &self.dest.user {
            cmd.arg("-l").arg(user);
        }
        if let Some(key) = &self.identity {
            cmd.arg("-i").arg(key);
            opt(&mut cmd, "IdentitiesOnly=yes".into());
        }
        // An operator's tmux must not leak into the client.
        cmd.env_remove("TMUX");
        cmd
    }

    /// The ssh command that runs `remote` on the host (every word quoted;
    /// the destination after `--`, so it is never read as an option).
    pub fn command(&self, remote: &RemoteCommand) -> Result<Command, SshError> {
        let line = command_line(remote.argv())?;
        let mut cmd = self.base();
        cmd.arg("--").arg(&self.dest.host).arg(line);
        Ok(cmd)
    }

    /// As [`command`](Self::command), with a terminal (`ssh -t`): for the
    /// operator's attach.
    pub fn interactive_command(&self, remote: &RemoteCommand) -> Result<Command, SshError> {
        let line = command_line(remote.argv())?;
        let mut cmd = self.base();
        cmd.arg("-t").arg("--").arg(&self.dest.host).arg(line);
        Ok(cmd)
    }

    /// Runs `remote` to its end; its output, or what went wrong.
    pub fn run(&self, remote: &RemoteCommand) -> Result<RemoteOutput, SshError> {
        self.run_within(remote, COMMAND_TIMEOUT)
    }

    /// As [`run`](Self::run), given `timeout` instead of the usual 25 s
    /// (a fetch or push that talks to a remote of the host, a forge's tool).
    pub fn run_within(
        &self,
        remote: &RemoteCommand,
        timeout: Duration,
    ) -> Result<RemoteOutput, SshError> {
        let mut cmd = self.command(remote)?;
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if remote.input().is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => SshError::Missing,
            _ => SshError::Spawn(e.to_string()),
        })?;
        let pid = child.id();
        // stdin is written on the waiting thread: a host that does not read
        // must not block the caller past the deadline.
        let input = remote.input().map(<[u8]>::to_vec);
        let stdin = child.stdin.take();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("ssh-command".into())
            .spawn(move || {
                if let (Some(bytes), Some(mut stdin)) = (input, stdin) {
                    let _ = stdin.write_all(&bytes);
                }
                let _ = tx.send(child.wait_with_output());
            })
            .map_err(|e| SshError::Spawn(e.to_string()))?;
        let output = match rx.recv_timeout(timeout) {
            Ok(output) => output.map_err(|e| SshError::Spawn(e.to_string()))?,
            Err(_) => {
                // SAFETY: kill(2) on our own child, not yet reaped (the
                // waiting thread reaps it once it dies).
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                return Err(SshError::Timeout {
                    host: self.dest.to_string(),
                    secs: timeout.as_secs(),
                });
            }
        };
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        match output.status.code() {
            Some(0) => Ok(RemoteOutput {
                stdout: output.stdout,
                stderr: output.stderr,
            }),
            Some(255) | None => Err(classify(
                &self.dest.to_string(),
                &self.known_hosts.display().to_string(),
                &stderr,
            )),
            Some(code) => Err(SshError::Remote {
                host: self.dest.to_string(),
                program: remote.argv().first().cloned().unwrap_or_default(),
                code,
                stderr,
            }),
        }
    }

    /// Whether the master connection is up (asked of the local master,
    /// no round trip).
    pub fn master_up(&self) -> bool {
        let mut cmd = self.base();
        cmd.args(["-O", "check", "--"])
            .arg(&self.dest.host)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd.status().is_ok_and(|s| s.success())
    }

    /// Closes the master connection (when a host is removed, in tests).
    pub fn close_master(&self) {
        let mut cmd = self.base();
        cmd.args(["-O", "exit", "--"])
            .arg(&self.dest.host)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = cmd.status();
    }
}

/// What ssh's own failure (exit 255) was, from its message.
pub fn classify(host: &str, known_hosts: &str, stderr: &str) -> SshError {
    let has = |s: &str| stderr.contains(s);
    let host = host.to_string();
    let known_hosts = known_hosts.to_string();
    if has("REMOTE HOST IDENTIFICATION HAS CHANGED") || has("Host key for") && has("has changed") {
        SshError::ChangedHostKey { host, known_hosts }
    } else if has("No ED25519 host key is known")
        || has("No RSA host key is known")
        || has("No ECDSA host key is known")
        || has("host key is known for")
        || has("Host key verification failed")
    {
        SshError::UnknownHostKey { host, known_hosts }
    } else if has("Permission denied") || has("Too many authentication failures") {
        SshError::Refused {
            host,
            reason: last_line(stderr),
        }
    } else {
        SshError::Unreachable {
            host,
            reason: if stderr.is_empty() {
                "ssh failed without a message".into()
            } else {
                last_line(stderr)
            },
        }
    }
}

fn last_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// A master socket's file name: short, and the same for the same
/// destination.
fn socket_name(dest: &HostAddress) -> String {
    format!("cm-{}", short_hash(dest.to_string().as_bytes()))
}

/// 12 hex digits of SHA-256: names, not secrets.
pub fn short_hash(bytes: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(bytes);
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether a socket path leaves room for ssh's temporary suffix within a
/// Unix socket address (104 bytes on the BSDs and macOS, 108 on Linux).
fn fits(path: &Path) -> bool {
    path.as_os_str().len() + 18 < 104
}

fn unsafe_uid() -> u32 {
    // SAFETY: getuid(2) cannot fail and touches no memory.
    unsafe { libc::getuid() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_failures_are_told_apart() {
        let c = |s: &str| classify("h:22", "/k", s);
        assert!(matches!(
            c(
                "No ED25519 host key is known for [10.0.0.1]:22 and you have requested strict checking.\r\nHost key verification failed."
            ),
            SshError::UnknownHostKey { .. }
        ));
        assert!(matches!(
            c(
                "@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key verification failed."
            ),
            SshError::ChangedHostKey { .. }
        ));
        assert!(matches!(
            c("root@10.0.0.1: Permission denied (publickey)."),
            SshError::Refused { .. }
        ));
        let e = c("ssh: connect to host 10.0.0.1 port 22: No route to host");
        assert!(e.is_unreachable());
        assert!(e.to_string().contains("No route to host"), "{e}");
    }

    #[test]
    fn long_homes_keep_their_sockets_short() {
        let dest = HostAddress::parse("ops@build1.internal").expect("address");
        let long = tempfile::tempdir().expect("temp dir");
        let root = long.path().join("a".repeat(90));
        let ssh = Ssh::new(&Home::at(&root), dest.clone(), None, KeyPolicy::Pinned).expect("dirs");
        assert!(fits(ssh.control_path()), "{}", ssh.control_path().display());
        let short = Ssh::new(&Home::at(long.path()), dest, None, KeyPolicy::Pinned).expect("dirs");
        assert!(short.control_path().starts_with(long.path().join("ssh")));
    }
}
