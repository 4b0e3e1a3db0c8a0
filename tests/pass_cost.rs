//! An engine pass costs what changed: at rest it does not run the
//! scheduler (which reads every job not over), and a write by another
//! process, or a job to start, makes the next pass run it.

mod common;

use common::engine::{FAST, home_with};
use std::time::{Duration, Instant};
use switchboard::config::Config;
use switchboard::engine::Engine;
use switchboard::home::Home;

use switchboard::journal::{Journal, NewJob};
use switchboard::model::Timestamp;

#[test]
fn a_pass_at_rest_skips_the_scheduler_and_news_brings_it_back() {
    let sb = home_with(FAST, &["api"]);
    let home = Home::at(sb.home());
    let config = Config::load(&home.config_file()).expect("config");
    let mut engine = Engine::start(home, config).expect("engine");
    let server = engine.server.clone();
    let _stop = scopeguard(move || {
        let _ = server.kill_server();
    });

    engine.pass().expect("pass");
    engine.pass().expect("pass");
    engine.pass().expect("pass");
    assert_eq!(
        engine.schedule_counts,
        (1, 2),
        "at rest: one schedule, then skips"
    );

    // Another process dispatches: the next pass schedules and starts it.
    let id = sb
        .journal()
        .dispatch(
            &NewJob::task(Some("api".into()), "hello".into(), 0),
            Timestamp::now(),
        )
        .expect("dispatch");
    engine.pass().expect("pass");
    assert_eq!(engine.schedule_counts.0, 2, "{:?}", engine.schedule_counts);
    let job = engine.journal.job(id).expect("journal").expect("job");
    assert_ne!(job.state.name().as_str(), "queued", "{job:?}");
}

/// Runs `f` when dropped (the test's tmux server is ended even when it fails).
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}

const QUIET: &str = r#"
[scheduler]
active_interval = "200ms"
idle_interval = "500ms"
[agents.quiet]
command = ["{switchboard}", "demo-agent", "--hang", "{prompt}"]
prompt = "argv"
"#;

#[test]
fn the_patrol_reads_only_the_panes_that_changed() {
    let config = QUIET.replace("{switchboard}", env!("CARGO_BIN_EXE_switchboard"));
    let sb = common::engine::home_with(&config, &[]);
    for name in ["api", "web"] {
        let repo = sb.repo(name);
        sb.run(&[
            "project",
            "add",
            name,
            repo.to_str().expect("utf-8"),
            "--agent",
            "quiet",
        ])
        .ok();
    }
    let home = Home::at(sb.home());
    let config = Config::load(&home.config_file()).expect("config");
    let mut engine = Engine::start(home, config).expect("engine");
    let server = engine.server.clone();
    let _stop = scopeguard(move || {
        let _ = server.kill_server();
    });
    for project in ["api", "web"] {
        engine
            .journal
            .dispatch(
                &NewJob::task(Some(project.into()), "hold on".into(), 0),
                Timestamp::now(),
            )
            .expect("dispatch");
    }
    // Until both agents run and their screens have settled (three passes
    // in a row without a read).
    common::engine::pass_until_settled(&mut engine, 2, 60, Duration::from_millis(100));
    let reads = engine.screen_reads;
    assert!(
        reads >= 2,
        "each agent's screen was read at least once: {reads}"
    );
    for _ in 0..10 {
        engine.pass().expect("pass");
    }
    assert_eq!(
        engine.screen_reads, reads,
        "unchanged panes were read again"
    );
    // Quiet for a whole second of tmux's clock: not even captured.
    std::thread::sleep(Duration::from_millis(1100));
    engine.pass().expect("pass");
    let captures = engine.screen_captures;
    for _ in 0..10 {
        engine.pass().expect("pass");
    }
    assert_eq!(
        engine.screen_captures, captures,
        "quiet panes were captured again"
    );

    // One agent's screen changes (text typed into its pane): that pane, and
    // only it, is read again.
    let session = engine.server.sessions().expect("sessions")[0].name.clone();
    engine
        .server
        .run(&["send-keys", "-t", &format!("={session}:"), "-l", "x"])
        .expect("type");
    std::thread::sleep(Duration::from_millis(200));
    engine.pass().expect("pass");
    assert_eq!(engine.screen_reads, reads + 1);
    assert_eq!(
        engine.screen_captures,
        captures + 1,
        "the pane with new output, and only it, is captured"
    );
}

