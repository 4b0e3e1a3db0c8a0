//! Cost against the size of the history and the number of agents, printed
//! as figures (not criterion: each takes a whole engine). Run one part:
//!
//! - `cargo bench --bench scale -- history`: an engine pass with 100 and
//!   with 10,000 finished jobs in the journal, side by side, at rest and
//!   with the scheduler made to run. Goal: a ratio near 1.

use std::process::Command;
use std::time::{Duration, Instant};

use switchboard::config::Config;
use switchboard::engine::Engine;
use switchboard::home::Home;
use switchboard::journal::Journal;
use switchboard::model::{Project, Timestamp};

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

/// A home with a project `api` allowing `agents` agents, and its engine.
fn engine(dir: &std::path::Path, config: &str, agents: u32) -> Engine {
    let home = Home::at(dir.join("home"));
    home.ensure().unwrap();
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
            max_agents: agents,
            host: switchboard::model::HostName::local(),
            created_at: Timestamp::now(),
        })
        .unwrap();
    engine
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

const IDLE: &str = r#"
[routing]
default_agent = "quiet"
[agents.quiet]
command = ["{switchboard}", "demo-agent", "--hang", "{prompt}"]
"#;

fn pass_with_history() {
    const PASSES: usize = 300;
    let mut rows = Vec::new();
    for n in [100, 10_000] {
        let dir = tempfile::tempdir().unwrap();
        let mut engine = engine(dir.path(), IDLE, 1);
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

fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run = |name: &str| wanted.is_empty() || wanted.iter().any(|w| name.contains(w.as_str()));
    if run("history") {
        pass_with_history();
    }
}
