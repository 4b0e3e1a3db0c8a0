//! The engine's door: a local socket in the home (`engine.sock`, owner
//! only) where `dispatch` hands its task to the running engine, which
//! journals it with a journal it keeps open, so a dispatch costs neither
//! opening SQLite (its schema, its log's index) nor a second commit's
//! `fsync` of the directory. The commit is as durable as ever
//! (`synchronous = FULL`): the answer goes back only after it.
//!
//! One request a connection, one JSON line each way ([`Request`],
//! [`Reply`]). The door serves on its own thread, one connection at a
//! time, each with a time limit; a request it cannot read, from another
//! user, too long, or from another version is answered with why (another
//! version is told to journal the task itself), and the door goes on. It
//! never stops the engine: a fault in one request drops that request's
//! journal connection, which is opened again for the next.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::io::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::cli::queue_task::{Queued, TaskRequest, queue};
use crate::config::Config;
use crate::home::Home;
use crate::intake::limits::MAX_PROMPT_BYTES;
use crate::journal::Journal;
use crate::runtime::Output;

/// The longest request read: a task at its limits, with room for the rest.
pub const MAX_REQUEST_BYTES: u64 = (MAX_PROMPT_BYTES + 64 * 1024) as u64;
/// How long a connection may take to send its request.
const READ_LIMIT: Duration = Duration::from_secs(2);
/// How often the door looks whether the engine is stopping.
const STOP_CHECK: Duration = Duration::from_millis(250);

/// What `dispatch` sends.
#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    /// The sender's version: another version's task is journaled by the
    /// sender itself, with its own rules.
    pub version: String,
    pub task: TaskRequest,
}

/// What the door answers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// Journaled.
    Queued(Queued),
    /// Not journaled, and why (in the words `dispatch` would use).
    Refused(String),
    /// Not journaled: the engine is of another version (given).
    OtherVersion(String),
}

/// This build's version, compared by the door.
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}

