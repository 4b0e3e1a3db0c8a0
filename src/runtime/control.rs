//! A persistent control-mode client (`tmux -C`): captures and queries
//! without spawning a process each time.
//!
//! - Replies are `%begin T N F` … `%end T N F` (or `%error T N F`) blocks;
//!   a block ends only at the line with its exact triple, so a pane whose
//!   captured text holds `%end 0 0 1` or `%output %9 x` cannot end it early.
//! - The client asks for `pause-after`, so that tmux pauses a pane's output
//!   to this client rather than let a slow reader hold up an agent. tmux
//!   sends `%output` only for the panes of the client's own session (here
//!   the control session), so none of an agent's output comes this way:
//!   that is heard by [`super::watch`], one read-only client per agent
//!   session.
//! - When the server or the client goes away, the next request connects
//!   again; callers re-read what they need (a full resync).
//! - Only commands built by this module from fixed words and checked
//!   session names are sent; text for agents never goes through here (it
//!   goes through a paste buffer loaded from stdin).
//!
//! The line protocol is small enough that it is parsed here directly; the
//! tmux_interface crate's control-mode parser was not used, as it does not
//! match `%end` on the triple of its `%begin`.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use crate::locks::{relock, relock_reset};
use std::time::Duration;

use super::listing::{Listing, ReportOptions};
use super::recover;
use super::server::{SessionInfo, TmuxError, TmuxServer, check_name, no_sessions};
use super::text::{normalise, press_enter_until_changed};

/// The session the control client attaches to; never an agent's.
pub const CONTROL_SESSION: &str = "sb-control";

/// How long a reply may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(10);

/// A command's output, or tmux's error message.
pub type Reply = Result<String, String>;

/// What waiting callers hear when the connection closes.
const CLOSED: &str = "connection closed";

/// How long a new control client may take to attach.
const ATTACH_TIMEOUT: Duration = Duration::from_secs(3);

/// One connection.
struct Connection {
    child: Child,
    stdin: ChildStdin,
    /// Callers waiting for replies, in the order their commands were sent.
    waiting: Arc<Mutex<VecDeque<Sender<Reply>>>>,
    /// The local server's socket, under which the client is recorded
    /// (a remote server's client is an ssh process that ends when the
    /// engine does: its stdin closes).
    socket: Option<std::path::PathBuf>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(socket) = &self.socket {
            recover::forget_client(socket, self.child.id());
        }
    }
}

/// A control-mode client of a home's tmux server.
pub struct ControlClient {
    server: TmuxServer,
    connection: Mutex<Option<Connection>>,
    sent: std::sync::atomic::AtomicU64,
}

