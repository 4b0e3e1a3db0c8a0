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
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::AutoMemo;
use super::fault::{Verdict, judge};
use crate::cli::queue_task::{Queued, TaskRequest, queue};
use crate::config::{Config, Stamp, stamp};
use crate::home::Home;
use crate::intake::limits::MAX_PROMPT_BYTES;
use crate::journal::Journal;
use crate::runtime::Output;

/// The longest request read: a task at its limits, with room for the rest.
pub const MAX_REQUEST_BYTES: u64 = (MAX_PROMPT_BYTES + 64 * 1024) as u64;
/// How long a connection may take to send its whole request.
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
    config: Option<(Option<Stamp>, Config)>,
    /// What `auto` found on PATH, for the answer's "runs" (searched
    /// again only when PATH's directories change).
    auto: AutoMemo,
}

impl Served {
    fn new(home: &Home) -> Served {
        Served {
            journal_file: home.journal_file(),
            config_file: home.config_file(),
            journal: None,
            config: None,
            auto: AutoMemo::default(),
        }
    }

    /// Journals `task` as `dispatch` would.
    fn queue(&mut self, task: &TaskRequest) -> Reply {
        let config = match self.config() {
            Ok(config) => config,
            Err(e) => return refused(&e),
        };
        let journal = match self.journal.take() {
            Some(journal) => journal,
            None => match Journal::open(&self.journal_file) {
                Ok(journal) => journal,
                Err(e) => {
                    let why = format!("cannot open the journal {}", self.journal_file.display());
                    return refused(&anyhow::Error::new(e).context(why));
                }
            },
        };
        let mut journal = journal;
        let reply = match queue(&mut journal, &config, task, Some(&mut self.auto)) {
            Ok(queued) => Reply::Queued(queued),
            Err(e) => refused(&e),
        };
        self.journal = Some(journal);
        reply
    }

    /// The config, read again when its file changed (as `dispatch` would
    /// read it now): its time, size or inode, as the engine's own look.
    fn config(&mut self) -> anyhow::Result<Config> {
        let stamp = stamp(&self.config_file);
        if let Some((seen, config)) = &self.config
            && *seen == stamp
        {
            return Ok(config.clone());
        }
        let config = Config::load(&self.config_file)?;
        // The stamp taken just before the read: a change since is seen
        // at the next request.
        let read = config
            .origin
            .as_deref()
            .map_or(stamp, |origin| origin.stamp);
        self.config = Some((read, config.clone()));
        Ok(config)
    }
}

/// A task not journaled because of `e`, in the words `dispatch` uses when
/// it meets `e` itself: the error, and for a fault of the surroundings (a
/// full disk, a journal held too long, a read-only home) the plain line
/// saying that nothing was written and what to do, which `dispatch` can
/// no longer tell from the error's text alone.
fn refused(e: &anyhow::Error) -> Reply {
    let mut why = format!("{e:#}");
    // Where the words alone tell the fault ("No space left on device"),
    // `dispatch` says the line itself: not twice.
    if let Verdict::Retry(fault) = judge(e)
        && let Some(said) = fault.for_a_command()
        && judge(&anyhow::anyhow!(why.clone())) != Verdict::Retry(fault)
    {
        why.push_str("; ");
        why.push_str(said);
    }
    Reply::Refused(why)
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
    let _ = stream.set_write_timeout(Some(READ_LIMIT));
    let reply = match peer_is_us(&stream) {
        false => Reply::Refused("the engine takes tasks only from its own user".into()),
        true => match read_request(&stream, READ_LIMIT) {
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

/// Reads one request line, which must come whole within `limit` from
/// now: the door serves one connection at a time, so a sender that
/// trickles its bytes (each read within a socket timeout) must not hold
/// it, and every other `dispatch`, past its own wait.
fn read_request(stream: &UnixStream, limit: Duration) -> Result<Request, String> {
    let deadline = Instant::now() + limit;
    let mut line = Vec::new();
    BufReader::new(Deadline { stream, deadline }.take(MAX_REQUEST_BYTES + 1))
        .read_until(b'\n', &mut line)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => format!(
                "the request did not come whole within {} s",
                limit.as_secs_f64()
            ),
            _ => format!("the request could not be read: {e}"),
        })?;
    parse_request(&line)
}

/// A stream read until a deadline: each read waits only what is left.
struct Deadline<'a> {
    stream: &'a UnixStream,
    deadline: Instant,
}

