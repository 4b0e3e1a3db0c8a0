//! Everything the room waits for, on one channel: the operator's keys and
//! mouse, new captures of agents' panes, and signals. Each source is a
//! thread that owns what it reads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ratatui::crossterm::event::{self, Event};

/// One thing that happened.
#[derive(Debug)]
pub enum RoomEvent {
    /// A key, a click, a resize.
    Input(Event),
    /// New captures of the watched panes: (session, raw capture).
    Captures(Vec<(String, String)>),
    /// SIGTERM, SIGHUP or SIGINT: restore the terminal and leave.
    Signal(i32),
    /// The terminal could not be read any more.
    InputClosed(String),
    /// What became of a task from the dispatch form (journaled off the
    /// room's thread): its job id, or why it was refused, in the words
    /// `switchboard dispatch` uses.
    Dispatched(Result<i64, String>),
    /// A review item's diff, read off the room's thread: its lines, or why
    /// it cannot be shown.
    Diff {
        job: i64,
        lines: Result<Vec<String>, String>,
    },
}

/// The thread that reads the terminal. It can be paused (while the
/// operator is attached to an agent, `tmux attach` must get every key):
/// `pause` returns once the thread has stopped reading.
pub struct Input {
    paused: Arc<AtomicBool>,
    permit: Arc<Mutex<()>>,
}

/// Proof that the input thread is not reading; it reads again when this
/// is dropped.
pub struct Paused<'a> {
    input: &'a Input,
    _permit: std::sync::MutexGuard<'a, ()>,
}

impl Drop for Paused<'_> {
    fn drop(&mut self) {
        self.input.paused.store(false, Ordering::SeqCst);
    }
}

impl Input {
    pub fn start(tx: Sender<RoomEvent>) -> std::io::Result<Input> {
        let paused = Arc::new(AtomicBool::new(false));
        let permit = Arc::new(Mutex::new(()));
        let (p, m) = (Arc::clone(&paused), Arc::clone(&permit));
        std::thread::Builder::new()
            .name("input".into())
            .spawn(move || {
                loop {
                    if p.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                    // The permit guards nothing but the terminal's turn: a
                    // panic that held it leaves nothing half done, and the
                    // room keeps its keys.
                    let _permit = crate::locks::relock(&m);
                    if p.load(Ordering::SeqCst) {
                        continue;
                    }
                    let read = match event::poll(Duration::from_millis(250)) {
                        Ok(true) => event::read().map(Some),
                        Ok(false) => Ok(None),
                        Err(e) => Err(e),
                    };
                    let sent = match read {
                        Ok(Some(e)) => tx.send(RoomEvent::Input(e)),
                        Ok(None) => Ok(()),
                        Err(e) => {
                            let _ = tx.send(RoomEvent::InputClosed(e.to_string()));
                            return;
                        }
                    };
                    if sent.is_err() {
                        return;
                    }
                }
            })?;
        Ok(Input { paused, permit })
    }

    /// Stops reading the terminal until the returned guard is dropped.
    pub fn pause(&self) -> Paused<'_> {
        self.paused.store(true, Ordering::SeqCst);
        let permit = self.permit.lock().unwrap_or_else(|e| e.into_inner());
        Paused {
            input: self,
            _permit: permit,
        }
    }
}

/// Sends SIGTERM, SIGHUP and SIGINT to the room as events, so it restores
/// the terminal before it goes.
pub fn watch_signals(tx: Sender<RoomEvent>) -> std::io::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP, SIGINT])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                if tx.send(RoomEvent::Signal(signal)).is_err() {
                    return;
                }
            }
        })?;
    Ok(())
}
