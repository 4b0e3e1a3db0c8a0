//! config.toml edited while the control room is open: the room reads it
//! again as the engine does, so its status bar, its keys and its dispatch
//! form follow the file; an edit that does not load is shown as a note
//! and the room keeps the last settings that did.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::Sandbox;
use common::terminal::Terminal;

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

/// Writes `text` as an editor that saves by renaming does: the room never
/// reads a half-written file (one truncated in place reads, for an
/// instant, as empty: the built-in settings).
fn save(path: &Path, text: &str) {
    let new = path.with_extension("toml.new");
    std::fs::write(&new, text).unwrap();
    std::fs::rename(&new, path).unwrap();
}

const START: &str = "[scheduler]\nmax_agents = 3\nactive_interval = \"200ms\"\n";

/// A later profile, last in the form's list of agents (they are sorted).
const LATER: &str =
    "[agents.zzlater]\ncommand = [\"{switchboard}\", \"demo-agent\", \"{prompt}\"]\n";

#[test]
fn the_room_follows_config_toml_and_keeps_the_last_good_settings() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.home()).unwrap();
    let config = sb.home().join("config.toml");
    std::fs::write(&config, START).unwrap();
    sb.project("api");
    let _agents = AgentsServer(sb.home());
    let terminal = Terminal::new(sb.dir.path());
    terminal.open("room", &sb.home());
    terminal.wait_for("room", "agents 0/3");
    terminal.wait_for("room", "d dispatch");

    // The operator raises the limit, adds a profile and moves dispatch
    // to t: the status bar, the footer and the form follow.
    save(
        &config,
        &format!(
            "[scheduler]\nmax_agents = 5\nactive_interval = \"200ms\"\n{LATER}[keys]\ndispatch = \"t\"\n"
        ),
    );
    terminal.wait_for("room", "agents 0/5");
    terminal.wait_for("room", "t dispatch");
    terminal.keys("room", &["d"]);
    terminal.keys("room", &["t"]);
    terminal.wait_for("room", "Dispatch a task");
    // From the prompt back to the agent (After, Priority, Agent); the
    // last choice is the profile added since the room opened.
    terminal.keys("room", &["BTab", "BTab", "BTab", "Left"]);
    terminal.wait_for("room", "‹ zzlater ›");
    terminal.keys("room", &["Escape"]);
    terminal.wait_for("room", "t dispatch");

    // A broken edit: a note names its line, and the room keeps the last
    // good settings (the limit, the key).
    save(
        &config,
        "[scheduler]\nmax_agents = \"many\"\n[keys]\ndispatch = \"z\"\n",
    );
    let screen = terminal.wait_for("room", "config.toml line 2");
    assert!(screen.contains("agents 0/5"), "{screen}");
    assert!(screen.contains("t dispatch"), "{screen}");
    assert!(screen.contains("last good settings"), "{screen}");

    // Mended: the note goes, the new settings apply.
    save(&config, START);
    let screen = terminal.wait_for("room", "agents 0/3");
    terminal.wait_for("room", "d dispatch");
    assert!(!screen.contains("config.toml line 2"), "{screen}");
    terminal.keys("room", &["q"]);
    terminal.wait_for("room", "room exited 0");
}
