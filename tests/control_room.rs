//! The control room as the real binary in a real terminal (a tmux pane on
//! a test server): it runs the engine in-process, a second room on the same
//! home is a viewer, and `q` quits leaving the agents running.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{BIN, Sandbox};

/// A tmux server of the test's own, standing in for the operator's terminal.
struct Terminal {
    socket: PathBuf,
}

impl Terminal {
    fn new(dir: &Path) -> Terminal {
        Terminal {
            socket: dir.join("terminal.sock"),
        }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null")
            .args(args)
            .env_remove("TMUX")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn open(&self, name: &str, home: &Path) {
        let home = home.to_string_lossy().into_owned();
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null")
            .args([
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                "160",
                "-y",
                "48",
                "--",
                "env",
                &format!("SWITCHBOARD_HOME={home}"),
                BIN,
            ])
            .env_remove("TMUX")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn screen(&self, name: &str) -> String {
        self.tmux(&["capture-pane", "-p", "-t", &format!("={name}:")])
    }

    fn wait_for(&self, name: &str, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen(name);
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "{text:?} never showed:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.tmux(&["kill-server"]);
    }
}

/// Ends the agents' own tmux server of a home, however the test ends.
struct AgentsServer(PathBuf);

impl Drop for AgentsServer {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(self.0.join("tmux/server.sock"))
            .arg("kill-server")
            .output();
    }
}

#[test]
fn the_room_runs_the_engine_a_second_room_views_and_q_quits() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    std::fs::create_dir_all(sb.home()).unwrap();
    std::fs::write(
        sb.home().join("config.toml"),
        "[scheduler]\nactive_interval = \"200ms\"\n[agents.fast]\ncommand = [\"{switchboard}\", \"demo-agent\", \"--steps\", \"2\", \"--step-ms\", \"50\", \"{prompt}\"]\n",
    )
    .unwrap();
    sb.run(&[
        "project",
        "add",
        "api",
        repo.to_str().unwrap(),
        "--agent",
        "fast",
    ])
    .ok();
    let _agents = AgentsServer(sb.home());
    let terminal = Terminal::new(sb.dir.path());
    terminal.open("room", &sb.home());
    let screen = terminal.wait_for("room", "engine running");
    for pane in ["Queue", "Live", "Chains", "Review"] {
        assert!(screen.contains(pane), "{pane} missing:\n{screen}");
    }
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    terminal.wait_for("room", "switchboard/1");
    terminal.wait_for("room", "✓ done");

    // Attach: the room steps aside for the agent's session; detaching
    // brings it back.
    terminal.tmux(&["send-keys", "-t", "=room:", "a"]);
    terminal.wait_for("room", "demo>");
    terminal.tmux(&["send-keys", "-t", "=room:", "C-b", "d"]);
    terminal.wait_for("room", "back from sb-1-1");

    terminal.open("second", &sb.home());
    terminal.wait_for("second", "viewer: another engine runs this home");

    terminal.tmux(&["send-keys", "-t", "=room:", "?"]);
    terminal.wait_for("room", "Keys (any key closes)");
    terminal.tmux(&["send-keys", "-t", "=room:", "x"]);
    terminal.tmux(&["send-keys", "-t", "=room:", "q"]);
    // The room's process ends (its tmux session with it) and says the agents run on.
    let deadline = Instant::now() + Duration::from_secs(10);
    while terminal
        .tmux(&["list-sessions", "-F", "#{session_name}"])
        .contains("room")
    {
        assert!(Instant::now() < deadline, "q did not quit");
        std::thread::sleep(Duration::from_millis(100));
    }
    terminal.tmux(&["send-keys", "-t", "=second:", "q"]);
}
