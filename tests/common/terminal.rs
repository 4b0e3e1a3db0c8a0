//! The operator's terminal in tests and benches: a tmux server of the
//! test's own where the real binary runs, and what a process costs in CPU.
//! Standard library only, so benches/common includes this file too.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of the test's own, standing in for the operator's
/// terminal; killed when dropped.
pub struct Terminal {
    pub socket: PathBuf,
}

impl Terminal {
    /// A terminal whose server's socket is `dir/terminal.sock`.
    pub fn new(dir: &Path) -> Terminal {
        Terminal {
            socket: dir.join("terminal.sock"),
        }
    }

    /// tmux on the test's own server, as a client outside any tmux.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null")
            .args(args)
            .env_remove("TMUX");
        cmd
    }

    /// Runs tmux on the test's server; its stdout.
    pub fn tmux(&self, args: &[&str]) -> String {
        let out = self.command(args).output().expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Opens a window running the room on `home` under a shell that
    /// stays after it, so the test sees what the room leaves behind.
    pub fn open(&self, name: &str, home: &Path) {
        self.open_with(name, home, "");
    }

    /// As `open`, with shell words before the room (`cd DIR && HOME=…`).
    pub fn open_with(&self, name: &str, home: &Path, before: &str) {
        let script = format!(
            "{before} SWITCHBOARD_HOME='{}' '{}'; echo \"room exited $?\"; sleep 120",
            home.display(),
            env!("CARGO_BIN_EXE_switchboard")
        );
        self.open_script(name, &script);
    }

    /// Keys, one tmux key name each ("a", "C-s", "Tab").
    pub fn keys(&self, name: &str, keys: &[&str]) {
        for key in keys {
            self.tmux(&["send-keys", "-t", &format!("={name}:"), key]);
            // An Esc and the next key too close together read as Alt-key.
            std::thread::sleep(Duration::from_millis(60));
        }
    }

    /// Esc, then waits for the main view's footer: an Esc read together
    /// with the next key would be Alt-key.
    pub fn back(&self, name: &str) {
        self.keys(name, &["Escape"]);
        self.wait_for(name, "d dispatch");
    }

    /// Text typed literally.
    pub fn type_text(&self, name: &str, text: &str) {
        self.tmux(&["send-keys", "-t", &format!("={name}:"), "-l", text]);
    }

    /// A 160×48 window `name` running `script` under `sh -c`.
    pub fn open_script(&self, name: &str, script: &str) {
        let out = self
            .command(&[
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                "160",
                "-y",
                "48",
                "--",
                "sh",
                "-c",
                script,
            ])
            .output()
            .expect("tmux");
        assert!(
            out.status.success(),
            "tmux new-session: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// What window `name` shows.
    pub fn screen(&self, name: &str) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &format!("={name}:")])
    }

    /// The pid of the first child of window `name`'s shell (the room
    /// started by its script), if it has one.
    pub fn child_pid(&self, name: &str) -> Option<String> {
        let shell = self.tmux(&[
            "list-panes",
            "-t",
            &format!("={name}:"),
            "-F",
            "#{pane_pid}",
        ]);
        let shell = shell.trim();
        std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .ok()?
            .split_whitespace()
            .next()
            .map(str::to_string)
    }

    /// Waits up to 30 s until window `name` shows `text`; the screen.
    #[track_caller]
    pub fn wait_for(&self, name: &str, text: &str) -> String {
        self.wait_until(name, text, |s| s.contains(text))
    }

    /// Waits up to 30 s until `done` holds for window `name`'s screen
    /// (`text` names the wait in a timeout); the screen.
    #[track_caller]
    pub fn wait_until(&self, name: &str, text: &str, done: impl Fn(&str) -> bool) -> String {
        super::wait_until(
            Duration::from_secs(30),
            super::wait::STEP,
            || match self.screen(name) {
                screen if done(&screen) => Ok(screen),
                screen => Err(screen),
            },
            |screen| format!("{text:?} never showed:\n{screen}"),
        )
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

/// CPU seconds (user + system) that process `pid` has used; "self" for
/// this one (Linux: /proc).
pub fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|u| u.parse().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    ticks / 100.0
}

/// The CPU share of `pid` over `secs` seconds, in percent of one core.
pub fn cpu_share(pid: &str, secs: u64) -> f64 {
    let before = cpu_seconds(pid);
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    (cpu_seconds(pid) - before) / start.elapsed().as_secs_f64() * 100.0
}
