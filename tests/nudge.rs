//! What a nudge types into an agent's pane: its text as one message, or,
//! without text, Enter pressed once.

mod common;

use std::time::Duration;

use common::Sandbox;
use common::engine::{EngineProcess, agents_tmux, start_engine, wait_secs};

/// An agent that reads two lines and says what each was.
const READER: &str = r#"
[scheduler]
active_interval = "200ms"
idle_interval = "500ms"

[agents.reader]
command = ["sh", "-c", "echo ready; read a; echo \"one [$a]\"; read b; echo \"two [$b]\"; sleep 60", "{prompt}"]
prompt = "argv"
"#;

fn running(config: &str, agent: &str) -> (Sandbox, EngineProcess) {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    std::fs::create_dir_all(sb.home()).unwrap();
    std::fs::write(sb.home().join("config.toml"), config).unwrap();
    sb.add_project("api", &repo, agent, &[]);
    let engine = start_engine(&sb);
    (sb, engine)
}

fn screen(sb: &Sandbox) -> String {
    let out = agents_tmux(sb, &["capture-pane", "-p", "-t", "=sb-1-1:"]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_nudge_without_text_presses_enter_once() {
    let (sb, _engine) = running(READER, "reader");
    sb.run(&["dispatch", "api", "read"]).ok();
    wait_secs(30, "the agent up", || screen(&sb).contains("ready"));
    sb.run(&["nudge", "1"]).ok();
    wait_secs(30, "the Enter read", || screen(&sb).contains("one []"));
    // Pressed once: the second line is still unread a while later.
    std::thread::sleep(Duration::from_millis(1500));
    let shown = screen(&sb);
    assert!(
        !shown.contains("two ["),
        "Enter pressed more than once:\n{shown}"
    );
}

#[test]
fn text_of_several_lines_reaches_the_demo_agent_as_one_task() {
    let config = common::engine::FAST;
    let (sb, _engine) = running(config, "fast");
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    let ready = || sb.run(&["review", "--json"]).json()[0]["state"] == "ready";
    wait_secs(30, "the first review item", ready);
    sb.run(&[
        "reject",
        "1",
        "--reason",
        "also the tests\nand the changelog",
    ])
    .ok();
    let worktree = sb.home().join("worktrees/job-1");
    wait_secs(30, "the rejected work done and in review again", || {
        std::fs::read_to_string(worktree.join("DEMO.md")).is_ok_and(|t| t.contains("changelog"))
            && ready()
    });
    assert_eq!(
        std::fs::read_to_string(worktree.join("DEMO.md")).unwrap(),
        "- write the docs\n- also the tests\nand the changelog\n",
        "one task for the two lines:\n{}",
        screen(&sb)
    );
}
