//! One test per rule, at its boundaries.

use std::time::Duration;

use super::*;
use crate::config::Config;
use crate::model::{
    AlarmMessage, AlarmState, JobKind, JobState, StateName, TicketMessage, Timestamp,
};

const MIN: i64 = 60_000;

fn t(minutes: i64) -> Timestamp {
    Timestamp::from_millis(1_800_000_000_000 + minutes * MIN)
}

fn config(extra: &str) -> Config {
    let text = format!(
        "[routing]\ndefault_project = \"api\"\naccounts = {{ \"999\" = \"billing\" }}\njira = {{ \"WEB\" = \"web\" }}\n{extra}"
    );
    Config::from_texts(Some(&text), std::path::Path::new("test.toml")).unwrap()
}

/// A scheduler state with a log of every decision.
struct World {
    state: State,
    config: Config,
    log: Vec<Decision>,
}

impl World {
    fn new(extra: &str) -> World {
        let mut state = State::new();
        for (name, max) in [("api", 1), ("web", 2), ("billing", 1)] {
            state
                .projects
                .insert(name.into(), ProjectLimits::local(max));
        }
        World {
            state,
            config: config(extra),
            log: Vec::new(),
        }
    }

    fn arrive(&mut self, arrival: Arrival, now: Timestamp) -> Vec<Decision> {
        self.state.inbox.push_back(Pending { row: 0, arrival });
        self.run(now)
    }

    fn run(&mut self, now: Timestamp) -> Vec<Decision> {
        let mut out = Vec::new();
        pass(&mut self.state, &self.config, now, |a| {
            out.push(a.decision.clone())
        })
        .unwrap();
        self.log.extend(out.clone());
        out
    }

    fn alarm(
        &mut self,
        account: &str,
        name: &str,
        state: AlarmState,
        at: Timestamp,
        now: Timestamp,
    ) -> Vec<Decision> {
        let alarm = AlarmMessage {
            account: account.into(),
            name: name.into(),
            state,
            at: Some(at),
            reason: None,
            region: None,
        };
        self.arrive(Arrival::Alarm { alarm, at }, now)
    }

    fn ticket(&mut self, key: &str, now: Timestamp) -> Vec<Decision> {
        let ticket = TicketMessage {
            key: key.into(),
            title: "t".into(),
            body: String::new(),
            project: None,
            event: None,
        };
        self.arrive(Arrival::Ticket(ticket), now)
    }

    fn task(&mut self, project: Option<&str>, prompt: &str, now: Timestamp) -> Vec<Decision> {
        self.arrive(
            Arrival::Task {
                project: project.map(str::to_string),
                prompt: prompt.into(),
                title: None,
                priority: None,
                after: Vec::new(),
            },
            now,
        )
    }

    fn task_after(&mut self, project: &str, after: &[i64], now: Timestamp) -> Vec<Decision> {
        self.arrive(
            Arrival::Task {
                project: Some(project.into()),
                prompt: format!("after {after:?}"),
                title: None,
                priority: None,
                after: after.to_vec(),
            },
            now,
        )
    }

    /// The runtime's part: the agent of `job` came up, then ended.
    fn agent_up(&mut self, job: i64, now: Timestamp) {
        let j = self.state.jobs.get_mut(&job).unwrap();
        j.state = j.state.run(now).unwrap();
    }

    fn agent_ends(&mut self, job: i64, ok: bool, now: Timestamp) -> Vec<Decision> {
        let mut j = self.state.jobs[&job].clone();
        j.state = if ok {
            j.state.finish(now).unwrap()
        } else {
            j.state.fail("exit 1", now).unwrap()
        };
        self.state.put_job(j);
        self.run(now)
    }

    fn state_of(&self, job: i64) -> StateName {
        self.state.jobs[&job].state.name()
    }

    fn reason_of(&self, job: i64) -> String {
        self.state.jobs[&job].reason.clone().unwrap_or_default()
    }
}

fn kinds(decisions: &[Decision]) -> Vec<&'static str> {
    decisions.iter().map(Decision::kind).collect()
}

// --- tickets ---------------------------------------------------------------

