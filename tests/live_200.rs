//! Figures with 200 live agents (the demo agent, `--hang`: a quiet agent
//! each) on a real tmux server: the engine's pass, the engine's CPU at
//! rest, and a viewer control room's CPU in the main view and in the grid.
//! A measurement, not a check: ignored by default, it prints the figures.
//!
//! `cargo test --test live_200 -- --ignored --nocapture`
//! (`SWITCHBOARD_BIN=target/release/switchboard` runs the agents and the
//! room from a release build; the engine runs in this test's process.)

mod common;

use std::ops::Not;
use std::time::{Duration, Instant};

use common::terminal::{Terminal, cpu_seconds, cpu_share};

use switchboard::config::Config;
use switchboard::engine::Engine;
use switchboard::home::Home;
use switchboard::journal::NewJob;
use switchboard::model::Timestamp;

const AGENTS: usize = 200;

fn binary() -> String {
    std::env::var("SWITCHBOARD_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_switchboard").into())
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// This thread's CPU time (the engine's passes run on it).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime(2) writes one timespec we own.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0;
    if !ok {
        return Duration::ZERO;
    }
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[test]
#[ignore = "a measurement: 200 live agents, about two minutes"]
fn figures_with_200_live_agents() {
    let config = format!(
        "[scheduler]\nmax_agents = {AGENTS}\n[agents.quiet]\ncommand = [\"{}\", \"demo-agent\", \"--hang\", \"{{prompt}}\"]\nprompt = \"argv\"\n",
        binary()
    );
    let sb = common::engine::home_with(&config, &[]);
    let repo = sb.repo("api");
    sb.run(&[
        "project",
        "add",
        "api",
        repo.to_str().expect("utf-8"),
        "--agent",
        "quiet",
        "--max-agents",
        &AGENTS.to_string(),
    ])
    .ok();
    let home = Home::at(sb.home());
    let config = Config::load(&home.config_file()).expect("config");
    let mut engine = Engine::start(home, config).expect("engine");
    let server = engine.server.clone();
    struct Stop(switchboard::runtime::TmuxServer);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill_server();
        }
    }
    let _stop = Stop(server);
    for n in 0..AGENTS {
        engine
            .journal
            .dispatch(
                &NewJob::task(Some("api".into()), format!("quiet {n}"), 0),
                Timestamp::now(),
            )
            .expect("dispatch");
    }
    let start = Instant::now();
    while engine.journal.active_job_count().expect("count") < AGENTS as u64
        || engine
            .journal
            .jobs(&switchboard::journal::JobFilter {
                state: Some(switchboard::model::StateName::Starting),
            })
            .expect("jobs")
            .is_empty()
            .not()
    {
        engine.pass().expect("pass");
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "agents did not start"
        );
    }
    let started = start.elapsed();
    // Screens settle (the agents print their task, then hold).
    for _ in 0..20 {
        engine.pass().expect("pass");
        std::thread::sleep(Duration::from_millis(100));
    }

    let reads = engine.screen_reads;
    let counts = engine.schedule_counts;
    let mut passes = Vec::new();
    // Beside each pass: its CPU, and one more `list-panes` of every
    // session (the pass makes one), to tell what the pass waits on.
    let mut cpu = Vec::new();
    let mut listings = Vec::new();
    for _ in 0..50 {
        let before_cpu = thread_cpu();
        let t = Instant::now();
        engine.pass().expect("pass");
        passes.push(t.elapsed());
        cpu.push(thread_cpu() - before_cpu);
        let t = Instant::now();
        engine.control.sessions().expect("sessions");
        listings.push(t.elapsed());
    }
    passes.sort();
    cpu.sort();
    listings.sort();
    let rereads = engine.screen_reads - reads;
    let scheduled = engine.schedule_counts.0 - counts.0;

    // The engine at rest, at its own intervals, measured on this process
    // (the engine is all it runs).
    let before = cpu_seconds("self");
    let t = Instant::now();
    engine.run_for(Duration::from_secs(20)).expect("run");
    let engine_cpu = (cpu_seconds("self") - before) / t.elapsed().as_secs_f64() * 100.0;

    // A viewer room (this process holds the engine) in a 160x48 window of
    // another tmux server, in the main view, then in the grid. The engine
    // keeps passing on a thread meanwhile.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let worker = {
        let stop = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            engine.run_until(&stop).expect("engine");
            engine
        })
    };
    let terminal = Terminal {
        socket: sb.dir.path().join("outer.sock"),
    };
    let script = format!(
        "SWITCHBOARD_HOME='{}' '{}'; sleep 120",
        sb.home().display(),
        binary()
    );
    terminal.open_script("room", &script);
    std::thread::sleep(Duration::from_secs(3));
    let room = terminal.child_pid("room").expect("room process");
    let room_main = cpu_share(&room, 20);
    terminal.tmux(&["send-keys", "-t", "=room:", "g"]);
    std::thread::sleep(Duration::from_secs(2));
    let grid_screen = terminal.screen("room");
    let room_grid = cpu_share(&room, 20);
    drop(terminal);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _engine = worker.join().expect("engine thread");

    let p = |q: usize| passes[(passes.len() - 1) * q / 100];
    println!("load average at the end: {}", load());
    println!("{AGENTS} agents started in {started:.1?}");
    println!(
        "engine pass over {AGENTS} quiet agents: p50 {:?}, p90 {:?}, max {:?} (50 passes; screens read again: {rereads}, scheduler runs: {scheduled})",
        p(50),
        p(90),
        p(100)
    );
    let mid = |v: &[Duration]| v[(v.len() - 1) / 2];
    println!(
        "of a pass: its CPU p50 {:?}; one list-panes of every session, timed between passes, p50 {:?}",
        mid(&cpu),
        mid(&listings)
    );
    println!("engine at rest, 20 s at its own intervals: {engine_cpu:.2}% of one core");
    println!("viewer room, main view, 20 s: {room_main:.2}% of one core");
    println!("viewer room, grid, 20 s: {room_grid:.2}% of one core");
    println!(
        "grid's first line: {}",
        grid_screen.lines().nth(1).unwrap_or_default().trim()
    );
}