impl ControlClient {
    pub fn new(server: TmuxServer) -> ControlClient {
        ControlClient {
            server,
            connection: Mutex::new(None),
            sent: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Runs tmux commands (one per line, each a list of words) and returns
    /// each one's output or tmux's error, in order. Connects, or connects
    /// again, as needed.
    pub fn commands(&self, commands: &[Vec<String>]) -> Result<Vec<Reply>, TmuxError> {
        // A server that is going away may still take a connection and then
        // drop it; a few tries, a moment apart, reach the next one.
        const TRIES: u32 = 5;
        for attempt in 1..=TRIES {
            match self.try_commands(commands) {
                Ok(out) => return Ok(out),
                Err(reason) => {
                    *relock(&self.connection) = None;
                    // A host that cannot be reached is not tried again here:
                    // the caller hears so at once.
                    if let Some(host) = reason.1 {
                        return Err(host);
                    }
                    if attempt == TRIES {
                        return Err(TmuxError::Failed(format!(
                            "control client lost: {}",
                            reason.0
                        )));
                    }
                    std::thread::sleep(Duration::from_millis(50 * u64::from(attempt)));
                }
            }
        }
        Err(TmuxError::Failed("control client lost".into()))
    }

    fn try_commands(&self, commands: &[Vec<String>]) -> Result<Vec<Reply>, Lost> {
        let receivers: Vec<Receiver<Reply>> = {
            // A panic while it was held may have cut a command in two: the
            // connection is dropped, a fresh one made.
            let mut guard = relock_reset(&self.connection, |c| *c = None);
            if guard
                .as_mut()
                .is_none_or(|c| c.child.try_wait().ok().flatten().is_some())
            {
                *guard = Some(
                    connect(&self.server)
                        .map_err(|e| Lost(e.to_string(), e.is_unreachable().then_some(e)))?,
                );
            }
            let conn = guard
                .as_mut()
                .ok_or_else(|| Lost("not connected".into(), None))?;
            let mut text = String::new();
            let mut receivers = Vec::new();
            {
                let mut waiting = relock(&conn.waiting);
                for words in commands {
                    let line = words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ");
                    text.push_str(&line);
                    text.push('\n');
                    let (tx, rx) = channel();
                    waiting.push_back(tx);
                    receivers.push(rx);
                }
            }
            conn.stdin
                .write_all(text.as_bytes())
                .map_err(|e| Lost(e.to_string(), None))?;
            conn.stdin.flush().map_err(|e| Lost(e.to_string(), None))?;
            receivers
        };
        let mut out = Vec::with_capacity(receivers.len());
        for rx in receivers {
            match rx.recv_timeout(REPLY_TIMEOUT) {
                Ok(Err(e)) if e == CLOSED => return Err(Lost(e, None)),
                Ok(reply) => out.push(reply),
                Err(_) => return Err(Lost("no reply".into(), None)),
            }
        }
        Ok(out)
    }

    /// Captures many panes in one round trip: each pane's visible screen,
    /// plain, in the order asked. A pane that cannot be captured gives an
    /// empty screen.
    pub fn capture_many(&self, names: &[&str]) -> Result<Vec<String>, TmuxError> {
        self.capture_many_with(names, false, 0)
    }

    /// As [`capture_many`](Self::capture_many), with the second of the
    /// tmux server's own clock read just before the first capture (`None`
    /// if it could not be read): the clock of the panes'
    /// `window_activity`, which a host's may not share with ours.
    /// Colours and `history` as in [`capture_many_with`](Self::capture_many_with).
    pub fn capture_many_timed(
        &self,
        names: &[&str],
        colours: bool,
        history: u32,
    ) -> Result<(Option<u64>, Vec<String>), TmuxError> {
        // display-message expands strftime(3) escapes: %s is the epoch second.
        let mut commands = vec![vec![
            "display-message".to_string(),
            "-p".into(),
            "%s".into(),
        ]];
        commands.extend(names.iter().map(|n| capture_words(n, colours, history)));
        let mut replies = self.commands(&commands)?.into_iter();
        let second = replies
            .next()
            .and_then(Result::ok)
            .and_then(|s| s.trim().parse().ok());
        Ok((second, replies.map(Result::unwrap_or_default).collect()))
    }

    /// The `window_activity` of each of `names` (when its window last had
    /// output, whole seconds of the server's clock; `None` where not
    /// known), in one round trip of one short answer each: what tells a
    /// pane worth capturing again from a quiet one.
    pub fn activity_of(&self, names: &[&str]) -> Result<Vec<Option<u64>>, TmuxError> {
        let commands: Vec<Vec<String>> = names
            .iter()
            .map(|n| {
                [
                    "display-message",
                    "-p",
                    "-t",
                    &format!("={n}:"),
                    "#{window_activity}",
                ]
                .iter()
                .map(|w| w.to_string())
                .collect()
            })
            .collect();
        Ok(self
            .commands(&commands)?
            .into_iter()
            .map(|r| r.ok().and_then(|a| a.trim().parse().ok()))
            .collect())
    }

    /// As [`capture_many`](Self::capture_many), with the panes' colours as
    /// escape sequences when `colours` is set (for the Live pane), and up
    /// to `history` lines of scrollback above the screen.
    pub fn capture_many_with(
        &self,
        names: &[&str],
        colours: bool,
        history: u32,
    ) -> Result<Vec<String>, TmuxError> {
        let commands: Vec<Vec<String>> = names
            .iter()
            .map(|n| capture_words(n, colours, history))
            .collect();
        Ok(self
            .commands(&commands)?
            .into_iter()
            .map(Result::unwrap_or_default)
            .collect())
    }

    /// Types `text` into the agent, as [`TmuxServer::send_text`] does, over
    /// this connection: the normalised text is written to a private file
    /// that tmux loads into a paste buffer (so it is never part of a
    /// command string), pasted, then Enter after `delay_enter`, verified
    /// by the pane changing and pressed again, up to `retries` times.
    pub fn send_text(
        &self,
        name: &str,
        text: &str,
        delay_enter: Duration,
        retries: u32,
    ) -> Result<(), TmuxError> {
        check_name(name)?;
        let seq = self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let buffer = format!("sb-{name}-{}-{seq}", std::process::id());
        let target = format!("={name}:");
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let clean = normalise(text);
        let paste = words(&["paste-buffer", "-d", "-p", "-b", &buffer, "-t", &target]);
        let replies = match self.server.remote() {
            Some(remote) => match remote.stage_text(clean.as_bytes()) {
                // On a host, the text went as stdin of the session kept
                // open for it into a private slot file there; tmux loads
                // and pastes it in one round trip of this client, and the
                // slot is free again once it is loaded.
                Ok(staged) => {
                    let path = staged.path.to_string_lossy().into_owned();
                    self.commands(&[words(&["load-buffer", "-b", &buffer, &path]), paste])
                }
                // Else it goes to `tmux load-buffer -` on the stdin of one
                // ssh command over the master, which also pastes it.
                Err(_) => self
                    .server
                    .load_and_paste(&buffer, &target, clean.as_bytes())
                    .map(|()| Vec::new()),
            },
            None => {
                let file = self.server.buffer_dir().join(format!("{buffer}.txt"));
                write_private(&file, clean.as_bytes())?;
                let path = file.to_string_lossy().into_owned();
                let replies =
                    self.commands(&[words(&["load-buffer", "-b", &buffer, &path]), paste]);
                let _ = std::fs::remove_file(&file);
                replies
            }
        };
        for reply in replies? {
            reply.map_err(|e| {
                if e.contains("can't find") {
                    TmuxError::NoSession(name.to_string())
                } else {
                    TmuxError::Failed(e)
                }
            })?;
        }
        if !delay_enter.is_zero() {
            std::thread::sleep(delay_enter);
        }
        let state = |this: &Self| -> Result<String, TmuxError> {
            let out = this.commands(&[
                words(&["capture-pane", "-p", "-N", "-t", &target]),
                words(&[
                    "display-message",
                    "-p",
                    "-t",
                    &target,
                    "#{cursor_x} #{cursor_y} #{pane_dead}",
                ]),
            ])?;
            Ok(out
                .into_iter()
                .map(Result::unwrap_or_default)
                .collect::<Vec<_>>()
                .join("\u{0}"))
        };
        press_enter_until_changed(
            name,
            retries,
            Duration::from_millis(2),
            || state(self),
            || {
                self.commands(&[words(&["send-keys", "-t", &target, "Enter"])])
                    .map(|_| ())
            },
        )
    }

    /// Presses one key in session `name`'s pane: a tmux key name
    /// (`1`, `y`, `Enter`, `Escape`), sent as a key, never as pasted text.
    pub fn send_key(&self, name: &str, key: &str) -> Result<(), TmuxError> {
        super::server::check_name(name)?;
        let target = format!("={name}:");
        let words = ["send-keys", "-t", &target, key]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let reply = self.commands(&[words])?;
        match reply.into_iter().next() {
            Some(Err(e)) => Err(TmuxError::Failed(e)),
            _ => Ok(()),
        }
    }

    /// Every session of the server, as [`TmuxServer::sessions`] gives them,
    /// over this connection.
    pub fn sessions(&self) -> Result<Vec<SessionInfo>, TmuxError> {
        self.list(self.server.report_options())
    }

    /// As [`TmuxServer::list`], over this connection.
    pub fn list(&self, reports: ReportOptions) -> Result<Vec<SessionInfo>, TmuxError> {
        let listing = Listing::new(reports);
        let words = vec![
            "list-panes".to_string(),
            "-a".into(),
            "-F".into(),
            listing.format(),
        ];
        match self.commands(&[words])?.pop() {
            Some(Ok(out)) => Ok(listing.parse(&out)),
            Some(Err(e)) if no_sessions(&e) => Ok(Vec::new()),
            Some(Err(e)) => Err(TmuxError::Failed(e)),
            None => Ok(Vec::new()),
        }
    }

    /// Whether a connection is up now.
    pub fn connected(&self) -> bool {
        relock(&self.connection).is_some()
    }
}

/// Writes a file only the user can read.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<(), TmuxError> {
    let fail = |e: std::io::Error| TmuxError::Spawn(format!("{}: {e}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(fail)
}

/// The connection went away (or never came); with the host's error when
/// its host could not be reached.
struct Lost(String, Option<TmuxError>);

fn connect(server: &TmuxServer) -> Result<Connection, TmuxError> {
    match connect_once(server) {
        // A remote client that did not attach: the host may be out of
        // reach, which one plain command tells (and says how).
        Err(e) if let Some(remote) = server.remote() => {
            match remote.ssh().run(&crate::remote::commands::home_dir()) {
                Err(host) if host.is_unreachable() => Err(TmuxError::Host(host)),
                _ => Err(e),
            }
        }
        Err(e) => {
            // A client left by a crashed engine can keep the server from
            // taking new ones: end the stale ones and try once more.
            let ended = recover::end_stale_clients(server.socket());
            if ended.is_empty() {
                return Err(e);
            }
            tracing::warn!(
                "tmux control client did not attach ({e}); ended {} stale client(s), trying again",
                ended.len()
            );
            connect_once(server)
        }
        ok => ok,
    }
}

fn connect_once(server: &TmuxServer) -> Result<Connection, TmuxError> {
    let mut cmd: Command = server.client_command(&[
        "-C",
        "new-session",
        "-A",
        "-s",
        CONTROL_SESSION,
        "--",
        "tail",
        "-f",
        "/dev/null",
    ])?;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => TmuxError::Missing,
        _ => TmuxError::Spawn(e.to_string()),
    })?;
    // Recorded at once, so that an engine killed from here on leaves a
    // client the next start can find and end.
    let local_socket = server
        .remote()
        .is_none()
        .then(|| server.socket().to_path_buf());
    if let Some(socket) = &local_socket {
        recover::record_client(socket, child.id());
    }
    let stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let waiting: Arc<Mutex<VecDeque<Sender<Reply>>>> = Arc::new(Mutex::new(VecDeque::new()));
    // From here on, dropping the connection (any error below) ends the
    // client and its record.
    let (Some(stdin), Some(stdout)) = (stdin, stdout) else {
        let _ = child.kill();
        let _ = child.wait();
        if let Some(socket) = &local_socket {
            recover::forget_client(socket, child.id());
        }
        return Err(TmuxError::Spawn("no stdin or stdout".into()));
    };
    let mut conn = Connection {
        child,
        stdin,
        waiting,
        socket: local_socket,
    };
    let reader_waiting = Arc::clone(&conn.waiting);
    let (attached_tx, attached) = channel();
    std::thread::Builder::new()
        .name("tmux-control".into())
        .spawn(move || read_replies(BufReader::new(stdout), &reader_waiting, attached_tx))
        .map_err(|e| TmuxError::Spawn(e.to_string()))?;
    // Commands sent before the client is attached fail; wait for it.
    attached
        .recv_timeout(ATTACH_TIMEOUT)
        .map_err(|_| TmuxError::Failed("the control client did not attach".into()))?;
    // Pause a pane's output to this client after a second behind, rather
    // than buffer without end or hold the pane up.
    let (tx, rx) = channel();
    relock(&conn.waiting).push_back(tx);
    conn.stdin
        .write_all(b"refresh-client -f pause-after=1\n")
        .and_then(|()| conn.stdin.flush())
        .map_err(|e| TmuxError::Spawn(e.to_string()))?;
    match rx.recv_timeout(REPLY_TIMEOUT) {
        Ok(Ok(_)) => {}
        Ok(Err(e)) if e == CLOSED => {
            return Err(TmuxError::Failed("the control client closed".into()));
        }
        // An older tmux without pause-after still serves captures.
        Ok(Err(e)) => tracing::warn!("tmux control client: pause-after refused: {e}"),
        Err(_) => {
            return Err(TmuxError::Failed(
                "the control client did not answer".into(),
            ));
        }
    }
    Ok(conn)
}

/// Reads reply blocks and hands each to the oldest waiting caller. Blocks
/// with flags 0 (not from this client's commands) are skipped; the first
/// of them is the attach, which `attached` hears of.
fn read_replies(
    mut input: impl BufRead,
    waiting: &Mutex<VecDeque<Sender<Reply>>>,
    attached: Sender<()>,
) {
    let mut line = Vec::new();
    let mut block: Option<(String, Vec<u8>)> = None;
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(&line)).into_owned();
        match &mut block {
            Some((triple, data)) => {
                let end_ok = text.strip_prefix("%end ") == Some(triple.as_str());
                let end_err = text.strip_prefix("%error ") == Some(triple.as_str());
                if end_ok || end_err {
                    let ours = triple.rsplit(' ').next() == Some("1");
                    let body = String::from_utf8_lossy(data).into_owned();
                    if !ours {
                        let _ = attached.send(());
                    } else {
                        let reply = if end_ok {
                            Ok(body)
                        } else {
                            Err(body.trim().to_string())
                        };
                        if let Some(tx) = relock(waiting).pop_front() {
                            let _ = tx.send(reply);
                        }
                    }
                    block = None;
                } else {
                    data.extend_from_slice(&line);
                }
            }
            None => {
                if let Some(triple) = text.strip_prefix("%begin ") {
                    block = Some((triple.to_string(), Vec::new()));
                } else if text.starts_with("%exit") {
                    break;
                }
                // %output (of the control session's own pane only), %pause
                // and other notifications are not needed.
            }
        }
    }
    // The connection is gone: whoever still waits hears so.
    for tx in relock(waiting).drain(..) {
        let _ = tx.send(Err(CLOSED.into()));
    }
}

