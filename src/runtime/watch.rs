//! Knowing at once that an agent's pane drew something, so that the engine
//! looks when a screen changes instead of at its next alarm.
//!
//! tmux sends a control client `%output` only for the panes of the session
//! it is attached to (tmux checks `winlink_find_by_window` on the client's
//! own session), so the engine's [`ControlClient`](super::ControlClient),
//! attached to its own session, never hears of an agent's output. Each
//! watched agent session gets a read-only control client of its own
//! (`tmux -C attach-session -r`; a control client that sets no size does not
//! resize the window), whose only job is to say "output": its reader thread
//! raises one flag shared by every watch and wakes whoever waits on it.
//! Nothing is parsed beyond the first word of a line; the output itself is
//! dropped. `pause-after` is asked for, so that a reader held up (a stopped
//! engine) never holds up the agent: tmux pauses the pane to this client
//! and the reader lets it continue.
//!
//! A quiet agent sends nothing, so costs nothing but its idle client
//! process. Local servers only: an agent on a host is patrolled at the
//! engine's alarm.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};
use std::sync::{Arc, Condvar, Mutex};

use crate::locks::relock;
use std::time::{Duration, Instant};

use super::recover;
use super::server::{TmuxServer, check_name};

/// The most sessions watched at once (two pipes and a thread each): the
/// agents beyond are patrolled at the engine's alarm, as all were before.
pub const MAX_WATCHED: usize = 128;

/// The most watches started in one pass: 200 agents adopted at start-up
/// do not stall one pass with 200 process spawns.
const STARTS_PER_PASS: usize = 16;

/// What ends the engine's rest early: a watched pane drew something, or
/// other news came (the journal changed), for whoever waits on it.
#[derive(Debug, Default)]
pub struct Output {
    woken: Mutex<Woken>,
    wake: Condvar,
}

/// Why a wait on [`Output`] ended.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Woken {
    /// A watched pane drew something (kept until [`Output::take`]).
    pub drawn: bool,
    /// Something else changed (cleared by the wait that hears it).
    pub news: bool,
    /// A watched pane's title changed in kind (a spinner began or
    /// stopped, or a title that is not a spinner's frame was set): a
    /// status signal, to be looked at without the spacing that keeps a
    /// streaming agent's drawing from running the patrol flat out (kept
    /// until [`Output::take`]).
    pub title: bool,
}

impl Output {
    /// Notes output and wakes the waiter.
    pub(crate) fn note(&self) {
        self.set(|w| w.drawn = true);
    }

    /// Notes output that changed a pane's title in kind, and wakes the
    /// waiter.
    pub(crate) fn note_title(&self) {
        self.set(|w| {
            w.drawn = true;
            w.title = true;
        });
    }

    /// Notes other news (the journal changed) and wakes the waiter.
    pub fn note_news(&self) {
        self.set(|w| w.news = true);
    }

    fn set(&self, how: impl FnOnce(&mut Woken)) {
        how(&mut relock(&self.woken));
        self.wake.notify_all();
    }

    /// Whether a pane drew something since the last `take`; clears it
    /// (and a title's change).
    pub fn take(&self) -> bool {
        let mut w = relock(&self.woken);
        w.title = false;
        std::mem::take(&mut w.drawn)
    }

    /// As [`Output::wait`], but plain drawing does not end it: only news
    /// or a title's change (for the wait between a pane's drawing and the
    /// pass it is due for).
    pub fn wait_for_signal(&self, wait: Duration) -> Woken {
        self.wait_while(wait, |w| !w.title && !w.news)
    }

    /// Waits up to `wait` for output or news (returns at once if a pane
    /// drew since the last `take`): which came. Clears the news, not the
    /// output.
    pub fn wait(&self, wait: Duration) -> Woken {
        self.wait_while(wait, |w| !w.drawn && !w.news)
    }

