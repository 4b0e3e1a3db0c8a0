//! What a job's pane showed, and when, watched apart from the engine: a
//! capture every 20 ms read the way the room and the patrol read it (the
//! question as the room parses it; the status the profile's title and
//! screen rules give), and the time of each `%output` tmux sends a
//! read-only control client of the session (the agent drew something).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchboard::agents::question::read_question;
use switchboard::agents::status::{AgentStatus, Signal, Signals, read_status};
use switchboard::runtime::SessionInfo;

/// One change of what the pane reads as.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    /// When the capture before it was taken (the change was drawn after).
    pub after: Instant,
    /// The status the profile's title and screen rules read (`None`: they
    /// found nothing, only quiet would say).
    pub status: Option<AgentStatus>,
    /// For the timeline: the title's class and the reading.
    pub text: String,
}

#[derive(Default)]
struct Log {
    drawn: Option<Instant>,
    gone: Option<Instant>,
    seen: Vec<Seen>,
    outputs: Vec<Instant>,
}

/// Watches one session until dropped.
pub struct PaneWatch {
    log: Arc<Mutex<Log>>,
    stop: Arc<AtomicBool>,
}

fn tmux(socket: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .arg("-S")
        .arg(socket)
        .args(args)
        .output()
        .expect("tmux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl PaneWatch {
    pub fn start(home: PathBuf, session: String, profile: &str) -> PaneWatch {
        let log = Arc::new(Mutex::new(Log::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let profile = switchboard::config::Config::builtin()
            .expect("config")
            .agents
            .get(profile)
            .cloned()
            .expect("profile");
        let socket = home.join("tmux/server.sock");
        let (l, halt) = (log.clone(), stop.clone());
        let (sock, name) = (socket.clone(), session.clone());
        std::thread::spawn(move || {
            let target = format!("={name}:");
            let mut last = String::new();
            let mut before = Instant::now();
            while !halt.load(Ordering::Relaxed) {
                let screen = tmux(&sock, &["capture-pane", "-p", "-t", &target]);
                let title = tmux(
                    &sock,
                    &["display-message", "-p", "-t", &target, "#{pane_title}"],
                );
                let now = Instant::now();
                let asks = read_question(&screen).is_some();
                let info = SessionInfo {
                    name: name.clone(),
                    pane: String::new(),
                    pid: None,
                    dead: false,
                    exit_status: None,
                    signal: None,
                    title: title.trim_end_matches('\n').to_string(),
                    reports: Vec::new(),
                    activity: None,
                };
                let signals = Signals {
                    report: None,
                    session: Some(&info),
                    screen: &screen,
                    quiet_for: Duration::ZERO,
                    has_output: true,
                    rules: None,
                };
                let reading = read_status(&signals, &profile, Duration::from_secs(3600));
                let status = (reading.signal != Signal::Quiet).then_some(reading.status);
                let class = match title.chars().next() {
                    Some(c) if ('\u{2800}'..='\u{28FF}').contains(&c) => "spinner".to_string(),
                    _ => title.trim().chars().take(12).collect(),
                };
                let text = format!(
                    "title {class} reads {} question {asks}",
                    status.map_or("-".to_string(), |s| format!("{s} by {}", reading.signal))
                );
                if let Ok(mut log) = l.lock() {
                    if text != last {
                        log.seen.push(Seen {
                            at: now,
                            after: before,
                            status,
                            text: text.clone(),
                        });
                        last = text;
                    }
                    match (asks, log.drawn, log.gone) {
                        (true, None, _) => log.drawn = Some(now),
                        (false, Some(_), None) => log.gone = Some(now),
                        _ => {}
                    }
                }
                before = now;
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let (l, halt) = (log.clone(), stop.clone());
        std::thread::spawn(move || listen(&socket, &session, &l, &halt));
        PaneWatch { log, stop }
    }

    /// When the question was drawn, and when it was gone.
    pub fn times(&self) -> (Option<Instant>, Option<Instant>) {
        self.log
            .lock()
            .map(|l| (l.drawn, l.gone))
            .unwrap_or_default()
    }

    /// The changes seen on the pane, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().map(|l| l.seen.clone()).unwrap_or_default()
    }

    /// When the pane drew something, in order.
    pub fn outputs(&self) -> Vec<Instant> {
        self.log
            .lock()
            .map(|l| l.outputs.clone())
            .unwrap_or_default()
    }

    /// When the pane first read as `status` after `from`: the first output
    /// after the last capture that did not (the capture's time if no output
    /// was heard in between).
    pub fn first_reading(&self, status: AgentStatus, from: Instant) -> Option<Instant> {
        let seen = self.seen();
        let outputs = self.outputs();
        let hit = seen
            .iter()
            .find(|s| s.at >= from && s.status == Some(status))?;
        let after = hit.after.max(from);
        Some(
            outputs
                .iter()
                .copied()
                .find(|o| *o > after && *o <= hit.at)
                .unwrap_or(hit.at),
        )
    }

    /// The first output after `from`.
    pub fn first_output(&self, from: Instant) -> Option<Instant> {
        self.outputs().into_iter().find(|o| *o > from)
    }
}

/// Notes the time of each `%output` of the session's panes, attaching as
/// soon as the session exists.
fn listen(socket: &std::path::Path, session: &str, log: &Mutex<Log>, halt: &AtomicBool) {
    while !halt.load(Ordering::Relaxed) {
        // `attach-session` starts a server where none runs (tmux 3.3): a
        // server of ours, without the engine's configuration, would take
        // the engine's socket. Only a session that exists is attached.
        let exists = Command::new("tmux")
            .arg("-S")
            .arg(socket)
            .args(["has-session", "-t", &format!("={session}")])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !exists {
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        let child = Command::new("tmux")
            .arg("-S")
            .arg(socket)
            .args(["-C", "attach-session", "-r", "-t", &format!("={session}")])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let Ok(mut child) = child else {
            return;
        };
        // Holding its input open keeps the client attached.
        let _input = child.stdin.take();
        let Some(out) = child.stdout.take() else {
            return;
        };
        let mut attached = false;
        for line in BufReader::new(out).split(b'\n') {
            let Ok(line) = line else { break };
            if halt.load(Ordering::Relaxed) {
                break;
            }
            if line.starts_with(b"%session-changed ") {
                attached = true;
            }
            if line.starts_with(b"%output ") {
                attached = true;
                let now = Instant::now();
                if let Ok(mut l) = log.lock() {
                    l.outputs.push(now);
                }
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        if attached {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for PaneWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