#[test]
fn a_ticket_key_gets_one_job_ever() {
    let mut w = World::new("");
    assert_eq!(kinds(&w.ticket("OPS-1", t(0))), ["open_ticket", "start"]);
    assert_eq!(w.state.tickets["OPS-1"].job, Some(1));
    // Repeated while its job runs: forwarded to the agent.
    w.agent_up(1, t(1));
    let d = w.ticket("OPS-1", t(2));
    assert_eq!(kinds(&d), ["update_ticket"]);
    assert!(
        matches!(
            d[0].action,
            Action::UpdateTicket {
                forward_to: Some(1),
                ..
            }
        ),
        "{d:?}"
    );
    // Repeated after it finished: recorded only, no second job.
    w.agent_ends(1, true, t(3));
    let d = w.ticket("OPS-1", t(4));
    assert!(
        matches!(
            d[0].action,
            Action::UpdateTicket {
                forward_to: None,
                ..
            }
        ),
        "{d:?}"
    );
    assert!(d[0].reason.contains("recorded only"), "{}", d[0].reason);
    assert_eq!(w.state.tickets["OPS-1"].updates, 2);
    assert_eq!(w.state.next_job, 2, "still one job");
}

#[test]
fn a_ticket_routes_by_its_project_then_its_key_prefix() {
    let mut w = World::new("");
    w.ticket("WEB-7", t(0));
    assert_eq!(w.state.jobs[&1].project.as_deref(), Some("web"));
    assert_eq!(w.state.jobs[&1].kind, JobKind::Ticket);
    w.ticket("ZZZ-1", t(0));
    assert_eq!(
        w.state.jobs[&2].project.as_deref(),
        Some("api"),
        "the default project"
    );
}

// --- alarms ----------------------------------------------------------------

#[test]
fn an_alarm_exactly_one_window_later_joins_the_chain() {
    let mut w = World::new("");
    assert_eq!(
        kinds(&w.alarm("123", "HighCPU", AlarmState::Alarm, t(0), t(0))),
        ["open_chain", "start"]
    );
    let d = w.alarm("123", "HighCPU", AlarmState::Alarm, t(60), t(60));
    assert_eq!(kinds(&d), ["join_chain"]);
    assert_eq!(w.state.chains["123"][0].alarms, 2);
    assert_eq!(w.state.chains["123"][0].latest_at, t(60));
}

#[test]
fn an_alarm_one_second_past_the_window_opens_a_new_chain() {
    let mut w = World::new("");
    w.alarm("123", "HighCPU", AlarmState::Alarm, t(0), t(0));
    let late = Timestamp::from_millis(t(60).millis() + 1000);
    let d = w.alarm("123", "HighCPU", AlarmState::Alarm, late, late);
    assert_eq!(kinds(&d)[0], "open_chain");
    assert_eq!(w.state.chains["123"].len(), 2);
    assert_eq!(w.state.next_job, 3, "a second incident job");
}

#[test]
fn the_window_runs_from_the_latest_alarm_so_a_chain_grows() {
    let mut w = World::new("");
    for m in [0, 50, 100, 150] {
        w.alarm("123", "Disk", AlarmState::Alarm, t(m), t(m));
    }
    assert_eq!(w.state.chains["123"].len(), 1);
    assert_eq!(w.state.chains["123"][0].alarms, 4);
}

#[test]
fn alarms_of_other_names_in_one_account_share_the_chain() {
    let mut w = World::new("");
    w.alarm("123", "HighCPU", AlarmState::Alarm, t(0), t(0));
    let d = w.alarm("123", "5xx", AlarmState::Alarm, t(5), t(5));
    assert_eq!(kinds(&d), ["join_chain"]);
    let d = w.alarm("456", "5xx", AlarmState::Alarm, t(5), t(5));
    assert_eq!(kinds(&d)[0], "open_chain", "another account, another chain");
}

#[test]
fn out_of_order_alarms_chain_by_their_own_times() {
    let mut w = World::new("");
    w.alarm("123", "A", AlarmState::Alarm, t(100), t(100));
    // Arrives later, happened earlier, within the window before the first.
    let d = w.alarm("123", "B", AlarmState::Alarm, t(50), t(101));
    assert_eq!(kinds(&d), ["join_chain"]);
    let chain = &w.state.chains["123"][0];
    assert_eq!((chain.first_at, chain.latest_at), (t(50), t(100)));
    // Happened long before: its own chain.
    let d = w.alarm("123", "C", AlarmState::Alarm, t(-30), t(102));
    assert_eq!(kinds(&d)[0], "open_chain");
}

