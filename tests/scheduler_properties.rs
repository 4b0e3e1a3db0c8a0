//! Property tests over random scenarios: the scheduler's promises hold
//! whatever arrives, in whatever order.

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use switchboard::model::{AlarmMessage, AlarmState, HostName, StateName, TicketMessage, Timestamp};
use switchboard::scheduler::{Action, Arrival, Decision};
use switchboard::simulator::{AgentRule, Line, Simulation};

const T0: i64 = 1_800_000_000_000;

/// One random happening.
#[derive(Debug, Clone)]
enum Step {
    Ticket {
        key: u8,
    },
    Alarm {
        account: u8,
        ok: bool,
        skew_min: i64,
    },
    Task {
        project: u8,
    },
    Drain(bool),
    /// Host b1 (web and ops) found out of reach, or back.
    HostReachable(bool),
}

fn step() -> impl Strategy<Value = (u32, Step)> {
    let step = prop_oneof![
        (0u8..6).prop_map(|key| Step::Ticket { key }),
        (0u8..4, any::<bool>(), -90i64..30).prop_map(|(account, ok, skew_min)| Step::Alarm {
            account,
            ok,
            skew_min
        }),
        (0u8..3).prop_map(|project| Step::Task { project }),
        any::<bool>().prop_map(Step::Drain),
        any::<bool>().prop_map(Step::HostReachable),
    ];
    // Minutes since the previous step, and the step.
    (0u32..40, step)
}

fn scenario() -> impl Strategy<Value = (u32, u32, u32, u32, Vec<(u32, Step)>)> {
    (
        1u32..4,
        1u32..4,
        5u32..90,
        0u32..3,
        proptest::collection::vec(step(), 1..80),
    )
}

const PROJECTS: [&str; 3] = ["api", "web", "ops"];

/// web and ops run on host b1, which takes this many agents at once.
const HOST_AGENTS: u32 = 2;

/// Runs a scenario, checking the promises after every step; returns the
/// decisions as JSON lines.
fn run(
    max_agents: u32,
    api_agents: u32,
    minutes: u32,
    fails: u32,
    steps: &[(u32, Step)],
    seed: u64,
) -> String {
    let mut sim = Simulation::new(seed).unwrap();
    let mut out = String::new();
    let mut jobs_of_key: HashMap<String, u32> = HashMap::new();
    let mut log = |d: &Decision| {
        out.push_str(&serde_json::to_string(d).unwrap());
        out.push('\n');
        if let Action::OpenTicket { key, .. } = &d.action {
            *jobs_of_key.entry(key.clone()).or_default() += 1;
        }
    };
    let config: toml::Table = format!(
        "[scheduler]\nmax_agents = {max_agents}\nmax_attempts = 2\nretry_backoff = \"2m\"\njob_timeout = \"3h\"\n\
         [routing]\ndefault_project = \"ops\"\njira = {{ \"WEB\" = \"web\" }}\naccounts = {{ \"acct0\" = \"api\" }}\n\
         [hosts.b1]\naddress = \"b1\"\nmax_agents = {HOST_AGENTS}\n"
    )
    .parse()
    .unwrap();
    sim.feed(Line::Config(config), &mut log).unwrap();
    sim.feed(
        Line::Project {
            name: "api".into(),
            max_agents: api_agents,
            host: None,
        },
        &mut log,
    )
    .unwrap();
    sim.feed(
        Line::Project {
            name: "web".into(),
            max_agents: 2,
            host: Some(b1()),
        },
        &mut log,
    )
    .unwrap();
    sim.feed(
        Line::Project {
            name: "ops".into(),
            max_agents: 1,
            host: Some(b1()),
        },
        &mut log,
    )
    .unwrap();
    sim.feed(
        Line::Agent(AgentRule {
            duration: std::time::Duration::from_secs(60 * u64::from(minutes)),
            fail_attempts: fails,
            ..AgentRule::default()
        }),
        &mut log,
    )
    .unwrap();
    let limits: BTreeMap<&str, u32> = [("api", api_agents), ("web", 2), ("ops", 1)].into();
    let mut clock = T0;
    let mut down = false;
    for (gap, step) in steps {
        clock += i64::from(*gap) * 60_000;
        let now = Timestamp::from_millis(clock);
        let was_down = down;
        let before = on_b1(&sim);
        let arrival = match step {
            Step::Ticket { key } => Some(Arrival::Ticket(TicketMessage {
                key: format!("{}-{key}", if key % 2 == 0 { "WEB" } else { "OPS" }),
                title: "t".into(),
                body: String::new(),
                project: None,
                event: None,
            })),
            Step::Alarm {
                account,
                ok,
                skew_min,
            } => Some(Arrival::Alarm {
                alarm: AlarmMessage {
                    account: format!("acct{account}"),
                    name: "CPU".into(),
                    state: if *ok {
                        AlarmState::Ok
                    } else {
                        AlarmState::Alarm
                    },
                    at: None,
                    reason: None,
                    region: None,
                },
                at: Timestamp::from_millis(clock + skew_min * 60_000),
            }),
            Step::Task { project } => Some(Arrival::Task {
                project: Some(PROJECTS[*project as usize].into()),
                prompt: "work".into(),
                title: None,
                priority: None,
                after: Vec::new(),
            }),
            Step::HostReachable(reachable) => {
                sim.feed(
                    Line::Host {
                        at: Some(now),
                        host: b1(),
                        reachable: *reachable,
                    },
                    &mut log,
                )
                .unwrap();
                down = !reachable;
                None
            }
            Step::Drain(on) => {
                sim.feed(
                    Line::Drain {
                        at: Some(now),
                        on: *on,
                    },
                    &mut log,
                )
                .unwrap();
                None
            }
        };
        if let Some(arrival) = arrival {
            sim.arrive(Some(now), arrival, &mut log).unwrap();
        }
        check(&sim, max_agents, &limits);
        if was_down && down {
            // Out of reach the whole step: nothing started there, nothing
            // of it ended or was counted dead.
            assert_eq!(
                on_b1(&sim),
                before,
                "b1's agents changed while out of reach"
            );
        }
    }
    sim.feed(
        Line::Drain {
            at: None,
            on: false,
        },
        &mut log,
    )
    .unwrap();
    sim.finish(&mut log).unwrap();
    check(&sim, max_agents, &limits);
    for (key, n) in jobs_of_key {
        assert!(n <= 1, "ticket {key} got {n} jobs");
    }
    out
}