    fn wait_while(&self, wait: Duration, waiting: impl Fn(&Woken) -> bool) -> Woken {
        let deadline = Instant::now() + wait;
        let mut woken = relock(&self.woken);
        while waiting(&woken) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            // Flags only: whole whatever a panic cut short.
            woken = match self.wake.wait_timeout(woken, left) {
                Ok((w, _)) => w,
                Err(poisoned) => {
                    self.woken.clear_poison();
                    poisoned.into_inner().0
                }
            };
        }
        let seen = *woken;
        woken.news = false;
        seen
    }
}

/// One session's watching client; ended when dropped.
struct Watcher {
    child: Child,
    socket: std::path::PathBuf,
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        recover::forget_client(&self.socket, self.child.id());
    }
}

/// The watches of a local tmux server's agent sessions.
pub struct PaneWatch {
    server: TmuxServer,
    watchers: HashMap<String, Watcher>,
    output: Arc<Output>,
}

impl PaneWatch {
    pub fn new(server: TmuxServer) -> PaneWatch {
        PaneWatch {
            server,
            watchers: HashMap::new(),
            output: Arc::new(Output::default()),
        }
    }

    /// What the watches raise.
    pub fn output(&self) -> &Output {
        &self.output
    }

    /// The same, to share with another source of news.
    pub fn output_handle(&self) -> Arc<Output> {
        Arc::clone(&self.output)
    }

    /// Watches exactly `sessions` (live agent sessions of this server), up
    /// to [`MAX_WATCHED`] and a few new ones a pass: starts a client for
    /// each new one, ends those of the others and of sessions whose client
    /// has ended (its session went away). A session that is not watched is
    /// patrolled at the alarm, as before.
    pub fn follow<'a>(&mut self, sessions: impl IntoIterator<Item = &'a str>) {
        if self.server.remote().is_some() {
            return;
        }
        let wanted: std::collections::HashSet<&str> = sessions.into_iter().collect();
        self.watchers.retain(|name, w| {
            wanted.contains(name.as_str()) && w.child.try_wait().ok().flatten().is_none()
        });
        let mut started = 0;
        for name in wanted {
            if self.watchers.contains_key(name) {
                continue;
            }
            if started == STARTS_PER_PASS || self.watchers.len() >= MAX_WATCHED {
                break;
            }
            started += 1;
            match watch(&self.server, name, Arc::clone(&self.output)) {
                Ok(w) => {
                    self.watchers.insert(name.to_string(), w);
                }
                Err(e) => tracing::debug!("cannot watch {name}'s output: {e}"),
            }
        }
    }

    /// How many sessions are watched now.
    pub fn watched(&self) -> usize {
        self.watchers.len()
    }
}

/// Starts a read-only control client on session `name` whose reader notes
/// its output in `output`.
fn watch(server: &TmuxServer, name: &str, output: Arc<Output>) -> Result<Watcher, String> {
    check_name(name).map_err(|e| e.to_string())?;
    let target = format!("={name}");
    let mut cmd = server
        .client_command(&["-C", "attach-session", "-r", "-t", &target])
        .map_err(|e| e.to_string())?;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    let socket = server.socket().to_path_buf();
    recover::record_client(&socket, child.id());
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        recover::forget_client(&socket, child.id());
        return Err("no stdin or stdout".into());
    };
    let asked = stdin
        .write_all(b"refresh-client -f pause-after=1\n")
        .and_then(|()| stdin.flush());
    let watcher = Watcher { child, socket };
    asked.map_err(|e| e.to_string())?;
    std::thread::Builder::new()
        .name("tmux-watch".into())
        .stack_size(64 * 1024)
        .spawn(move || read_output(BufReader::new(stdout), stdin, &output))
        .map_err(|e| e.to_string())?;
    Ok(watcher)
}