#[test]
fn an_ok_between_two_alarms_keeps_one_incident() {
    let mut w = World::new("");
    w.alarm("123", "HighCPU", AlarmState::Alarm, t(0), t(0));
    let d = w.alarm("123", "HighCPU", AlarmState::Ok, t(10), t(10));
    assert_eq!(kinds(&d), ["resolve_chain"]);
    assert!(w.state.chains["123"][0].resolved);
    assert_eq!(
        w.state.chains["123"][0].latest_at,
        t(0),
        "an OK does not move the latest alarm time"
    );
    let d = w.alarm("123", "HighCPU", AlarmState::Alarm, t(55), t(55));
    assert_eq!(kinds(&d), ["join_chain"], "flapping stays one incident");
    assert!(!w.state.chains["123"][0].resolved);
    // The OK did not extend the window: 61 minutes after the first ALARM
    // but within an hour of the second, it still joins.
    let d = w.alarm("123", "HighCPU", AlarmState::Alarm, t(114), t(114));
    assert_eq!(kinds(&d), ["join_chain"]);
}

#[test]
fn an_ok_or_insufficient_data_never_makes_a_job() {
    let mut w = World::new("");
    let d = w.alarm("123", "HighCPU", AlarmState::Ok, t(0), t(0));
    assert_eq!(kinds(&d), ["resolve_chain"]);
    assert!(d[0].reason.contains("no open chain"), "{}", d[0].reason);
    w.alarm("123", "HighCPU", AlarmState::InsufficientData, t(1), t(1));
    assert!(w.state.jobs.is_empty());
}

#[test]
fn an_alarm_joining_an_active_chain_is_forwarded() {
    let mut w = World::new("");
    w.alarm("123", "HighCPU", AlarmState::Alarm, t(0), t(0));
    w.agent_up(1, t(1));
    let mut forwarded = Vec::new();
    w.state.inbox.push_back(Pending {
        row: 0,
        arrival: Arrival::Alarm {
            alarm: AlarmMessage {
                account: "123".into(),
                name: "5xx".into(),
                state: AlarmState::Alarm,
                at: None,
                reason: None,
                region: None,
            },
            at: t(2),
        },
    });
    pass(&mut w.state, &w.config, t(2), |applied| {
        forwarded.extend(applied.effects.iter().filter_map(|e| match e {
            Effect::Forward { job, text } => Some((*job, text.clone())),
            _ => None,
        }))
    })
    .unwrap();
    assert_eq!(forwarded.len(), 1);
    assert_eq!(forwarded[0].0, 1);
    assert!(forwarded[0].1.contains("5xx"), "{}", forwarded[0].1);
}

// --- routing ---------------------------------------------------------------

#[test]
fn alarms_route_by_account_and_unroutable_work_waits_visibly() {
    let mut w = World::new("");
    w.alarm("999", "Disk", AlarmState::Alarm, t(0), t(0));
    assert_eq!(w.state.jobs[&1].project.as_deref(), Some("billing"));

    let mut w = World {
        config: Config::builtin().unwrap(),
        ..World::new("")
    };
    let d = w.alarm("1234", "Disk", AlarmState::Alarm, t(0), t(0));
    assert_eq!(kinds(&d), ["open_chain", "wait"]);
    assert_eq!(w.reason_of(1), "no project for account 1234");
    w.task(None, "do it", t(1));
    assert_eq!(w.reason_of(2), "no project given");
    w.task(Some("ghost"), "do it", t(1));
    assert_eq!(w.reason_of(3), "project ghost is not registered");
}

// --- starting --------------------------------------------------------------

#[test]
fn a_claimed_repository_makes_later_work_wait_with_the_holder() {
    let mut w = World::new("");
    w.task(Some("api"), "first", t(0));
    let d = w.task(Some("api"), "second", t(1));
    assert_eq!(kinds(&d), ["create_job", "wait"]);
    assert_eq!(w.reason_of(2), "repository of project api claimed by #1");
    w.agent_up(1, t(2));
    let d = w.agent_ends(1, true, t(3));
    assert_eq!(kinds(&d), ["start"]);
    assert_eq!(w.state_of(2), StateName::Starting);
}

/// A project may be named `repo`: the wait reason must not read
/// "repository of project repo claimed" but name the repository and the project apart.
#[test]
fn a_claimed_reason_reads_plainly_whatever_the_project_is_named() {
    let mut w = World::new("");
    w.state
        .projects
        .insert("repo".into(), ProjectLimits::local(1));
    w.task(Some("repo"), "first", t(0));
    w.task(Some("repo"), "second", t(1));
    assert_eq!(w.reason_of(2), "repository of project repo claimed by #1");
}