fn b1() -> HostName {
    HostName::parse("b1").unwrap()
}

/// The jobs with an agent on host b1.
fn on_b1(sim: &Simulation) -> Vec<i64> {
    sim.state
        .jobs
        .values()
        .filter(|j| j.is_active() && matches!(j.project.as_deref(), Some("web" | "ops")))
        .map(|j| j.id)
        .collect()
}

/// The promises that hold at every moment.
fn check(sim: &Simulation, max_agents: u32, limits: &BTreeMap<&str, u32>) {
    let state = &sim.state;
    let active: Vec<_> = state.jobs.values().filter(|j| j.is_active()).collect();
    assert!(
        active.len() as u32 <= max_agents,
        "{} agents active, limit {max_agents}",
        active.len()
    );
    for (project, limit) in limits {
        let n = active
            .iter()
            .filter(|j| j.project.as_deref() == Some(*project))
            .count() as u32;
        assert!(n <= *limit, "{n} agents in {project}, limit {limit}");
    }
    let on_host = on_b1(sim).len() as u32;
    assert!(
        on_host <= HOST_AGENTS,
        "{on_host} agents on b1, limit {HOST_AGENTS}"
    );
    // Never two active jobs for one ticket key; never two jobs for one chain.
    let mut seen_jobs = std::collections::HashSet::new();
    for ticket in state.tickets.values() {
        if let Some(job) = ticket.job {
            assert!(seen_jobs.insert(job), "job #{job} belongs to two tickets");
        }
    }
    for chains in state.chains.values() {
        for chain in chains {
            if let Some(job) = chain.job {
                assert!(
                    seen_jobs.insert(job),
                    "job #{job} belongs to two chains or a ticket and a chain"
                );
            }
        }
    }
    // Every job that waits has a reason.
    for job in state
        .jobs
        .values()
        .filter(|j| j.state.name() == StateName::Queued)
    {
        assert!(
            job.reason.as_deref().is_some_and(|r| !r.is_empty()),
            "job #{} waits with no reason",
            job.id
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn the_promises_hold_for_any_scenario((max, api, minutes, fails, steps) in scenario(), seed in any::<u64>()) {
        let first = run(max, api, minutes, fails, &steps, seed);
        let second = run(max, api, minutes, fails, &steps, seed);
        prop_assert_eq!(first, second, "same scenario and seed, same output");
    }
}
