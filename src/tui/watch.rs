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

/// How often watched panes are captured: the Live pane (and a question in
/// the details) follows an agent closely.
pub const INTERVAL: Duration = Duration::from_millis(40);

/// How often the grid's page of tiles is captured: small tiles, many
/// panes, an overview; a third of the Live pane's rate.
pub const GRID_INTERVAL: Duration = Duration::from_millis(120);

/// The capture interval for a request of `sessions` panes: more than the
/// Live pane and a question's (two) is the grid.
pub fn interval_for(sessions: usize) -> Duration {
    if sessions > 2 {
        GRID_INTERVAL
    } else {
        INTERVAL
    }
}

/// What to capture: sessions, and lines of scrollback above each screen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub sessions: Vec<String>,
    pub history: u32,
    /// The host of each session (by position); `None` (or missing): the
    /// engine's own machine.
    pub hosts: Vec<Option<String>>,
}

/// The control clients the watcher captures with: this machine's, and
/// one per remote host (over its ssh master).
pub struct Clients {
    pub local: ControlClient,
    pub hosts: HashMap<String, ControlClient>,
}

impl From<ControlClient> for Clients {
    /// This machine's client only.
    fn from(local: ControlClient) -> Clients {
        Clients {
            local,
            hosts: HashMap::new(),
        }
    }
}

impl Clients {
    /// Every session's screen, one round trip per host; a host that does
    /// not answer gives empty screens for its sessions.
    fn capture(&self, request: &Request) -> Result<Vec<String>, crate::runtime::TmuxError> {
        let mut groups: std::collections::BTreeMap<Option<&str>, Vec<usize>> = Default::default();
        for i in 0..request.sessions.len() {
            let host = request.hosts.get(i).and_then(|h| h.as_deref());
            groups.entry(host).or_default().push(i);
        }
        let mut screens = vec![String::new(); request.sessions.len()];
        for (host, indices) in groups {
            let names: Vec<&str> = indices
                .iter()
                .map(|&i| request.sessions[i].as_str())
                .collect();
            let client = match host {
                None => &self.local,
                Some(h) => match self.hosts.get(h) {
                    Some(c) => c,
                    None => continue,
                },
            };
            match client.capture_many_with(&names, true, request.history) {
                Ok(captured) => {
                    for (i, screen) in indices.into_iter().zip(captured) {
                        screens[i] = screen;
                    }
                }
                Err(e) if host.is_none() => return Err(e),
                Err(_) => {}
            }
        }
        Ok(screens)
    }
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
    pub fn start(control: impl Into<Clients>, tx: Sender<RoomEvent>) -> std::io::Result<Watcher> {
        let control = control.into();
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

fn watch(control: Clients, tx: Sender<RoomEvent>, wanted: &(Mutex<Wanted>, Condvar)) {
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
        if let Ok(screens) = control.capture(&request) {
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
        let _ = wake.wait_timeout(w, interval_for(request.sessions.len()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_captured_less_often_than_the_live_pane() {
        assert_eq!(interval_for(1), INTERVAL);
        assert_eq!(interval_for(2), INTERVAL);
        assert_eq!(interval_for(9), GRID_INTERVAL);
        assert!(GRID_INTERVAL > INTERVAL);
    }
}