/// Whether a pane whose window last had output at `activity` (`None`: not
/// known) is unchanged since a capture that began in second `captured`,
/// both by its tmux server's clock: its output came in an earlier second.
/// Output in the same second counts as new, so nothing is missed for the
/// clock's coarseness.
pub fn quiet_since(captured: u64, activity: Option<u64>) -> bool {
    activity.is_some_and(|activity| activity < captured)
}

/// The command that captures session `name`'s pane (its screen, with
/// `history` lines above, coloured when `colours`).
fn capture_words(name: &str, colours: bool, history: u32) -> Vec<String> {
    let mut words = vec!["capture-pane".to_string(), "-p".into(), "-N".into()];
    if colours {
        words.push("-e".into());
    }
    if history > 0 {
        words.extend(["-S".to_string(), format!("-{history}")]);
    }
    words.extend(["-t".to_string(), format!("={name}:")]);
    words
}

/// Quotes a word for tmux's command parser, whatever it holds: inside
/// single quotes, a quote written `'\''` and a control character (a
/// newline would end the command line) as a double-quoted octal escape,
/// pieces tmux joins into one word. A word that starts with `%` (a
/// directive, `%if`) or `#` (a comment) is quoted too.
fn quote(word: &str) -> String {
    if !word.is_empty()
        && !word.starts_with(['%', '#'])
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_=:%#.@/".contains(c))
    {
        return word.to_string();
    }
    let mut quoted = String::with_capacity(word.len() + 2);
    quoted.push('\'');
    for c in word.chars() {
        match c {
            '\'' => quoted.push_str("'\\''"),
            c if c.is_ascii_control() => {
                quoted.push_str(&format!("'\"\\{:03o}\"'", c as u32));
            }
            c => quoted.push(c),
        }
    }
    quoted.push('\'');
    quoted
}