/// A start outside the queue (a rejected job's agent taking up its work
/// again) follows the same rules as the queue's starts.
#[test]
fn a_start_outside_the_queue_waits_for_the_claim_and_the_limits() {
    let mut w = World::new("[scheduler]\nmax_agents = 3\n");
    assert_eq!(room_to_start(&w.state, &w.config, "api"), None);
    w.task(Some("api"), "first", t(0));
    assert_eq!(
        room_to_start(&w.state, &w.config, "api"),
        Some((
            WaitKind::Claimed,
            "repository of project api claimed by #1".into()
        ))
    );
    w.task(Some("web"), "w1", t(1));
    w.task(Some("web"), "w2", t(1));
    assert_eq!(
        room_to_start(&w.state, &w.config, "web"),
        Some((WaitKind::ProjectFull, "project web has 2/2 agents".into()))
    );
    assert_eq!(
        room_to_start(&w.state, &w.config, "billing"),
        Some((WaitKind::AgentsBusy, "3/3 agents busy".into()))
    );
    assert_eq!(
        room_to_start(&w.state, &w.config, "ghost").map(|w| w.0),
        Some(WaitKind::NotRegistered)
    );
    w.state.paused = true;
    assert_eq!(
        room_to_start(&w.state, &w.config, "api").map(|w| w.0),
        Some(WaitKind::Paused)
    );
}

#[test]
fn a_project_allows_its_max_agents() {
    let mut w = World::new("");
    for n in 0..3 {
        w.task(Some("web"), &format!("w{n}"), t(n));
    }
    assert_eq!(w.state_of(1), StateName::Starting);
    assert_eq!(w.state_of(2), StateName::Starting);
    assert_eq!(w.reason_of(3), "project web has 2/2 agents");
}

#[test]
fn never_more_than_max_agents_at_once() {
    let mut w = World::new("[scheduler]\nmax_agents = 2\n");
    w.state
        .projects
        .insert("big".into(), ProjectLimits::local(10));
    for n in 0..4 {
        w.task(Some("big"), &format!("t{n}"), t(0));
    }
    assert_eq!(w.state.active(), 2);
    assert_eq!(w.reason_of(3), "2/2 agents busy");
    assert_eq!(w.reason_of(4), "2/2 agents busy");
}

#[test]
fn incidents_start_before_tickets_before_tasks_then_by_age() {
    let mut w = World::new("[scheduler]\nmax_agents = 1\n");
    w.state
        .projects
        .insert("api".into(), ProjectLimits::local(5));
    w.task(Some("api"), "blocker", t(0)); // #1 takes the only agent
    w.task(Some("api"), "old task", t(1)); // #2
    w.ticket("OPS-1", t(2)); // #3
    w.alarm("123", "HighCPU", AlarmState::Alarm, t(3), t(3)); // #4
    w.ticket("OPS-2", t(4)); // #5
    let order: Vec<i64> = w.state.queue();
    assert_eq!(order, [4, 3, 5, 2]);
    w.agent_up(1, t(5));
    let d = w.agent_ends(1, true, t(6));
    assert!(matches!(d[0].action, Action::Start { job: 4, .. }), "{d:?}");
}

#[test]
fn nothing_starts_while_draining() {
    let mut w = World::new("");
    w.state.draining = true;
    let d = w.task(Some("api"), "x", t(0));
    assert_eq!(kinds(&d), ["create_job", "wait"]);
    assert!(w.reason_of(1).starts_with("draining"));
    w.state.draining = false;
    assert_eq!(kinds(&w.run(t(1))), ["start"]);
}

#[test]
fn a_wait_is_decided_once_until_its_reason_changes() {
    let mut w = World::new("");
    w.task(Some("api"), "first", t(0));
    w.task(Some("api"), "second", t(0));
    assert!(
        w.run(t(1)).is_empty(),
        "no new decision while nothing changed"
    );
}

// --- retries and timeouts --------------------------------------------------