/// The open door; closing it (dropping) removes the socket first, so a
/// `dispatch` from then on journals the task itself, then answers what
/// was already waiting.
pub struct Door {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Door {
    /// Opens the door of `home`; `None` (logged) where the socket cannot be
    /// made, e.g. a home path too long for a socket: `dispatch` then
    /// journals tasks itself, as with no engine.
    pub fn open(home: &Home, wake: Arc<Output>) -> Option<Door> {
        let path = home.engine_socket();
        // The engine lock is held: a socket left here is a dead engine's.
        let _ = std::fs::remove_file(&path);
        let listener = match bind(&path) {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(
                    "dispatch cannot be handed to this engine ({}: {e}); each dispatch journals its task itself",
                    path.display()
                );
                return None;
            }
        };
        let stop = Arc::new(AtomicBool::new(false));
        let served = Served::new(home);
        let thread = std::thread::Builder::new()
            .name("door".into())
            .spawn({
                let stop = Arc::clone(&stop);
                move || serve(listener, served, &stop, &wake)
            })
            .ok()?;
        Some(Door {
            path,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Door {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn bind(path: &Path) -> std::io::Result<UnixListener> {
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// What the door keeps between requests: its journal connection and the
/// config as last read.
struct Served {
    journal_file: PathBuf,
    config_file: PathBuf,
    journal: Option<Journal>,
    config: Option<(Option<(SystemTime, u64)>, Config)>,
}

impl Served {
    fn new(home: &Home) -> Served {
        Served {
            journal_file: home.journal_file(),
            config_file: home.config_file(),
            journal: None,
            config: None,
        }
    }

    /// Journals `task` as `dispatch` would.
    fn queue(&mut self, task: &TaskRequest) -> Reply {
        let config = match self.config() {
            Ok(config) => config,
            Err(e) => return Reply::Refused(format!("{e:#}")),
        };
        let journal = match self.journal.take() {
            Some(journal) => journal,
            None => match Journal::open(&self.journal_file) {
                Ok(journal) => journal,
                Err(e) => {
                    return Reply::Refused(format!(
                        "cannot open the journal {}: {e}",
                        self.journal_file.display()
                    ));
                }
            },
        };
        let mut journal = journal;
        let reply = match queue(&mut journal, &config, task) {
            Ok(queued) => Reply::Queued(queued),
            Err(e) => Reply::Refused(format!("{e:#}")),
        };
        self.journal = Some(journal);
        reply
    }

    /// The config, read again when its file changed (as `dispatch` would
    /// read it now).
    fn config(&mut self) -> anyhow::Result<Config> {
        let stamp = std::fs::metadata(&self.config_file)
            .ok()
            .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        if let Some((seen, config)) = &self.config
            && *seen == stamp
        {
            return Ok(config.clone());
        }
        let config = Config::load(&self.config_file)?;
        self.config = Some((stamp, config.clone()));
        Ok(config)
    }
}

fn serve(listener: UnixListener, mut served: Served, stop: &AtomicBool, wake: &Output) {
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    answer(stream, &mut served)
                }));
                match outcome {
                    Ok(true) => wake.note_news(),
                    Ok(false) => {}
                    Err(_) => {
                        tracing::error!("the door's request failed unexpectedly; it goes on");
                        served.journal = None;
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                // Whatever was waiting is answered before the door closes.
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                wait_readable(&listener, STOP_CHECK);
            }
            Err(e) => {
                tracing::warn!("the door could not take a connection: {e}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Waits until a connection is waiting or `limit` has passed.
fn wait_readable(listener: &UnixListener, limit: Duration) {
    let mut fd = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = i32::try_from(limit.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: one pollfd, which lives on this stack for the call.
    unsafe { libc::poll(&mut fd, 1, ms) };
}

/// Reads one request and answers it; whether a task was journaled.
fn answer(stream: UnixStream, served: &mut Served) -> bool {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(READ_LIMIT));
    let _ = stream.set_write_timeout(Some(READ_LIMIT));
    let reply = match peer_is_us(&stream) {
        false => Reply::Refused("the engine takes tasks only from its own user".into()),
        true => match read_request(&stream) {
            Err(why) => Reply::Refused(why),
            Ok(request) if request.version != version() => Reply::OtherVersion(version()),
            Ok(request) => served.queue(&request.task),
        },
    };
    let queued = matches!(reply, Reply::Queued(_));
    let mut line = serde_json::to_vec(&reply).unwrap_or_default();
    line.push(b'\n');
    let mut stream = stream;
    if let Err(e) = stream.write_all(&line) {
        tracing::warn!("the door could not answer a dispatch: {e}");
    }
    queued
}

fn read_request(stream: &UnixStream) -> Result<Request, String> {
    let mut line = Vec::new();
    BufReader::new(stream.take(MAX_REQUEST_BYTES + 1))
        .read_until(b'\n', &mut line)
        .map_err(|e| format!("the request could not be read: {e}"))?;
    parse_request(&line)
}

/// One request line, or why it cannot be taken.
pub fn parse_request(line: &[u8]) -> Result<Request, String> {
    if line.len() as u64 > MAX_REQUEST_BYTES {
        return Err(format!(
            "the request is longer than {MAX_REQUEST_BYTES} bytes"
        ));
    }
    serde_json::from_slice(line).map_err(|e| format!("the request cannot be read: {e}"))
}

/// Whether the process at the other end runs as this process's user.
fn peer_is_us(stream: &UnixStream) -> bool {
    let mut cred = libc::ucred {
        pid: 0,
        uid: u32::MAX,
        gid: u32::MAX,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: SO_PEERCRED writes one ucred of `len` bytes into `cred`,
    // which lives on this stack for the call.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    // SAFETY: geteuid cannot fail.
    rc == 0 && cred.uid == unsafe { libc::geteuid() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_bytes_are_a_request_or_a_reason(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_request(&bytes);
        }
    }

    #[test]
    fn a_request_longer_than_the_limit_is_refused_with_the_limit() {
        let line = vec![b' '; MAX_REQUEST_BYTES as usize + 1];
        let why = parse_request(&line).unwrap_err();
        assert!(why.contains("longer than"), "{why}");
    }

    #[test]
    fn a_request_reads_back_as_sent() {
        let request = Request {
            version: version(),
            task: TaskRequest {
                project: "app".into(),
                prompt: "fix \u{1b}[31m it\n".into(),
                agent: None,
                priority: Some(-3),
                title: None,
                after: vec![4, 2],
                cwd: "/tmp/x".into(),
            },
        };
        let line = serde_json::to_vec(&request).unwrap();
        let back = parse_request(&line).unwrap();
        assert_eq!(back.task, request.task);
    }
}