impl Read for Deadline<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        let mut stream = self.stream;
        stream.read(buf)
    }
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

    /// A sender that trickles its bytes, each within any one read's
    /// wait, is cut off at the request's limit: the door serves one
    /// connection at a time. (Before, each read had its own 2 s, so the
    /// request was read until the sender stopped.)
    #[test]
    fn a_request_that_trickles_in_is_cut_off_at_the_limit() {
        let (door_end, mut sender) = UnixStream::pair().expect("pair");
        let trickle = std::thread::spawn(move || {
            for _ in 0..30 {
                if sender.write_all(b" ").is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let why = read_request(&door_end, Duration::from_millis(500)).unwrap_err();
        assert!(why.contains("did not come whole within 0.5 s"), "{why}");
        drop(door_end);
        trickle.join().expect("sender");
    }

    /// A fault of the surroundings met by the door is said as `dispatch`
    /// says it when it meets it itself: that nothing was written, and what
    /// to do (before, only SQLite's words came back, and `dispatch` could
    /// not tell the fault from them).
    #[test]
    fn a_refusal_for_a_full_disk_or_a_busy_journal_says_nothing_was_written() {
        let sqlite = |code| {
            let e = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
            anyhow::Error::from(crate::journal::JournalError::from(e))
        };
        let said = |e: &anyhow::Error| match refused(e) {
            Reply::Refused(why) => why,
            other => panic!("{other:?}"),
        };
        let full = said(&sqlite(rusqlite::ffi::SQLITE_FULL));
        assert!(full.contains("disk under the home is full"), "{full}");
        assert!(full.contains("wrote nothing"), "{full}");
        let busy = said(&sqlite(rusqlite::ffi::SQLITE_BUSY).context("cannot open the journal"));
        assert!(busy.starts_with("cannot open the journal"), "{busy}");
        assert!(busy.contains("held the journal for too long"), "{busy}");
        // An error whose words say the fault is left to `dispatch`,
        // which says the line once.
        let words = said(&anyhow::Error::new(std::io::Error::new(
            std::io::ErrorKind::StorageFull,
            "No space left on device",
        )));
        assert_eq!(words.matches("wrote nothing").count(), 0, "{words}");
        let plain = said(&anyhow::anyhow!("no project named \"x\""));
        assert_eq!(plain, "no project named \"x\"");
    }

    /// An editor that writes a new file and renames it over the old one
    /// can leave the same time and size: the inode tells (before, the
    /// door went on with the old settings).
    #[test]
    fn a_config_renamed_into_place_is_read_again() {
        let dir = tempfile::tempdir().expect("dir");
        let home = Home::at(dir.path());
        let path = home.config_file();
        std::fs::write(&path, "[scheduler]\nmax_agents = 2\n").expect("write");
        let mut served = Served::new(&home);
        assert_eq!(served.config().expect("config").scheduler.max_agents, 2);
        let was = std::fs::metadata(&path)
            .expect("stat")
            .modified()
            .expect("time");
        let next = dir.path().join("config.toml.new");
        std::fs::write(&next, "[scheduler]\nmax_agents = 3\n").expect("write");
        std::fs::File::options()
            .write(true)
            .open(&next)
            .and_then(|f| f.set_modified(was))
            .expect("set time");
        std::fs::rename(&next, &path).expect("rename");
        assert_eq!(served.config().expect("config").scheduler.max_agents, 3);
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