#[test]
fn a_failed_attempt_retries_with_backoff_then_fails_for_good() {
    let mut w = World::new("[scheduler]\nmax_attempts = 2\nretry_backoff = \"1m\"\n");
    w.task(Some("api"), "flaky", t(0));
    w.agent_up(1, t(0));
    let d = w.agent_ends(1, false, t(1));
    assert_eq!(kinds(&d), ["retry"]);
    let Action::Retry {
        not_before,
        attempt,
        ..
    } = d[0].action
    else {
        unreachable!()
    };
    assert_eq!(attempt, 2);
    assert!(
        not_before >= t(2) && not_before <= Timestamp::from_millis(t(2).millis() + 15_000),
        "{not_before}"
    );
    assert!(d[0].reason.contains("retry in"), "{}", d[0].reason);
    // Not before its time.
    assert!(
        w.run(Timestamp::from_millis(not_before.millis() - 1))
            .is_empty()
    );
    let d = w.run(not_before);
    assert!(
        matches!(d[0].action, Action::Start { job: 1, attempt: 2 }),
        "{d:?}"
    );
    w.agent_up(1, not_before);
    let d = w.agent_ends(1, false, t(10));
    assert_eq!(kinds(&d), ["give_up"]);
    assert!(
        w.reason_of(1).contains("failed 2 of 2 attempts"),
        "{}",
        w.reason_of(1)
    );
    assert!(w.run(t(100)).is_empty(), "given up once");
}

#[test]
fn an_attempt_past_its_timeout_fails_and_retries() {
    let mut w = World::new("[scheduler]\njob_timeout = \"30m\"\n");
    w.task(Some("api"), "slow", t(0));
    w.agent_up(1, t(0));
    assert!(w.run(t(29)).is_empty());
    let d = w.run(t(30));
    assert_eq!(kinds(&d), ["timeout", "retry"]);
    assert_eq!(w.state_of(1), StateName::Queued);
}

#[test]
fn the_plan_says_when_to_look_again() {
    let w = World::new("[scheduler]\njob_timeout = \"30m\"\n");
    let mut w = w;
    w.task(Some("api"), "slow", t(0));
    assert_eq!(wake_at(&w.state, &w.config, t(1)), Some(t(30)));
    assert_eq!(
        wake_at(&w.state, &w.config, t(30)),
        None,
        "only what is still to come"
    );
    assert_eq!(w.config.scheduler.job_timeout, Duration::from_secs(1800));
}

// --- waits are state, not a stream ----------------------------------------

#[test]
fn a_moving_queue_tells_each_waiting_job_once() {
    let mut w = World::new("");
    for i in 0..200 {
        w.task(Some("api"), &format!("task {i}"), t(0));
    }
    let mut minute = 1;
    while let Some(id) = w
        .state
        .jobs
        .values()
        .find(|j| j.state.name() == StateName::Starting)
        .map(|j| j.id)
    {
        w.agent_up(id, t(minute));
        w.agent_ends(id, true, t(minute + 1));
        w.state.drop_job(id);
        minute += 2;
    }
    assert!(w.state.jobs.is_empty(), "every job ran");
    let mut waits: std::collections::HashMap<i64, u32> = Default::default();
    for d in &w.log {
        if let Action::Wait { job, .. } = d.action {
            *waits.entry(job).or_default() += 1;
        }
    }
    assert_eq!(waits.len(), 199, "every job but the first waited");
    assert!(
        waits.values().all(|&n| n == 1),
        "a job's wait is told once, not whenever the holder changes: {:?}",
        waits.values().max()
    );
}

#[test]
fn the_next_job_is_told_again_when_the_kind_of_its_wait_changes() {
    let mut w = World::new("");
    w.task(Some("api"), "first", t(0));
    w.task(Some("api"), "second", t(0));
    w.task(Some("api"), "third", t(0));
    assert_eq!(w.reason_of(2), "repository of project api claimed by #1");
    w.state.draining = true;
    let told = w.run(t(1));
    assert_eq!(kinds(&told), ["wait"], "only the next job is looked at");
    assert!(matches!(
        told[0].action,
        Action::Wait {
            job: 2,
            kind: WaitKind::Draining
        }
    ));
    assert_eq!(w.reason_of(2), "draining: no new agents start");
    assert!(w.run(t(2)).is_empty(), "told once");
}

#[test]
fn with_every_slot_taken_the_queue_is_left_alone() {
    let mut w = World::new("[scheduler]\nmax_agents = 1\n");
    w.task(Some("api"), "first", t(0));
    for i in 0..50 {
        w.task(Some("web"), &format!("web {i}"), t(0));
    }
    let waits = w.log.iter().filter(|d| d.kind() == "wait").count();
    assert_eq!(waits, 50, "each told once when it arrived");
    assert!(w.run(t(5)).is_empty());
    assert_eq!(w.reason_of(30), "1/1 agents busy");
}

