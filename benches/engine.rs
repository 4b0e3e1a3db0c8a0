//! The engine's figures: one patrol pass over 20 agents, the CPU of an
//! engine watching 20 quiet agents, and an agent's end to its review item.

use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::cpu_seconds;
use criterion::{Criterion, criterion_group, criterion_main};
use switchboard::config::Config;
use switchboard::engine::Engine;
use switchboard::home::Home;
use switchboard::journal::{JobFilter, NewJob};
use switchboard::model::{Project, StateName, Timestamp};

const AGENTS: usize = 20;

fn git(dir: &std::path::Path, args: &[&str]) {
    let ok = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "b")
        .env("GIT_AUTHOR_EMAIL", "b@b")
        .env("GIT_COMMITTER_NAME", "b")
        .env("GIT_COMMITTER_EMAIL", "b@b")
        .status()
        .unwrap()
        .success();
    assert!(ok, "git {args:?}");
}

/// A home with a project and an engine, with `config` over the defaults.
fn engine(dir: &std::path::Path, config: &str) -> Engine {
    let home = Home::at(dir.join("home"));
    home.ensure().unwrap();
    // The agents run the real binary (this process is the benchmark).
    let config = config.replace("{switchboard}", env!("CARGO_BIN_EXE_switchboard"));
    std::fs::write(home.config_file(), config).unwrap();
    let repo = dir.join("api");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["commit", "-q", "--allow-empty", "-m", "init"]);
    let config = Config::load(&home.config_file()).unwrap();
    let mut engine = Engine::start(home, config).unwrap();
    engine
        .journal
        .add_project(&Project {
            name: "api".into(),
            path: repo,
            base_branch: "main".into(),
            agent: None,
            max_agents: AGENTS as u32,
            host: switchboard::model::HostName::local(),
            created_at: Timestamp::now(),
        })
        .unwrap();
    engine
}

const QUIET: &str = r#"
[scheduler]
max_agents = 20
[routing]
default_agent = "quiet"
[agents.quiet]
command = ["{switchboard}", "demo-agent", "--hang", "{prompt}"]
"#;

fn patrol_and_rest(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut engine = engine(dir.path(), QUIET);
    for n in 0..AGENTS {
        engine
            .journal
            .dispatch(
                &NewJob::task(Some("api".into()), format!("quiet {n}"), 0),
                Timestamp::now(),
            )
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while engine
        .journal
        .jobs(&JobFilter {
            state: Some(StateName::Running),
        })
        .unwrap()
        .len()
        < AGENTS
    {
        engine.pass().unwrap();
        assert!(Instant::now() < deadline, "agents did not start");
    }
    c.bench_function("engine/pass_over_20_agents", |b| {
        b.iter(|| engine.pass().unwrap())
    });
    let before = cpu_seconds("self");
    let start = Instant::now();
    engine.run_for(Duration::from_secs(10)).unwrap();
    eprintln!(
        "engine watching {AGENTS} quiet agents (default intervals) for 10 s: {:.2}% of one core",
        (cpu_seconds("self") - before) / start.elapsed().as_secs_f64() * 100.0
    );
    let _ = engine.server.kill_server();
}

const FAST: &str = r#"
[routing]
default_agent = "fast"
[agents.fast]
command = ["{switchboard}", "demo-agent", "--steps", "1", "--step-ms", "10", "{prompt}"]
"#;

fn end_to_review(_c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut engine = engine(dir.path(), FAST);
    let mut latencies = Vec::new();
    for n in 0..5 {
        let id = engine
            .journal
            .dispatch(
                &NewJob::task(Some("api".into()), format!("fast {n}"), 0),
                Timestamp::now(),
            )
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while engine.journal.review_item(id).unwrap().is_none() {
            engine.run_for(Duration::from_millis(100)).unwrap();
            assert!(Instant::now() < deadline, "no review item");
        }
        let done = engine.journal.latest_status_report(id).unwrap().unwrap().at;
        let reviewed = engine.journal.review_item(id).unwrap().unwrap().created_at;
        latencies.push(reviewed.millis() - done.millis());
    }
    latencies.sort();
    eprintln!(
        "agent reported done -> review item: {latencies:?} ms (active_interval {:?})",
        engine.config.scheduler.active_interval
    );
    let _ = engine.server.kill_server();
}

criterion_group!(benches, patrol_and_rest, end_to_review);
criterion_main!(benches);
