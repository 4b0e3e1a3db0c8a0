//! The thread that watches agents' panes for the room: it captures the
//! sessions last asked for (the latest request wins) over one tmux
//! control-mode connection, and sends only what changed. Asked for
//! nothing, it sleeps.

use std::collections::HashMap;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use super::events::RoomEvent;
use crate::runtime::ControlClient;

/// How often watched panes are captured.
pub const INTERVAL: Duration = Duration::from_millis(40);

/// What to capture: sessions, and lines of scrollback above each screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub sessions: Vec<String>,
    pub history: u32,
}

#[derive(Default)]
struct Wanted {
    request: Request,
    stop: bool,
}

/// The room's handle on the watching thread.
pub struct Watcher {
    wanted: Arc<(Mutex<Wanted>, Condvar)>,
}

impl Watcher {
    pub fn start(control: ControlClient, tx: Sender<RoomEvent>) -> std::io::Result<Watcher> {
        let wanted = Arc::new((Mutex::new(Wanted::default()), Condvar::new()));
        let shared = Arc::clone(&wanted);
        std::thread::Builder::new()
            .name("watch".into())
            .spawn(move || watch(control, tx, &shared))?;
        Ok(Watcher { wanted })
    }

    /// Watch these from now on.
    pub fn want(&self, request: Request) {
        let (lock, wake) = &*self.wanted;
        let mut wanted = lock.lock().unwrap_or_else(|e| e.into_inner());
        if wanted.request != request {
            wanted.request = request;
            wake.notify_one();
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let (lock, wake) = &*self.wanted;
        lock.lock().unwrap_or_else(|e| e.into_inner()).stop = true;
        wake.notify_one();
    }
}

fn watch(control: ControlClient, tx: Sender<RoomEvent>, wanted: &(Mutex<Wanted>, Condvar)) {
    let (lock, wake) = wanted;
    let mut last: HashMap<String, String> = HashMap::new();
    let mut asked = Request::default();
    loop {
        let request = {
            let mut w = lock.lock().unwrap_or_else(|e| e.into_inner());
            while w.request.sessions.is_empty() && !w.stop {
                w = wake.wait(w).unwrap_or_else(|e| e.into_inner());
            }
            if w.stop {
                return;
            }
            w.request.clone()
        };
        if request != asked {
            // A new request sends its first captures even if unchanged.
            last.clear();
            asked = request.clone();
        }
        let names: Vec<&str> = request.sessions.iter().map(String::as_str).collect();
        if let Ok(screens) = control.capture_many_with(&names, true, request.history) {
            let changed: Vec<(String, String)> = request
                .sessions
                .iter()
                .zip(screens)
                .filter(|(name, screen)| last.get(*name) != Some(screen))
                .map(|(name, screen)| (name.clone(), screen))
                .collect();
            if !changed.is_empty() {
                for (name, screen) in &changed {
                    last.insert(name.clone(), screen.clone());
                }
                if tx.send(RoomEvent::Captures(changed)).is_err() {
                    return;
                }
            }
        }
        let w = lock.lock().unwrap_or_else(|e| e.into_inner());
        // Sleep one interval, or less when the request changes.
        let _ = wake.wait_timeout(w, INTERVAL);
    }
}
