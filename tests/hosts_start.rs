//! Starting agents on a remote host (a real sshd in a network namespace,
//! tests/common/hosts.rs) with an engine in this process, so that each
//! pass happens exactly when the test says: what a start does when the
//! host is out of reach before it is tried. Skipped, with a message,
//! where namespaces cannot be made (not root).

mod common;

use std::time::{Duration, Instant};

use common::cluster::{Cluster, config};
use switchboard::config::Config;
use switchboard::engine::Engine;
use switchboard::home::Home;

fn engine_of(c: &Cluster) -> Engine {
    let home = Home::at(c.sb.home());
    let config = Config::load(&home.config_file()).expect("config");
    Engine::start(home, config).expect("engine")
}

/// Passes `engine` until `done` holds; fails after `secs`.
fn pass_until(engine: &mut Engine, secs: u64, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        engine.pass().expect("pass");
        if done() {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_job_whose_host_is_out_of_reach_before_its_start_waits_in_the_queue_not_its_slot() {
    need_test_hosts!();
    // One agent at a time, all hosts together: a job holding the slot
    // would keep every other one waiting.
    let c = Cluster::with_config(
        "fast",
        &config().replace("[scheduler]\n", "[scheduler]\nmax_agents = 1\n"),
    );
    let mut engine = engine_of(&c);
    engine.pass().expect("pass");
    assert_eq!(c.host_state("build1"), "reachable");
    // build1 goes; the journal still says it is reachable, so the next
    // pass's schedule starts its job, and only then finds it gone.
    c.hosts[0].link_down();
    c.sb.run(&["dispatch", "api1", "on the host that went"])
        .ok();
    c.sb.run(&["dispatch", "api2", "on the host that stayed"])
        .ok();
    engine.pass().expect("pass");
    let job = c.job(1);
    assert_eq!(job["state"], "queued", "back in the queue: {job}");
    let events = c.events(1);
    assert!(
        events.contains("host build1 is out of reach"),
        "said why: {events}"
    );
    // Its slot is free: the job on build2 starts and finishes meanwhile.
    pass_until(&mut engine, 60, "job 2 done", || {
        c.job(2)["state"] == "done"
    });
    let job = c.job(1);
    assert_eq!(job["state"], "queued", "{job}");
    assert!(
        job["reason"]
            .as_str()
            .is_some_and(|r| r.contains("host build1 is unreachable")),
        "a clear wait reason: {job}"
    );
    // The host returns: the job starts there and finishes, never blamed.
    c.hosts[0].link_up();
    pass_until(&mut engine, 90, "job 1 done", || {
        c.job(1)["state"] == "done"
    });
    let job = c.job(1);
    assert_eq!(job["attempts"], 1, "one attempt, none failed: {job}");
    let events = c.events(1);
    assert!(!events.contains("could not start"), "{events}");
    let _ = engine.server.kill_server();
    let _ = c.server(0).kill_server();
    let _ = c.server(1).kill_server();
}

#[test]
fn reports_from_a_host_are_numbered_lost_ones_told_and_none_journaled_twice_after_a_restart() {
    use switchboard::remote::report::{HISTORY, shift_args};
    need_test_hosts!();
    let c = Cluster::new("slow");
    c.sb.run(&["dispatch", "api1", "report a lot"]).ok();
    let mut engine = engine_of(&c);
    pass_until(&mut engine, 60, "job 1 running", || {
        c.job(1)["state"] == "running"
    });
    engine.pass().expect("pass");
    let server = c.server(0);
    let pane = server.session("sb-1-1").expect("list").expect("there").pane;
    // The host's clock an hour ahead of ours.
    let ahead = switchboard::model::Timestamp::now().millis() + 3_600_000;
    let report = |n: usize| {
        serde_json::json!({
            "at": ahead + n as i64, "job": 1, "status": null, "progress": null,
            "message": format!("note {n:02}"), "source": "claude-hook",
        })
        .to_string()
    };
    // Four more than the pane keeps, all between two passes (one tmux
    // command list).
    let made = HISTORY + 4;
    let mut args: Vec<String> = Vec::new();
    for n in 1..=made {
        if n > 1 {
            args.push(";".into());
        }
        args.extend(shift_args(&pane, &report(n)));
    }
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    server.run(&words).expect("reports");
    engine.pass().expect("pass");
    let events = c.events(1);
    assert!(
        events.contains("4 report(s) from the agent's pane were lost"),
        "the loss is told, with how many: {events}"
    );
    let kept: Vec<usize> = (1..=made)
        .filter(|n| events.contains(&format!("note {n:02}")))
        .collect();
    assert_eq!(kept, (5..=made).collect::<Vec<_>>(), "{events}");
    let order: Vec<usize> = kept
        .iter()
        .map(|n| events.find(&format!("note {n:02}")).expect("there"))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "in order: {events}");
    // The engine starts again: what it journaled is not journaled twice,
    // whatever the host's clock said.
    drop(engine);
    let mut engine = engine_of(&c);
    engine.pass().expect("pass");
    engine.pass().expect("pass");
    let events = c.events(1);
    for n in 5..=made {
        let note = format!("note {n:02}");
        assert_eq!(events.matches(&note).count(), 1, "{note} once: {events}");
    }
    assert_eq!(events.matches("were lost").count(), 1, "{events}");
    // A report made after the restart is taken.
    let one_more = shift_args(&pane, &report(99));
    let words: Vec<&str> = one_more.iter().map(String::as_str).collect();
    server.run(&words).expect("one more");
    engine.pass().expect("pass");
    assert_eq!(c.events(1).matches("note 99").count(), 1);
    let _ = engine.server.kill_server();
    let _ = c.server(0).kill_server();
    let _ = c.server(1).kill_server();
}
