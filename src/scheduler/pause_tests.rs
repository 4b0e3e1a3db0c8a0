//! A paused queue: nothing new starts, agents already running go on, every
//! held job is told once, and once the pause ends each is told where it
//! really stands.

use super::*;

const PAUSED: &str = "paused: no new agents start (switchboard resume)";

fn waits_of(log: &[Decision], job: i64) -> Vec<WaitKind> {
    log.iter()
        .filter_map(|d| match d.action {
            Action::Wait { job: j, kind } if j == job => Some(kind),
            _ => None,
        })
        .collect()
}

#[test]
fn nothing_starts_while_paused_and_each_job_is_told_why_once() {
    let mut w = World::new("");
    w.state.paused = true;
    for i in 0..3 {
        let d = w.task(Some("web"), &format!("web {i}"), t(0));
        assert_eq!(kinds(&d), ["create_job", "wait"], "{d:?}");
    }
    for id in 1..=3 {
        assert_eq!(w.state_of(id), StateName::Queued);
        assert_eq!(w.reason_of(id), PAUSED);
        assert_eq!(waits_of(&w.log, id), [WaitKind::Paused]);
    }
    // The pause is state, not an event: passes while it lasts tell nothing.
    for minute in 1..10 {
        assert!(w.run(t(minute)).is_empty());
    }
    // Resumed: web's two slots fill, the third is told its real wait.
    w.state.paused = false;
    let d = w.run(t(10));
    assert_eq!(kinds(&d), ["start", "start", "wait"], "{d:?}");
    assert_eq!(
        waits_of(&w.log, 3),
        [WaitKind::Paused, WaitKind::ProjectFull]
    );
    assert_eq!(w.reason_of(3), "project web has 2/2 agents");
}

#[test]
fn a_running_agent_goes_on_while_paused_and_frees_no_start() {
    let mut w = World::new("");
    assert_eq!(
        kinds(&w.task(Some("api"), "first", t(0))),
        ["create_job", "start"]
    );
    w.agent_up(1, t(1));
    w.task(Some("api"), "second", t(1));
    assert_eq!(w.reason_of(2), "repository of project api claimed by #1");
    w.state.paused = true;
    let told = w.run(t(2));
    assert_eq!(kinds(&told), ["wait"], "the next job learns of the pause");
    assert_eq!(w.reason_of(2), PAUSED);
    assert_eq!(w.state_of(1), StateName::Running, "the agent goes on");
    // Its agent ends: the slot is free, but nothing starts.
    let d = w.agent_ends(1, true, t(3));
    assert!(kinds(&d).iter().all(|k| *k != "start"), "{d:?}");
    assert_eq!(w.state_of(2), StateName::Queued);
    w.state.paused = false;
    assert_eq!(kinds(&w.run(t(4))), ["start"]);
}

#[test]
fn jobs_behind_the_head_are_told_again_once_the_pause_ends() {
    // api takes one agent: #2 and #3 are held behind #1 whatever happens,
    // and must not keep saying "paused" after the resume.
    let mut w = World::new("");
    w.state.paused = true;
    for i in 0..3 {
        w.task(Some("api"), &format!("api {i}"), t(0));
    }
    assert!((1..=3).all(|id| w.reason_of(id) == PAUSED));
    w.state.paused = false;
    let d = w.run(t(1));
    assert_eq!(kinds(&d), ["start", "wait", "wait"], "{d:?}");
    assert_eq!(w.reason_of(2), "repository of project api claimed by #1");
    assert_eq!(w.reason_of(3), "repository of project api claimed by #1");
    assert!(w.run(t(2)).is_empty(), "each told once");
    // The same after a drain ends.
    w.state.draining = true;
    w.task(Some("api"), "during the drain", t(3));
    assert_eq!(w.reason_of(4), "draining: no new agents start");
    w.state.draining = false;
    let d = w.run(t(4));
    assert_eq!(wait_of(&d, 4).map(|(k, _)| k), Some(WaitKind::Claimed));
}

#[test]
fn a_drain_during_a_pause_says_draining_and_a_pause_is_told_once_per_job() {
    let mut w = World::new("[scheduler]\nmax_agents = 1\n");
    w.state.paused = true;
    for i in 0..20 {
        w.task(Some("web"), &format!("web {i}"), t(0));
    }
    let paused = w
        .log
        .iter()
        .filter(|d| {
            matches!(
                d.action,
                Action::Wait {
                    kind: WaitKind::Paused,
                    ..
                }
            )
        })
        .count();
    assert_eq!(paused, 20);
    w.state.draining = true;
    let d = w.run(t(1));
    assert_eq!(wait_of(&d, 1).map(|(k, _)| k), Some(WaitKind::Draining));
    assert!(w.run(t(2)).is_empty());
}