/// An engine on a fresh home with `n` quiet agents running, their
/// screens settled (three passes in a row without a read).
fn engine_with_agents(dir: &std::path::Path, n: usize) -> Engine {
    let mut engine = engine_in(dir, n as u32);
    for i in 0..n {
        engine
            .journal
            .dispatch(
                &NewJob::task(Some("api".into()), format!("hold on {i}"), 0),
                Timestamp::now(),
            )
            .expect("dispatch");
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut still = 0;
    while still < 3 {
        assert!(Instant::now() < deadline, "the agents did not settle");
        let before = engine.screen_reads;
        engine.pass().expect("pass");
        let running = engine.journal.active_job_count().expect("count") as usize;
        let starting = engine
            .journal
            .jobs(&switchboard::journal::JobFilter {
                state: Some(switchboard::model::StateName::Starting),
            })
            .expect("jobs")
            .len();
        still = if running == n && starting == 0 && engine.screen_reads == before {
            still + 1
        } else {
            0
        };
        std::thread::sleep(Duration::from_millis(100));
    }
    engine
}

/// The journal statements of each of `passes` passes at rest.
fn statements_per_pass(engine: &mut Engine, passes: usize) -> Vec<u64> {
    (0..passes)
        .map(|_| {
            let before = engine.journal.statements();
            engine.pass().expect("pass");
            engine.journal.statements() - before
        })
        .collect()
}

#[test]
fn a_pass_at_rest_runs_as_many_journal_statements_with_40_agents_as_with_4() {
    let mut counts = Vec::new();
    for n in [4, 40] {
        let dir = tempfile::tempdir().expect("dir");
        let mut engine = engine_with_agents(dir.path(), n);
        let server = engine.server.clone();
        let _stop = scopeguard(move || {
            let _ = server.kill_server();
        });
        let mut per_pass = statements_per_pass(&mut engine, 10);
        per_pass.sort();
        counts.push((n, per_pass));
    }
    // The median pass: a pass now and then also follows deliveries (at
    // the idle interval), whatever the number of agents.
    let median = |c: &[u64]| c[c.len() / 2];
    assert_eq!(
        median(&counts[0].1),
        median(&counts[1].1),
        "journal statements per pass at rest, by agents: {counts:?}"
    );
}

// Figures: an engine pass with 100 and with 10,000 finished jobs in the
// journal, side by side, at rest and with the scheduler made to run (a
// write by another process before each pass). Goal: a ratio near 1.
// `cargo test --test pass_cost -- --ignored --nocapture`
/// Finished work behind `engine`: `n` done jobs, each with an event, a
/// merged review item, a chained alarm and a processed ticket message.
fn history(engine: &Engine, n: usize) {
    let conn = rusqlite::Connection::open(engine.home.journal_file()).unwrap();
    conn.execute_batch(&format!(
        "BEGIN;
         WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < {n})
         INSERT INTO jobs (kind, state, state_since, title, prompt, project, created_at, updated_at)
             SELECT 'task', 'done', i, 'old', 'old', 'api', i, i FROM k;
         INSERT INTO events (at, job_id, kind, message) SELECT id, id, 'done', 'old' FROM jobs;
         INSERT INTO review_items (job_id, attempt, project, branch, state, created_at, updated_at)
             SELECT id, 1, 'api', 'b', 'merged', id, id FROM jobs;
         INSERT INTO alarms (account, name, state, at, received_at, chain_id)
             SELECT '123', 'cpu', 'ALARM', id, id, 0 FROM jobs;
         INSERT INTO messages (received_at, kind, source, body, processed_at)
             SELECT id, 'ticket', 'old', '{{}}', id FROM jobs;
         WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 20)
         INSERT INTO jobs (kind, state, state_since, title, prompt, project, created_at, updated_at)
             SELECT 'task', 'queued', i, 'waits', 'waits', 'held', i, i FROM k;
         COMMIT;"
    ))
    .unwrap();
}