#[cfg(test)]
mod quote_tests {
    use super::quote;
    use std::io::Write;
    use std::process::{Command, Stdio};

    /// Every word reaches tmux whole and exact through a control client:
    /// quotes, newlines, escapes, shell and format syntax.
    #[test]
    fn words_reach_tmux_exactly() {
        let dir = tempfile::tempdir().expect("temp dir");
        let sock = dir.path().join("s");
        let tmux = |args: &[&str]| {
            Command::new("tmux")
                .arg("-f")
                .arg("/dev/null")
                .arg("-S")
                .arg(&sock)
                .args(args)
                .output()
                .expect("tmux")
        };
        assert!(tmux(&["new-session", "-d", "-s", "q"]).status.success());
        let words = [
            "Jane's Mac/home",
            "line one\nline two\r",
            "tab\there \u{1b}[31mred",
            "$(touch /tmp/x); `id` \"q\" \\ #{pane_id} ~ ;",
            "'",
            "%s",
            "%if",
            "#comment",
            "%9",
        ];
        for word in words {
            let mut child = Command::new("tmux")
                .arg("-S")
                .arg(&sock)
                .args(["-C", "attach", "-t", "q"])
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .expect("control client");
            let line = format!("set-buffer -b t {}\n", quote(word));
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(line.as_bytes()).expect("write");
            drop(stdin);
            child.wait().expect("wait");
            let saved = tmux(&["save-buffer", "-b", "t", "-"]);
            assert_eq!(String::from_utf8_lossy(&saved.stdout), word, "{line:?}");
        }
        tmux(&["kill-server"]);
    }
}

#[cfg(test)]
mod poison_tests {
    use super::*;
    use crate::home::Home;

    /// A panic while the connection was held (contained, as the engine's
    /// passes contain theirs) leaves the client working: the next command
    /// connects afresh.
    #[test]
    fn the_control_client_works_again_after_a_panic_that_held_its_lock() {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = Home::at(dir.path().join("home"));
        home.ensure().expect("home");
        let server = TmuxServer::for_home(&home, 2000).expect("server");
        let client = ControlClient::new(server.clone());
        let list = || client.commands(&[vec!["list-sessions".into()]]);
        assert!(list().is_ok(), "{:?}", list());
        let panicked = std::thread::scope(|s| {
            s.spawn(|| {
                let _held = client.connection.lock();
                panic!("a bug met while the connection was held");
            })
            .join()
        });
        assert!(panicked.is_err());
        assert!(client.connection.is_poisoned());
        let after = list();
        let _ = server.kill_server();
        assert!(after.is_ok(), "{after:?}");
        assert!(client.connected());
    }
}
