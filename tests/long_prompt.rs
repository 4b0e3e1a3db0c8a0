//! Whatever intake accepts can be delivered: a prompt at the intake limit
//! (far past what tmux takes in one command) reaches an agent started by
//! a real tmux spawn, through a file in its worktree named in a short
//! argv; a prompt at the argv limit still goes as one argv element. The
//! file is never part of the job's commit.

mod common;

use std::path::Path;
use std::time::Duration;

use common::Sandbox;
use switchboard::config::Config;
use switchboard::engine::{MAX_ARGV_PROMPT_BYTES, PROMPT_FILE, argv};
use switchboard::home::Home;
use switchboard::intake::limits::MAX_PROMPT_BYTES;
use switchboard::runtime::{SpawnSpec, TmuxServer};

struct Cleanup(TmuxServer);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = self.0.kill_server();
    }
}

fn wait_for_file(path: &Path) -> String {
    // The agent writes to a temp name and renames: complete or absent.
    common::wait_until(
        Duration::from_secs(20),
        Duration::from_millis(50),
        || std::fs::read_to_string(path),
        |_| format!("{} never appeared", path.display()),
    )
}

/// A prompt of `len` bytes with lines, quotes, `$(…)` and non-ASCII text.
fn prompt(len: usize) -> String {
    let unit = "fix the \"login\" button; $(rm -rf /) `x` — ünïcödé\n";
    let mut text = unit.repeat(len / unit.len() + 1);
    while text.len() > len {
        text.pop();
    }
    text
}

#[test]
fn a_prompt_at_the_intake_limit_reaches_an_agent_through_a_real_tmux_spawn() {
    let sb = Sandbox::new();
    let home = Home::at(sb.home());
    home.ensure().unwrap();
    let server = TmuxServer::for_home(&home, 2000).unwrap();
    let _cleanup = Cleanup(server.clone());
    let mut profile = Config::builtin().unwrap().agents["demo"].clone();
    // An agent that keeps what it was given: its argv element, and the
    // prompt file when there is one.
    profile.command = [
        "sh",
        "-c",
        "printf '%s' \"$1\" > .seen; [ -f .switchboard/task.md ] && cat .switchboard/task.md > .task; mv .seen seen.txt; [ -f .task ] && mv .task task.txt; sleep 30",
        "sh",
        "{prompt}",
    ]
    .map(String::from)
    .to_vec();
    let me = Path::new(common::BIN);

    for (name, len) in [
        ("at-argv-limit", MAX_ARGV_PROMPT_BYTES),
        ("at-intake-limit", MAX_PROMPT_BYTES),
    ] {
        let work = sb.repo(name);
        let text = prompt(len);
        assert_eq!(text.len(), len);
        let argv = argv(&profile, &text, me, &work, 1).unwrap();
        server
            .spawn(&SpawnSpec {
                name: name.into(),
                cwd: work.clone(),
                argv,
                env: vec![
                    (
                        "SWITCHBOARD_HOME".into(),
                        sb.home().to_string_lossy().into_owned(),
                    ),
                    ("SWITCHBOARD_JOB".into(), "1".into()),
                ],
            })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let seen = wait_for_file(&work.join("seen.txt"));
        if len <= MAX_ARGV_PROMPT_BYTES {
            assert_eq!(seen, text, "{name}: the whole prompt as one argv element");
        } else {
            assert!(
                seen.contains(PROMPT_FILE) && seen.len() < 200,
                "{name}: {seen}"
            );
            let task = wait_for_file(&work.join("task.txt"));
            assert!(task == text, "{name}: the file holds the whole prompt");
            let status = std::process::Command::new("git")
                .arg("-C")
                .arg(&work)
                .args(["status", "--porcelain", "--untracked-files=all"])
                .output()
                .unwrap();
            let status = String::from_utf8_lossy(&status.stdout);
            assert!(
                !status.contains(".switchboard"),
                "git would commit it: {status}"
            );
        }
    }
}