#[test]
#[ignore = "a measurement: two engines, 600 passes each"]
fn figures_pass_with_history() {
    const PASSES: usize = 300;
    let mut rows = Vec::new();
    for n in [100, 10_000] {
        let dir = tempfile::tempdir().unwrap();
        let mut engine = engine_in(dir.path(), 1);
        history(&engine, n);
        let mut other = Journal::open(&engine.home.journal_file()).unwrap();
        engine.pass().unwrap();
        let mut at_rest = Vec::new();
        for _ in 0..PASSES {
            let start = Instant::now();
            engine.pass().unwrap();
            at_rest.push(start.elapsed());
        }
        let mut scheduled = Vec::new();
        for i in 0..PASSES {
            // Another process writes: the next pass must run the scheduler.
            other
                .record_note("bench", &format!("news {i}"), Timestamp::now())
                .unwrap();
            let start = Instant::now();
            engine.pass().unwrap();
            scheduled.push(start.elapsed());
        }
        rows.push((n, p50(at_rest), p50(scheduled), engine.schedule_counts));
        let _ = engine.server.kill_server();
    }
    println!("load average {}", load());
    for (n, rest, sched, counts) in &rows {
        println!(
            "engine pass, {n:>6} finished jobs + 20 queued: at rest p50 {rest:?}, \
             scheduler run p50 {sched:?} (scheduler runs, skips: {counts:?})"
        );
    }
    println!(
        "10,000 / 100 finished jobs: at rest {:.2}x, with the scheduler {:.2}x",
        rows[1].1.as_secs_f64() / rows[0].1.as_secs_f64(),
        rows[1].2.as_secs_f64() / rows[0].2.as_secs_f64()
    );
}

fn p50(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// An engine on a fresh home under `dir` with one project, `api`,
/// `agents` at a time.
fn engine_in(dir: &std::path::Path, agents: u32) -> Engine {
    let config = QUIET.replace("{switchboard}", env!("CARGO_BIN_EXE_switchboard"));
    let home = Home::at(dir.join("home"));
    home.ensure().expect("home");
    std::fs::write(home.config_file(), config).expect("config");
    let repo = dir.join("api");
    std::fs::create_dir_all(&repo).expect("repo");
    common::git(&repo, &["init", "-q", "-b", "main"]);
    common::git(&repo, &["commit", "-q", "--allow-empty", "-m", "init"]);
    let mut config = Config::load(&home.config_file()).expect("config");
    config.scheduler.max_agents = agents;
    let mut engine = Engine::start(home, config).expect("engine");
    engine
        .journal
        .add_project(&switchboard::model::Project {
            name: "api".into(),
            path: repo,
            base_branch: "main".into(),
            agent: Some("quiet".into()),
            max_agents: agents,
            host: switchboard::model::HostName::local(),
            created_at: Timestamp::now(),
        })
        .expect("project");
    engine
}

// Figures: an engine pass at rest with `SWITCHBOARD_AGENTS` (default 100)
// quiet agents: its time and its journal statements.
// `cargo test --test pass_cost figures_pass_with_agents -- --ignored --nocapture`
#[test]
#[ignore = "a measurement: many live agents, 300 passes"]
fn figures_pass_with_agents() {
    let n: usize = std::env::var("SWITCHBOARD_AGENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let dir = tempfile::tempdir().expect("dir");
    let mut engine = engine_with_agents(dir.path(), n);
    let server = engine.server.clone();
    let _stop = scopeguard(move || {
        let _ = server.kill_server();
    });
    let mut times = Vec::new();
    let statements = engine.journal.statements();
    for _ in 0..300 {
        let start = Instant::now();
        engine.pass().expect("pass");
        times.push(start.elapsed());
    }
    let statements = (engine.journal.statements() - statements) / 300;
    times.sort();
    println!("load average {}", load());
    println!(
        "engine pass at rest, {n} quiet agents: p50 {:?}, p90 {:?}; {statements} journal statements a pass",
        times[times.len() / 2],
        times[times.len() * 9 / 10]
    );
}
