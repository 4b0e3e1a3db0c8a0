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
    let mut all = vec!["dispatch"];
    all.extend_from_slice(args);
    common::Run::of(sb.cmd(&all).env("SWITCHBOARD_LOG", "debug"))
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