// --- hosts -------------------------------------------------------------------

#[path = "host_tests.rs"]
mod hosts;

#[path = "pause_tests.rs"]
mod pause;

// --- jobs that wait for each other ------------------------------------------

fn wait_of(d: &[Decision], job: i64) -> Option<(WaitKind, String)> {
    d.iter().find_map(|d| match d.action {
        Action::Wait { job: j, kind } if j == job => Some((kind, d.reason.clone())),
        _ => None,
    })
}

#[test]
fn a_job_after_another_starts_only_once_it_landed() {
    // web has room for two: only the wait holds #2 back.
    let mut w = World::new("");
    assert_eq!(
        kinds(&w.task(Some("web"), "first", t(0))),
        ["create_job", "start"]
    );
    let d = w.task_after("web", &[1], t(1));
    assert_eq!(kinds(&d), ["create_job", "wait"]);
    assert_eq!(
        wait_of(&d, 2),
        Some((WaitKind::After, "after #1 (running)".into()))
    );
    // Done is not landed while its work waits for review.
    w.agent_up(1, t(2));
    let d = w.agent_ends(1, true, t(3));
    assert!(d.is_empty(), "the kind of wait did not change: {d:?}");
    assert_eq!(w.state_of(2), StateName::Queued);
    // Merged: the job after it starts, from the base as it is now.
    w.state.drop_job(1);
    w.state.land(1);
    let d = w.run(t(4));
    assert_eq!(kinds(&d), ["start"]);
    assert_eq!(w.state_of(2), StateName::Starting);
}

#[test]
fn a_job_waits_for_every_job_it_names() {
    let mut w = World::new("");
    w.task(Some("web"), "a", t(0));
    w.task(Some("web"), "b", t(0));
    w.task_after("web", &[1, 2], t(0));
    w.state.drop_job(1);
    w.state.land(1);
    assert!(kinds(&w.run(t(1))).is_empty());
    assert_eq!(w.state.jobs[&3].after, [2]);
    w.state.drop_job(2);
    w.state.land(2);
    assert_eq!(kinds(&w.run(t(2))), ["start"]);
}

#[test]
fn a_failed_dependency_holds_the_job_with_that_reason_until_retried() {
    let mut w = World::new("[scheduler]\nmax_attempts = 1\n");
    w.task(Some("web"), "a", t(0));
    w.task_after("web", &[1], t(0));
    w.agent_up(1, t(1));
    let d = w.agent_ends(1, false, t(2));
    assert_eq!(kinds(&d), ["give_up", "wait"], "{d:?}");
    assert_eq!(
        wait_of(&d, 2),
        Some((WaitKind::AfterFailed, "after #1 (failed)".into()))
    );
    // Nothing more is told while nothing changes in kind.
    assert!(w.run(t(3)).is_empty());
    // The operator retries #1: #2 waits for it again.
    let mut j = w.state.jobs[&1].clone();
    j.state = JobState::new(t(4));
    j.gave_up = false;
    j.attempts = 0;
    w.state.put_job(j);
    let d = w.run(t(4));
    assert_eq!(kinds(&d), ["start", "wait"]);
    assert_eq!(
        wait_of(&d, 2),
        Some((WaitKind::After, "after #1 (queued)".into()))
    );
    assert_eq!(w.state_of(2), StateName::Queued);
}

#[test]
fn a_killed_dependency_known_only_as_settled_holds_the_job() {
    let mut w = World::new("");
    w.task(Some("web"), "a", t(0));
    w.task_after("web", &[1], t(0));
    w.state.drop_job(1);
    w.state.settle(1, AfterState::Killed);
    let d = w.run(t(1));
    assert_eq!(
        wait_of(&d, 2),
        Some((WaitKind::AfterFailed, "after #1 (killed)".into()))
    );
}

#[test]
fn a_job_that_waits_does_not_hold_up_the_queue_behind_it() {
    // api has one agent: #2 waits for #1, #3 (lower priority, later) may start.
    let mut w = World::new("");
    w.task(Some("web"), "a", t(0));
    w.task_after("api", &[1], t(0));
    let d = w.task(Some("api"), "c", t(1));
    assert_eq!(kinds(&d), ["create_job", "start"]);
    assert_eq!(w.state_of(3), StateName::Starting);
    assert_eq!(w.state_of(2), StateName::Queued);
}
