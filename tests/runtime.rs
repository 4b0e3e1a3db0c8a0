//! The tmux runtime against a real, private tmux server in a temp home.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{BIN, Sandbox};
use regex::Regex;
use switchboard::home::Home;
use switchboard::runtime::{
    ControlClient, ReportOptions, SpawnSpec, TmuxError, TmuxServer, wait_for_idle, wait_for_prompt,
    wait_for_shell_prompt,
};

fn server(sb: &Sandbox) -> TmuxServer {
    let home = Home::at(sb.home());
    home.ensure().unwrap();
    TmuxServer::for_home(&home, 2000).unwrap()
}

/// Kills the test's tmux server however the test ends.
struct Cleanup(TmuxServer);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = self.0.kill_server();
    }
}

/// A temp home with its tmux server (killed when the test ends) and a
/// repository for agents to work in.
fn setup() -> (Sandbox, TmuxServer, Cleanup, std::path::PathBuf) {
    let sb = Sandbox::new();
    let srv = server(&sb);
    let cleanup = Cleanup(srv.clone());
    let work = sb.repo("work");
    (sb, srv, cleanup, work)
}

/// Starts `argv` as session `name` and waits until its pane shows `shows`.
fn start(srv: &TmuxServer, work: &Path, name: &str, argv: &[&str], shows: &str) {
    srv.spawn(&spec(name, work, argv)).unwrap();
    wait_for_prompt(
        srv,
        name,
        &Regex::new(shows).unwrap(),
        Duration::from_secs(10),
    )
    .unwrap();
}

fn spec(name: &str, cwd: &Path, argv: &[&str]) -> SpawnSpec {
    SpawnSpec {
        name: name.into(),
        cwd: cwd.to_path_buf(),
        argv: argv.iter().map(|s| s.to_string()).collect(),
        env: vec![("SWITCHBOARD_JOB".into(), "1".into())],
    }
}

/// Waits until `path` holds exactly `expected`.
fn wait_for_file(path: &Path, expected: &str) {
    common::wait_until(
        Duration::from_secs(10),
        Duration::from_millis(25),
        || match std::fs::read_to_string(path).unwrap_or_default() {
            got if got == expected => Ok(()),
            got => Err(got),
        },
        |got| format!("received {got:?}"),
    )
}

fn wait_dead(server: &TmuxServer, name: &str) -> Option<i32> {
    common::wait_until(
        Duration::from_secs(10),
        Duration::from_millis(25),
        || match server.session(name).unwrap().expect("session") {
            info if info.dead => Ok(info.exit_status),
            info => Err(Box::new(info)),
        },
        |info| format!("{name} never exited: {info:?}"),
    )
}

#[test]
fn the_demo_agent_runs_a_task_and_its_session_is_adopted_again() {
    let (sb, srv, _cleanup, work) = setup();
    srv.spawn(&spec(
        "sb-1-1",
        &work,
        &[BIN, "demo-agent", "--steps", "2", "--step-ms", "50"],
    ))
    .unwrap();
    let prompt = Regex::new(r"(?m)^demo> $").unwrap();
    let screen = wait_for_prompt(&srv, "sb-1-1", &prompt, Duration::from_secs(10)).unwrap();
    assert!(screen.contains("switchboard demo agent"), "{screen}");

    srv.send_text("sb-1-1", "write the docs", Duration::from_millis(50), 3)
        .unwrap();
    wait_for_prompt(
        &srv,
        "sb-1-1",
        &Regex::new("✓ done").unwrap(),
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(
        std::fs::read_to_string(work.join("DEMO.md")).unwrap(),
        "- write the docs\n"
    );

    // A new runtime instance (a restarted engine) finds the session alive.
    let again = server(&sb);
    let found = again.sessions().unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].name, "sb-1-1");
    assert!(!found[0].dead);

    srv.send_text("sb-1-1", "exit", Duration::from_millis(50), 3)
        .unwrap();
    assert_eq!(
        wait_dead(&again, "sb-1-1"),
        Some(0),
        "the exit status is read from the dead pane"
    );
    again.kill("sb-1-1").unwrap();
    assert!(again.session("sb-1-1").unwrap().is_none());
    assert!(
        matches!(again.kill("sb-1-1"), Err(TmuxError::NoSession(_))),
        "killing twice says so"
    );
    assert!(matches!(
        again.capture("sb-1-1", false, 0),
        Err(TmuxError::NoSession(_))
    ));
}

#[test]
fn a_failing_agent_leaves_its_exit_status() {
    let (_sb, srv, _cleanup, work) = setup();
    srv.spawn(&spec(
        "sb-2-1",
        &work,
        &[
            BIN,
            "demo-agent",
            "--fail",
            "--steps",
            "1",
            "--step-ms",
            "10",
            "task",
        ],
    ))
    .unwrap();
    assert_eq!(wait_dead(&srv, "sb-2-1"), Some(1));
}

