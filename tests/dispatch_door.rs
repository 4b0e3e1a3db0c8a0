//! `dispatch` with an engine running hands the task to it over the home's
//! socket (the engine's door), and gets the same answer in the same words
//! as when it journals the task itself; with no engine, or a dead one's
//! socket left behind, it journals the task itself. The real binary, a
//! real engine (`run --headless`), real git.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

use common::Sandbox;
use common::engine::{FAST, home_with, start_engine, wait_secs};

/// What the CLI's log says about its dispatches.
fn handed_over(sb: &Sandbox) -> usize {
    let log = std::fs::read_to_string(sb.home().join("logs/switchboard.log")).unwrap_or_default();
    log.matches("journaled by the engine").count()
}

fn dispatch(sb: &Sandbox, args: &[&str]) -> common::Run {
    common::Run::of(&mut dispatch_cmd(sb, args))
}

/// `dispatch ARGS`, logging what it hands over.
fn dispatch_cmd(sb: &Sandbox, args: &[&str]) -> std::process::Command {
    let mut all = vec!["dispatch"];
    all.extend_from_slice(args);
    let mut cmd = sb.cmd(&all);
    cmd.env("SWITCHBOARD_LOG", "debug");
    cmd
}

fn wait_for_door(sb: &Sandbox) {
    wait_secs(20, "the engine's door", || {
        UnixStream::connect(sb.home().join("engine.sock")).is_ok()
    });
}

#[test]
fn a_running_engine_journals_the_task_and_answers_in_dispatch_s_words() {
    let sb = home_with(FAST, &["app"]);
    let _engine = start_engine(&sb);
    wait_for_door(&sb);

    let queued = dispatch(&sb, &["app", "--json", "--priority", "7", "fix", "it"]).json();
    assert_eq!(queued["state"], "queued");
    assert_eq!(queued["project"], "app");
    assert_eq!(queued["priority"], 7);
    assert_eq!(queued["title"], "fix it");
    assert_eq!(handed_over(&sb), 1, "the engine journaled it");
    let id = queued["id"].as_i64().unwrap();
    let jobs = sb.run(&["jobs", "--json"]).json();
    assert!(
        jobs.as_array().unwrap().iter().any(|j| j["id"] == id),
        "{jobs}"
    );

    // Refused in the words dispatch uses itself, and nothing journaled.
    let refused = dispatch(&sb, &["nowhere", "fix", "it"]);
    let why = refused.fails(1);
    assert!(why.contains("no project named \"nowhere\""), "{why}");
    let refused = dispatch(&sb, &["app", "--agent", "nobody", "fix"]);
    assert!(refused.fails(1).contains("no agent profile \"nobody\""));
    assert_eq!(
        sb.run(&["jobs", "--json"]).json().as_array().unwrap().len(),
        1
    );
}

#[test]
fn a_relative_repository_path_is_read_from_where_dispatch_ran() {
    let sb = home_with(FAST, &[]);
    let repo = sb.repo("web");
    let _engine = start_engine(&sb);
    wait_for_door(&sb);

    let parent = repo.parent().unwrap();
    let run = common::Run::of(
        sb.cmd(&["dispatch", "--json", "./web", "add", "a", "page"])
            .env("SWITCHBOARD_LOG", "debug")
            .current_dir(parent),
    );
    let queued = run.json();
    assert_eq!(queued["project"], "web");
    assert_eq!(queued["registered_project"], true);
    assert_eq!(handed_over(&sb), 1);
    let projects = sb.run(&["project", "list", "--json"]).json();
    let path = projects[0]["path"].as_str().unwrap().to_string();
    assert_eq!(
        std::path::Path::new(&path),
        repo.canonicalize().unwrap(),
        "{projects}"
    );
}

#[test]
fn bytes_that_are_not_a_request_get_a_reason_and_the_door_goes_on() {
    let sb = home_with(FAST, &["app"]);
    let mut engine = start_engine(&sb);
    wait_for_door(&sb);

    for junk in [
        &b"\xff\xfe not json\n"[..],
        b"{\"version\": 1}\n",
        b"\n",
        b"{\"version\":\"0.0.0-other\",\"task\":{\"project\":\"app\",\"prompt\":\"x\",\"agent\":null,\"priority\":null,\"title\":null,\"after\":[],\"cwd\":\"/\"}}\n",
    ] {
        let mut stream = UnixStream::connect(sb.home().join("engine.sock")).unwrap();
        stream.write_all(junk).unwrap();
        let mut answer = String::new();
        BufReader::new(&stream).read_line(&mut answer).unwrap();
        assert!(
            answer.contains("refused") || answer.contains("other_version"),
            "{answer}"
        );
    }
    // A connection that sends nothing and stays open is let go.
    let _silent = UnixStream::connect(sb.home().join("engine.sock")).unwrap();

    let queued = dispatch(&sb, &["app", "--json", "still", "here"]).json();
    assert_eq!(queued["state"], "queued");
    assert_eq!(handed_over(&sb), 1);
    assert!(engine.alive());
    assert_eq!(
        sb.run(&["jobs", "--json"]).json().as_array().unwrap().len(),
        1
    );
}