/// Reads a watching client's lines until it ends: any output notes
/// `output`; a pane paused by tmux (this reader fell behind) is let go on.
fn read_output(mut input: impl BufRead, mut stdin: impl Write, output: &Output) {
    let mut line = Vec::new();
    let mut title = TitleKind::default();
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.starts_with(b"%output ") || line.starts_with(b"%extended-output ") {
            if title.changed_by(&line) {
                output.note_title();
            } else {
                output.note();
            }
        } else if let Some(rest) = line.strip_prefix(b"%pause ") {
            // `%pause %12`: the pane id is tmux's own (`%` and digits).
            let pane: Vec<u8> = rest
                .iter()
                .copied()
                .take_while(|b| *b == b'%' || b.is_ascii_digit())
                .collect();
            if pane.len() > 1 {
                let mut command = b"refresh-client -A '".to_vec();
                command.extend_from_slice(&pane);
                command.extend_from_slice(b":continue'\n");
                let _ = stdin.write_all(&command).and_then(|()| stdin.flush());
            }
            output.note();
        } else if line.starts_with(b"%exit") {
            break;
        }
    }
}

/// The title a pane's output last set, to tell a change in kind (a
/// spinner began or stopped, a title that is no spinner's frame) from a
/// spinner's next frame. Agents set their title with OSC 0 or 2, which a
/// control client receives escaped (`\033]0;⠂ Claude Code\007`).
#[derive(Debug, Default)]
struct TitleKind {
    last: Option<Vec<u8>>,
}

impl TitleKind {
    /// Whether the titles set by one `%output` line change the title in
    /// kind. A title split over two lines is not seen (its pass comes
    /// with the output's spacing).
    fn changed_by(&mut self, line: &[u8]) -> bool {
        let mut changed = false;
        let mut rest = line;
        while let Some(at) = find(rest, b"\\033]") {
            rest = &rest[at + 5..];
            let (Some(b'0' | b'2'), Some(b';')) = (rest.first(), rest.get(1)) else {
                continue;
            };
            rest = &rest[2..];
            let end = [find(rest, b"\\007"), find(rest, b"\\033\\134")]
                .into_iter()
                .flatten()
                .min();
            let Some(end) = end else { break };
            let title = &rest[..end];
            rest = &rest[end..];
            let spinner = |t: &[u8]| spinner_frame(t);
            let same_kind = match &self.last {
                Some(last) => (spinner(last) && spinner(title)) || last.as_slice() == title,
                None => false,
            };
            changed |= !same_kind;
            self.last = Some(title.to_vec());
        }
        changed
    }
}

