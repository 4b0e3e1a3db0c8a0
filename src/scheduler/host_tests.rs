//! `max_agents` per host beside the global and per-project limits, and a
//! host that cannot be reached.

use super::*;
use crate::model::HostName;

fn host(name: &str) -> HostName {
    HostName::parse(name).unwrap()
}

/// Projects `r1` (4 agents) and `r2` (4 agents) on host `b1` (at most 3
/// agents), `r3` (1 agent) on host `b2` (no limit), and the local ones.
fn world(extra: &str) -> World {
    let mut w = World::new(extra);
    for (name, max, on) in [("r1", 4, "b1"), ("r2", 4, "b1"), ("r3", 1, "b2")] {
        w.state.projects.insert(
            name.into(),
            ProjectLimits {
                max_agents: max,
                host: host(on),
            },
        );
    }
    w.state.hosts.insert(
        host("b1"),
        HostLimits {
            max_agents: Some(3),
            unreachable: false,
        },
    );
    w.state.hosts.insert(host("b2"), HostLimits::default());
    w
}

fn set_unreachable(w: &mut World, name: &str, unreachable: bool) {
    w.state.hosts.get_mut(&host(name)).unwrap().unreachable = unreachable;
}

#[test]
fn a_host_allows_its_max_agents_across_its_projects() {
    let mut w = world("");
    w.task(Some("r1"), "a", t(0));
    w.task(Some("r2"), "b", t(0));
    w.task(Some("r1"), "c", t(0));
    let d = w.task(Some("r2"), "d", t(0));
    assert_eq!(kinds(&d), ["create_job", "wait"]);
    assert_eq!(w.state.agents_on(&host("b1")), 3);
    assert_eq!(w.state_of(4), StateName::Queued);
    assert_eq!(w.reason_of(4), "host b1 has 3/3 agents");
    assert_eq!(w.state.jobs[&4].wait, Some(WaitKind::HostFull));
    // Work elsewhere still starts.
    w.task(Some("api"), "local", t(1));
    assert_eq!(w.state_of(5), StateName::Starting);
    // One ends on the host: the waiting job starts.
    w.agent_up(1, t(2));
    let d = w.agent_ends(1, true, t(3));
    assert_eq!(kinds(&d), ["start"]);
    assert!(d[0].reason.contains("host b1 3 of 3"), "{}", d[0].reason);
}

#[test]
fn one_pass_never_starts_more_than_the_host_allows() {
    // Both projects have room; the host does not: the starts of one pass
    // count against it as they are planned.
    let mut w = world("[scheduler]\nmax_agents = 20\n");
    w.state.draining = true;
    for n in 0..4 {
        w.task(Some("r1"), &format!("a{n}"), t(0));
        w.task(Some("r2"), &format!("b{n}"), t(0));
    }
    w.state.draining = false;
    w.run(t(1));
    assert_eq!(w.state.agents_on(&host("b1")), 3);
    assert_eq!(w.state.active(), 3);
}

#[test]
fn the_project_limit_is_told_before_the_host_limit() {
    let mut w = world("");
    w.task(Some("r3"), "a", t(0));
    w.task(Some("r3"), "b", t(0));
    assert_eq!(w.reason_of(2), "repository of project r3 claimed by #1");
}

#[test]
fn nothing_starts_on_an_unreachable_host_and_it_starts_when_back() {
    let mut w = world("");
    set_unreachable(&mut w, "b2", true);
    let d = w.task(Some("r3"), "a", t(0));
    assert_eq!(kinds(&d), ["create_job", "wait"]);
    assert_eq!(w.reason_of(1), "host b2 is unreachable");
    assert_eq!(w.state.jobs[&1].wait, Some(WaitKind::HostUnreachable));
    assert!(w.run(t(5)).is_empty(), "told once");
    set_unreachable(&mut w, "b2", false);
    let d = w.run(t(6));
    assert_eq!(kinds(&d), ["start"]);
}

#[test]
fn an_agent_on_an_unreachable_host_is_not_timed_out_until_it_is_seen() {
    let mut w = world("[scheduler]\njob_timeout = \"30m\"\n");
    w.task(Some("r3"), "slow", t(0));
    w.agent_up(1, t(0));
    set_unreachable(&mut w, "b2", true);
    assert!(w.run(t(40)).is_empty());
    assert_eq!(w.state_of(1), StateName::Running);
    // It still holds its slots: the host's and the project's.
    w.task(Some("r3"), "next", t(41));
    assert_eq!(w.reason_of(2), "host b2 is unreachable");
    assert_eq!(w.state.active(), 1);
    set_unreachable(&mut w, "b2", false);
    let d = kinds(&w.run(t(42)));
    assert_eq!(d[0], "timeout");
    assert!(d.contains(&"retry"), "{d:?}");
}

#[test]
fn a_project_on_an_unknown_host_waits_with_the_reason() {
    let mut w = world("");
    w.state.projects.insert(
        "gone".into(),
        ProjectLimits {
            max_agents: 1,
            host: host("old"),
        },
    );
    w.task(Some("gone"), "a", t(0));
    assert_eq!(w.state.jobs[&1].wait, Some(WaitKind::HostUnknown));
    assert!(w.reason_of(1).contains("host old, which is not registered"));
}

#[test]
fn every_wait_kind_reads_back() {
    for kind in [
        WaitKind::HostFull,
        WaitKind::HostUnreachable,
        WaitKind::HostUnknown,
    ] {
        assert_eq!(WaitKind::parse(kind.as_str()), Some(kind));
    }
}