#[test]
fn with_a_dead_engine_s_socket_left_dispatch_journals_the_task_itself() {
    let sb = home_with(FAST, &["app"]);
    let engine = start_engine(&sb);
    wait_for_door(&sb);
    engine.crash();
    assert!(sb.home().join("engine.sock").exists(), "the socket is left");

    let queued = dispatch(&sb, &["app", "--json", "after", "the", "crash"]).json();
    assert_eq!(queued["state"], "queued");
    assert_eq!(handed_over(&sb), 0, "no engine took it");
    assert_eq!(
        sb.run(&["jobs", "--json"]).json().as_array().unwrap().len(),
        1
    );
}

#[test]
fn a_stopped_engine_takes_its_door_with_it() {
    let sb = home_with(FAST, &["app"]);
    let mut engine = start_engine(&sb);
    wait_for_door(&sb);
    sb.run(&["drain"]).ok();
    wait_secs(30, "the drained engine to stop", || !engine.alive());
    assert!(!sb.home().join("engine.sock").exists());
    let queued = dispatch(&sb, &["app", "--json", "later"]).json();
    assert_eq!(queued["state"], "queued");
    assert_eq!(handed_over(&sb), 0);
}

#[test]
fn no_engine_no_door() {
    let sb: Sandbox = home_with(FAST, &["app"]);
    let queued = dispatch(&sb, &["app", "--json", "alone"]).json();
    assert_eq!(queued["id"], 1);
    assert_eq!(handed_over(&sb), 0);
}

/// A door that goes (its engine killed) with the task still unread: the
/// connection waiting to be taken, or taken with the task unread. The
/// kernel resets it, which tells `dispatch` the task was never read: it
/// journals the task itself and says its id (before, it said the engine
/// "took the task but did not answer" and sent the operator to `jobs`,
/// where the task was not).
#[test]
fn a_door_that_goes_before_reading_the_task_leaves_dispatch_to_journal_it() {
    let sb = home_with(FAST, &["app"]);
    for take_it in [false, true] {
        let socket = sb.home().join("engine.sock");
        let _ = std::fs::remove_file(&socket);
        let door = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let client = dispatch_cmd(&sb, &["app", "--json", "never read"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if take_it {
            let (taken, _) = door.accept().unwrap();
            wait_secs(20, "the task to be sent", || waiting_bytes(&taken) > 0);
            drop(taken);
        } else {
            // Connected and (a moment later) sent, never taken.
            door.set_nonblocking(true).unwrap();
            wait_secs(20, "the connection", || readable(&door));
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        drop(door);
        let out = client.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "taken: {take_it}: {stderr}");
        assert!(stdout.contains("\"queued\""), "{stdout}");
    }
    let jobs = sb.run(&["jobs", "--json"]).json();
    assert_eq!(jobs.as_array().unwrap().len(), 2, "{jobs}");
    assert_eq!(handed_over(&sb), 0);
}

/// Bytes waiting to be read on `stream`.
fn waiting_bytes(stream: &UnixStream) -> i32 {
    use std::os::unix::io::AsRawFd;
    let mut n: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int, which lives on this stack.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::FIONREAD, &mut n) };
    if rc == 0 { n } else { 0 }
}

/// Whether a connection waits on `listener`.
fn readable(listener: &std::os::unix::net::UnixListener) -> bool {
    use std::os::unix::io::AsRawFd;
    let mut fd = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one pollfd, which lives on this stack for the call.
    unsafe { libc::poll(&mut fd, 1, 0) == 1 }
}

/// A door that reads the whole task and goes without answering may have
/// journaled it: `dispatch` does not journal it again, and says to look
/// at `jobs`.
#[test]
fn a_door_that_reads_the_task_and_goes_unanswering_sends_the_operator_to_jobs() {
    let sb = home_with(FAST, &["app"]);
    let door = std::os::unix::net::UnixListener::bind(sb.home().join("engine.sock")).unwrap();
    let reader = std::thread::spawn(move || {
        let (taken, _) = door.accept().unwrap();
        let mut line = String::new();
        BufReader::new(&taken).read_line(&mut line).unwrap();
        line
    });
    let out = dispatch(&sb, &["app", "--json", "read", "then", "gone"]);
    let request = reader.join().unwrap();
    assert!(request.contains("read then gone"), "{request}");
    let why = out.fails(1);
    assert!(why.contains("did not answer"), "{why}");
    assert!(why.contains("switchboard jobs"), "{why}");
    assert_eq!(
        sb.run(&["jobs", "--json"]).json().as_array().unwrap().len(),
        0,
        "not journaled twice"
    );
}
