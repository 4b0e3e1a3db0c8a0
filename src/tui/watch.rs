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

/// A pane's last screen and the second its capture began, by its tmux
/// server's clock.
struct Kept {
    second: u64,
    screen: String,
}

impl Clients {
    /// Every session's screen, two round trips per host: the asked panes'
    /// activity, then the captures of those that had output since their
    /// last capture began (by the host's own clock); a quiet pane keeps
    /// its screen in `kept`. A host that does not answer gives empty
    /// screens for its sessions.
    fn capture(
        &self,
        request: &Request,
        kept: &mut HashMap<String, Kept>,
    ) -> Result<Vec<String>, crate::runtime::TmuxError> {
        let mut groups: std::collections::BTreeMap<Option<&str>, Vec<usize>> = Default::default();
        for i in 0..request.sessions.len() {
            let host = request.hosts.get(i).and_then(|h| h.as_deref());
            groups.entry(host).or_default().push(i);
        }
        let mut screens = vec![String::new(); request.sessions.len()];
        for (host, indices) in groups {
            let client = match host {
                None => &self.local,
                Some(h) => match self.hosts.get(h) {
                    Some(c) => c,
                    None => continue,
                },
            };
            let names: Vec<&str> = indices
                .iter()
                .map(|&i| request.sessions[i].as_str())
                .collect();
            let activity = match client.activity_of(&names) {
                Ok(activity) => activity,
                Err(e) if host.is_none() => return Err(e),
                Err(_) => continue,
            };
            let mut quiet = Vec::new();
            let mut wanted = Vec::new();
            for (i, activity) in indices.into_iter().zip(activity) {
                let kept_quiet = kept
                    .get(&request.sessions[i])
                    .is_some_and(|k| crate::runtime::quiet_since(k.second, activity));
                if kept_quiet {
                    quiet.push(i);
                } else {
                    wanted.push(i);
                }
            }
            for i in quiet {
                if let Some(k) = kept.get(&request.sessions[i]) {
                    screens[i] = k.screen.clone();
                }
            }
            if wanted.is_empty() {
                continue;
            }
            let names: Vec<&str> = wanted
                .iter()
                .map(|&i| request.sessions[i].as_str())
                .collect();
            match client.capture_many_timed(&names, true, request.history) {
                Ok((second, captured)) => {
                    for (i, screen) in wanted.into_iter().zip(captured) {
                        let name = &request.sessions[i];
                        match second {
                            Some(second) => {
                                kept.insert(
                                    name.clone(),
                                    Kept {
                                        second,
                                        screen: screen.clone(),
                                    },
                                );
                            }
                            None => {
                                kept.remove(name);
                            }
                        }
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
    let mut kept: HashMap<String, Kept> = HashMap::new();
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
            // A new request captures and sends every pane, even if
            // unchanged (its history or its hosts may differ).
            last.clear();
            kept.clear();
            asked = request.clone();
        }
        if let Ok(screens) = control.capture(&request, &mut kept) {
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

    /// Quiet panes keep their screens (the kept capture is not taken
    /// again); a pane that drew is captured again, alone.
    #[test]
    fn only_panes_with_output_since_their_capture_are_captured_again() {
        let dir = tempfile::tempdir().expect("dir");
        let home = crate::home::Home::at(dir.path().join("home"));
        home.ensure().expect("home");
        let server = crate::runtime::TmuxServer::for_home(&home, 100).expect("server");
        struct Stop(crate::runtime::TmuxServer);
        impl Drop for Stop {
            fn drop(&mut self) {
                let _ = self.0.kill_server();
            }
        }
        let _stop = Stop(server.clone());
        let names = ["sb-1-1", "sb-2-1", "sb-3-1"];
        for name in names {
            server
                .spawn(&crate::runtime::SpawnSpec {
                    name: name.into(),
                    cwd: dir.path().to_path_buf(),
                    argv: vec!["sh".into(), "-c".into(), "echo ready; sleep 60".into()],
                    env: Vec::new(),
                })
                .expect("spawn");
        }
        let clients = Clients::from(ControlClient::new(server.clone()));
        let request = Request {
            sessions: names.iter().map(|n| n.to_string()).collect(),
            history: 0,
            hosts: Vec::new(),
        };
        let mut kept = HashMap::new();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !clients
            .capture(&request, &mut kept)
            .expect("capture")
            .iter()
            .all(|s| s.contains("ready"))
        {
            assert!(std::time::Instant::now() < deadline, "panes not ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        // A whole second of the server's clock without output.
        std::thread::sleep(Duration::from_millis(1100));
        clients.capture(&request, &mut kept).expect("capture");
        let seconds = |kept: &HashMap<String, Kept>| -> Vec<u64> {
            names.iter().map(|n| kept[*n].second).collect()
        };
        let before = seconds(&kept);
        std::thread::sleep(Duration::from_millis(1100));
        let screens = clients.capture(&request, &mut kept).expect("capture");
        assert_eq!(seconds(&kept), before, "quiet panes were captured again");
        assert!(screens.iter().all(|s| s.contains("ready")), "{screens:?}");
        server
            .run(&["send-keys", "-t", "=sb-2-1:", "-l", "typed"])
            .expect("type");
        std::thread::sleep(Duration::from_millis(200));
        let screens = clients.capture(&request, &mut kept).expect("capture");
        let after = seconds(&kept);
        assert_eq!((after[0], after[2]), (before[0], before[2]));
        assert!(after[1] > before[1], "the pane that drew is captured again");
        assert!(screens[1].contains("typed"), "{screens:?}");
    }

    #[test]
    fn the_grid_is_captured_less_often_than_the_live_pane() {
        assert_eq!(interval_for(1), INTERVAL);
        assert_eq!(interval_for(2), INTERVAL);
        assert_eq!(interval_for(9), GRID_INTERVAL);
        assert!(GRID_INTERVAL > INTERVAL);
    }
}