#[test]
fn text_reaches_the_agent_literally() {
    let (_sb, srv, _cleanup, work) = setup();
    // The agent: whatever is typed goes to received.txt.
    srv.spawn(&spec(
        "sb-3-1",
        &work,
        &["sh", "-c", "stty -echo; cat > received.txt"],
    ))
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let text = "line one\n$(touch PWNED1) ; touch PWNED2 `touch PWNED3` \u{1b}[31mred Enter C-c";
    srv.send_text("sb-3-1", text, Duration::from_millis(50), 0)
        .ok();
    let expected = "line one\n$(touch PWNED1) ; touch PWNED2 `touch PWNED3` [31mred Enter C-c\n";
    wait_for_file(&work.join("received.txt"), expected);
    for f in ["PWNED1", "PWNED2", "PWNED3"] {
        assert!(!work.join(f).exists(), "{f} was created: text was executed");
    }
    // "C-c" was not pressed: the agent still runs.
    assert!(!srv.session("sb-3-1").unwrap().unwrap().dead);
}

#[test]
fn the_waits_find_prompts_quiet_and_time_out() {
    let (_sb, srv, _cleanup, work) = setup();
    srv.spawn(&spec(
        "sb-4-1",
        &work,
        &["sh", "-c", "PS1='ready$ ' exec sh -i"],
    ))
    .unwrap();
    wait_for_shell_prompt(&srv, "sb-4-1", Duration::from_secs(10)).unwrap();
    let never = wait_for_prompt(
        &srv,
        "sb-4-1",
        &Regex::new("never shown").unwrap(),
        Duration::from_millis(300),
    );
    assert!(matches!(never, Err(TmuxError::Timeout(_))), "{never:?}");
    wait_for_idle(
        &srv,
        "sb-4-1",
        Duration::from_millis(300),
        Duration::from_secs(5),
    )
    .unwrap();

    srv.spawn(&spec(
        "sb-5-1",
        &work,
        &[
            "sh",
            "-c",
            "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.05; done",
        ],
    ))
    .unwrap();
    let busy = wait_for_idle(
        &srv,
        "sb-5-1",
        Duration::from_millis(400),
        Duration::from_millis(1500),
    );
    assert!(
        matches!(busy, Err(TmuxError::Timeout(_))),
        "not idle while output flows: {busy:?}"
    );
}

#[test]
fn the_server_is_private_to_the_home() {
    let sb = Sandbox::new();
    let srv = server(&sb);
    let _cleanup = Cleanup(srv.clone());
    assert!(srv.socket().starts_with(sb.home().join("tmux")));
    assert!(
        srv.sessions().unwrap().is_empty(),
        "no server yet: no sessions"
    );
    let (program, args, unset) = srv.attach_command("sb-9-1");
    assert_eq!(program, "tmux");
    assert!(args.contains(&"attach-session".to_string()) && args.contains(&"=sb-9-1".to_string()));
    assert_eq!(unset, "TMUX");
    assert!(matches!(srv.kill("bad name;"), Err(TmuxError::BadName(_))));
}

#[test]
fn the_control_client_captures_many_panes_in_one_round_trip() {
    let (_sb, srv, _cleanup, work) = setup();
    for n in 1..=3 {
        srv.spawn(&spec(
            &format!("sb-{n}-1"),
            &work,
            &["sh", "-c", &format!("echo pane number {n}; sleep 60")],
        ))
        .unwrap();
    }
    let shown = Regex::new("pane number").unwrap();
    for n in 1..=3 {
        wait_for_prompt(&srv, &format!("sb-{n}-1"), &shown, Duration::from_secs(10)).unwrap();
    }
    let client = ControlClient::new(srv.clone());
    let screens = client
        .capture_many(&["sb-1-1", "sb-2-1", "sb-3-1", "sb-9-9"])
        .unwrap();
    assert_eq!(screens.len(), 4);
    for n in 1..=3 {
        assert!(
            screens[n - 1].contains(&format!("pane number {n}")),
            "{:?}",
            screens[n - 1]
        );
        assert_eq!(
            screens[n - 1],
            srv.capture(&format!("sb-{n}-1"), false, 0).unwrap(),
            "same as a spawned capture"
        );
    }
    assert_eq!(screens[3], "", "a missing pane gives an empty screen");
    let coloured = client.capture_many_with(&["sb-1-1"], true, 0).unwrap();
    assert_eq!(
        coloured[0],
        srv.capture("sb-1-1", true, 0).unwrap(),
        "with colours, as a spawned capture -e"
    );
    assert_eq!(
        client.capture_many_with(&["sb-1-1"], false, 50).unwrap()[0],
        srv.capture("sb-1-1", false, 50).unwrap(),
        "with scrollback, as a spawned capture -S"
    );
    assert!(
        srv.sessions()
            .unwrap()
            .iter()
            .all(|s| s.name != switchboard::runtime::CONTROL_SESSION),
        "the control session is not an agent"
    );
}