/// Whether a title begins with a braille character (U+2800–U+28FF, in
/// UTF-8 `E2 A0..A3 xx`): the spinner Claude Code and Codex show while
/// they work.
fn spinner_frame(title: &[u8]) -> bool {
    matches!(title, [0xE2, 0xA0..=0xA3, _, ..])
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A title that changes in kind is a signal; a spinner's next frame
    /// and a title set again unchanged are plain drawing.
    #[test]
    fn a_title_that_changes_in_kind_is_told_from_a_spinners_frame() {
        let set = |t: &str| format!("%output %1 ab\\033]0;{t}\\007cd\n").into_bytes();
        let mut kind = TitleKind::default();
        assert!(kind.changed_by(&set("⠂ Claude Code")), "the first title");
        assert!(!kind.changed_by(&set("⠐ Claude Code")), "the next frame");
        assert!(!kind.changed_by(b"%output %1 plain text\n"));
        assert!(
            kind.changed_by(&set("✳ Claude Code")),
            "the spinner stopped"
        );
        assert!(!kind.changed_by(&set("✳ Claude Code")), "set again");
        assert!(kind.changed_by(&set("[ ! ] Action Required | job-1")));
        assert!(kind.changed_by(&set("⠋ job-1")), "the spinner began");
        // OSC 2, ended by ST (ESC and a backslash, escaped as \033\134).
        let st = "%output %1 \\033]2;Worked \\033\\134\n".as_bytes();
        assert!(kind.changed_by(st));
        // Another OSC (a colour query) is not a title.
        assert!(!kind.changed_by(b"%output %1 \\033]11;?\\007\n"));
    }

    /// The reader raises a title's change as such.
    #[test]
    fn reader_notes_a_title_change() {
        let output = Output::default();
        let mut said = Vec::new();
        let line = "%output %1 \\033]0;⠂ Claude Code\\007\n".as_bytes();
        read_output(line, &mut said, &output);
        assert!(output.wait(Duration::ZERO).title);
        assert!(output.take());
        assert!(!output.wait(Duration::ZERO).title, "taken with the drawing");
        read_output(&b"%output %1 x\n"[..], &mut said, &output);
        let woken = output.wait(Duration::ZERO);
        assert!(woken.drawn && !woken.title);
    }

    /// The reader notes output and only output, and lets a paused pane go
    /// on.
    #[test]
    fn reader_notes_output_lines() {
        let output = Output::default();
        let mut said = Vec::new();
        let quiet = b"%begin 1 2 1\n%end 1 2 1\n%session-changed $0 sb-1-1\n%exit\n%output %1 x\n";
        read_output(&quiet[..], &mut said, &output);
        assert!(!output.take(), "nothing drawn before %exit");
        let drawn = b"%begin 1 2 1\n%end 1 2 1\n%extended-output %3 0 : hello\n";
        read_output(&drawn[..], &mut said, &output);
        assert!(output.take());
        assert!(!output.take(), "taken once");
        read_output(&b"%output %4 x\n"[..], &mut said, &output);
        assert!(output.take());
        assert!(said.is_empty());
        read_output(&b"%pause %12\n"[..], &mut said, &output);
        assert!(output.take(), "a pause is news too");
        assert_eq!(
            String::from_utf8_lossy(&said),
            "refresh-client -A '%12:continue'\n"
        );
    }

    /// A client watching a real session hears that its pane drew, and a
    /// wait returns at once for it; a quiet pane wakes nobody.
    #[test]
    fn a_drawing_pane_wakes_the_waiter() {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = crate::home::Home::at(dir.path());
        home.ensure().expect("home");
        let server = TmuxServer::for_home(&home, 100).expect("server");
        server
            .run(&[
                "new-session",
                "-d",
                "-s",
                "sb-1-1",
                "-x",
                "80",
                "-y",
                "24",
                "cat",
            ])
            .expect("session");
        let mut watch = PaneWatch::new(server.clone());
        watch.follow(["sb-1-1"]);
        assert_eq!(watch.watched(), 1);
        // The client attaches and draws the screen once: let that pass.
        std::thread::sleep(Duration::from_millis(500));
        watch.output().take();
        assert!(
            !watch.output().wait(Duration::from_millis(300)).drawn,
            "quiet"
        );
        server
            .run(&["send-keys", "-t", "=sb-1-1:", "-l", "hello"])
            .expect("keys");
        assert!(watch.output().wait(Duration::from_secs(5)).drawn, "drew");
        // Drawn stays until taken; news is heard once.
        assert!(watch.output().wait(Duration::ZERO).drawn);
        watch.output().take();
        watch.output().note_news();
        assert_eq!(
            watch.output().wait(Duration::from_secs(5)),
            Woken {
                drawn: false,
                news: true,
                title: false,
            }
        );
        assert_eq!(watch.output().wait(Duration::ZERO), Woken::default());
        let size = server
            .run(&[
                "display-message",
                "-p",
                "-t",
                "=sb-1-1:",
                "#{window_width}x#{window_height}",
            ])
            .expect("size");
        assert_eq!(size.trim(), "80x24", "the watching client does not resize");
        watch.follow(std::iter::empty());
        assert_eq!(watch.watched(), 0);
        let _ = server.run(&["kill-server"]);
    }
}