#[test]
fn pane_text_that_looks_like_protocol_does_not_confuse_the_control_client() {
    let (_sb, srv, _cleanup, work) = setup();
    start(
        &srv,
        &work,
        "sb-1-1",
        &[
            "sh",
            "-c",
            "echo '%end 0 0 1'; echo '%output %9 x'; echo '%error 1 2 1'; echo after; sleep 60",
        ],
        "after",
    );
    let client = ControlClient::new(srv.clone());
    for _ in 0..3 {
        let screen = &client.capture_many(&["sb-1-1"]).unwrap()[0];
        let lines: Vec<&str> = screen.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(
            lines,
            ["%end 0 0 1", "%output %9 x", "%error 1 2 1", "after"]
        );
    }
}

#[test]
fn the_control_client_reconnects_after_the_server_dies() {
    let (_sb, srv, _cleanup, work) = setup();
    start(
        &srv,
        &work,
        "sb-1-1",
        &["sh", "-c", "echo first; sleep 60"],
        "first",
    );
    let client = ControlClient::new(srv.clone());
    assert!(client.capture_many(&["sb-1-1"]).unwrap()[0].contains("first"));
    assert!(client.connected());

    srv.kill_server().unwrap();
    // The next request connects again (and so starts a server); the old
    // pane is gone.
    assert_eq!(client.capture_many(&["sb-1-1"]).unwrap(), [""]);
    start(
        &srv,
        &work,
        "sb-2-1",
        &["sh", "-c", "echo second; sleep 60"],
        "second",
    );
    assert!(client.capture_many(&["sb-2-1"]).unwrap()[0].contains("second"));
}

#[test]
fn text_over_the_control_client_also_arrives_literally() {
    let (_sb, srv, _cleanup, work) = setup();
    srv.spawn(&spec("sb-6-1", &work, &["sh", "-c", "cat > received.txt"]))
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let client = ControlClient::new(srv.clone());
    let text = "it's \"quoted\"; $(touch PWNED) `touch PWNED` \u{1b}]0;title\u{7} C-c Enter";
    client
        .send_text("sb-6-1", text, Duration::from_millis(20), 2)
        .unwrap();
    let expected = "it's \"quoted\"; $(touch PWNED) `touch PWNED` ]0;title C-c Enter\n";
    wait_for_file(&work.join("received.txt"), expected);
    assert!(!work.join("PWNED").exists());
    let leftovers: Vec<_> = std::fs::read_dir(srv.buffer_dir()).unwrap().collect();
    assert!(leftovers.is_empty(), "the text file is removed once loaded");
}

/// An agent can set its own pane's options (its reports travel there): a
/// value holding a newline and tabs must not read as a line of the
/// listing for another session (here: job 2's agent dead with exit 0),
/// nor shift the fields of its own, over one connection or the other.
#[test]
fn a_pane_option_cannot_forge_another_sessions_line() {
    let (_sb, srv, _cleanup, work) = setup();
    start(
        &srv,
        &work,
        "sb-1-1",
        &["sh", "-c", "echo one; sleep 60"],
        "one",
    );
    start(
        &srv,
        &work,
        "sb-2-1",
        &["sh", "-c", "echo two; sleep 60"],
        "two",
    );
    let forged = "{}\nsb-2-1\t%99\t1\t1\t0\t\t\t\t\t\t1\tforged\nsb-3-1\t%98\t1\t1\t0\t";
    let set = srv.run(&[
        "set-option",
        "-p",
        "-t",
        "=sb-1-1:",
        "@switchboard_report",
        forged,
    ]);
    assert!(set.is_ok(), "{set:?}");
    let client = ControlClient::new(srv.clone());
    // As a host's server is listed (its panes' report options read), and
    // as this machine's is (they are not).
    let read = ReportOptions::Read;
    for listing in [srv.list(read).unwrap(), client.list(read).unwrap()] {
        let names: Vec<&str> = listing.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["sb-1-1", "sb-2-1"], "{listing:?}");
        let two = &listing[1];
        assert!(!two.dead && two.pane != "%99", "{two:?}");
        let one = &listing[0];
        assert_eq!(one.reports[0], forged, "{one:?}");
        assert!(!one.dead, "{one:?}");
    }
    for listing in [srv.sessions().unwrap(), client.sessions().unwrap()] {
        let names: Vec<&str> = listing.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["sb-1-1", "sb-2-1"], "{listing:?}");
        assert!(
            listing.iter().all(|s| !s.dead && s.reports.is_empty()),
            "{listing:?}"
        );
        assert!(listing[1].pane != "%99", "{listing:?}");
    }
}
