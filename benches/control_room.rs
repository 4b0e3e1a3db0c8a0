//! The control room's figures: drawing one frame of a busy room; how soon
//! an agent's new output is in the Live pane; what an idle room costs
//! (the real binary in a tmux pane, nothing changing).

use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod common;

use common::{cpu_seconds, empty_repository};
use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use switchboard::home::Home;
use switchboard::journal::ReviewView;
use switchboard::model::{Job, JobKind, JobState, Progress, Timestamp};
use switchboard::runtime::{ControlClient, SpawnSpec, TmuxServer};
use switchboard::scheduler::Chain;
use switchboard::tui::app::{App, EngineState, Snapshot};
use switchboard::tui::capture::read_capture;
use switchboard::tui::draw::draw;
use switchboard::tui::events::RoomEvent;
use switchboard::tui::watch::{Request, Watcher};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");
const DEMO: &str = include_str!("../tests/fixtures/screens/demo_colour_busy.ans");

fn busy_room() -> App {
    let t = |s: i64| Timestamp::from_millis(1_800_000_000_000 + s * 1000);
    let jobs = (1..=1000)
        .map(|id| Job {
            id,
            kind: [JobKind::Task, JobKind::Ticket, JobKind::Incident][id as usize % 3],
            state: match id % 4 {
                0 => JobState::Queued {
                    since: t(id),
                    not_before: None,
                },
                1 => JobState::Running {
                    attempt: 1,
                    since: t(id),
                },
                2 => JobState::Done {
                    attempt: 1,
                    at: t(id),
                },
                _ => JobState::Failed {
                    attempt: 1,
                    at: t(id),
                    reason: "exit 1".into(),
                },
            },
            project: Some(format!("project-{}", id % 7)),
            title: format!("job number {id}: make the thing better"),
            prompt: String::new(),
            agent: None,
            priority: id % 5,
            attempts: 1,
            created_at: t(id),
            progress: Progress {
                percent: Some((id % 100) as u8),
                note: None,
            },
            reason: (id % 4 == 0).then(|| "repo claimed by another job".into()),
            after: Vec::new(),
        })
        .collect();
    let chains = (1..=50)
        .map(|id| Chain {
            id,
            account: format!("{:012}", id),
            first_at: t(id),
            latest_at: t(id + 100),
            alarms: id as u64,
            resolved: id % 2 == 0,
            job: Some(id),
        })
        .collect();
    let reviews = (1..=20)
        .map(|job| ReviewView {
            job,
            project: "api".into(),
            branch: format!("switchboard/{job}"),
            state: "ready".into(),
            files: 3,
            insertions: 40,
            deletions: 2,
            created_at: t(job),
            url: None,
            delivery: None,
            head: None,
        })
        .collect();
    let mut app = App::new(EngineState::Running);
    app.set_snapshot(Snapshot {
        jobs,
        chains,
        reviews,
        projects: vec!["api".into()],
        bases: Default::default(),
        delivers: Default::default(),
        max_agents: 8,
        task_priority: 0,
        chain_window: Duration::from_secs(3600),
        now: Some(t(2000)),
        ..Snapshot::default()
    });
    // A 200-line capture with the demo agent's colours.
    let capture: String = DEMO
        .lines()
        .cycle()
        .take(200)
        .collect::<Vec<_>>()
        .join("\n");
    let running = app.queue_job().map(|j| j.id);
    app.set_live(running, read_capture(&capture), Some("busy"), t(1999));
    app
}

fn draw_a_busy_room(c: &mut Criterion) {
    let app = busy_room();
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    c.bench_function(
        "control_room/draw_1000_jobs_50_chains_20_reviews_200_lines",
        |b| {
            b.iter(|| {
                terminal.draw(|f| draw(&app, f)).unwrap();
            })
        },
    );
}

fn nanos_now() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

/// An agent that prints a numbered line with the time it printed it,
/// every 20 ms; the room's watcher captures its pane, the capture is
/// read and drawn; the latency is from the printing to the drawn frame.
fn live_latency(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("home"));
    home.ensure().unwrap();
    let server = TmuxServer::for_home(&home, 2000).unwrap();
    let script = "i=0; while :; do i=$((i+1)); echo \"tick $i $(date +%s%N)\"; sleep 0.02; done";
    server
        .spawn(&SpawnSpec {
            name: "sb-1-1".into(),
            cwd: dir.path().to_path_buf(),
            argv: vec!["sh".into(), "-c".into(), script.into()],
            env: vec![],
        })
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let watcher = Watcher::start(ControlClient::new(server.clone()), tx).unwrap();
    watcher.want(Request {
        sessions: vec!["sb-1-1".into()],
        history: 0,
        hosts: Vec::new(),
    });
    let mut app = busy_room();
    app.set_snapshot(Snapshot {
        jobs: vec![Job {
            id: 1,
            kind: JobKind::Task,
            state: JobState::Running {
                attempt: 1,
                since: Timestamp::now(),
            },
            project: None,
            title: "ticker".into(),
            prompt: String::new(),
            agent: None,
            priority: 0,
            attempts: 1,
            created_at: Timestamp::now(),
            progress: Progress::default(),
            reason: None,
            after: Vec::new(),
        }],
        ..Snapshot::default()
    });
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).unwrap();
    let mut seen = 0u64;
    let mut samples = Vec::new();
    c.bench_function("control_room/agent_output_to_live_pane", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                loop {
                    let Ok(RoomEvent::Captures(captures)) = rx.recv_timeout(Duration::from_secs(5))
                    else {
                        panic!("no capture in 5 s")
                    };
                    let Some((_, raw)) = captures.into_iter().last() else {
                        continue;
                    };
                    app.set_live(Some(1), read_capture(&raw), Some("busy"), Timestamp::now());
                    terminal.draw(|f| draw(&app, f)).unwrap();
                    let drawn = nanos_now();
                    // The newest tick in the drawn frame.
                    let newest = app.live.text.lines.iter().rev().find_map(|l| {
                        let line: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
                        let mut words = line.split_whitespace();
                        (words.next() == Some("tick")).then_some(())?;
                        let n: u64 = words.next()?.parse().ok()?;
                        let at: u128 = words.next()?.parse().ok()?;
                        Some((n, at))
                    });
                    if let Some((n, at)) = newest
                        && n > seen
                    {
                        seen = n;
                        let latency = Duration::from_nanos(drawn.saturating_sub(at) as u64);
                        samples.push(latency);
                        total += latency;
                        break;
                    }
                }
            }
            total
        })
    });
    samples.sort();
    if !samples.is_empty() {
        eprintln!(
            "agent output to the Live pane: p50 {:?}, p95 {:?}, max {:?} over {} lines",
            samples[samples.len() / 2],
            samples[samples.len() * 95 / 100],
            samples[samples.len() - 1],
            samples.len()
        );
    }
    drop(watcher);
    let _ = server.kill_server();
}

fn frames_drawn(home: &Home) -> usize {
    std::fs::read_to_string(home.log_file())
        .unwrap_or_default()
        .matches("control room frame drawn")
        .count()
}

/// The real binary in a tmux pane on a home with 20 finished jobs and no
/// agent: after it settles, 30 s inside one minute (the clock shows
/// minutes), its CPU and the frames it drew.
fn idle_room(_c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("home"));
    home.ensure().unwrap();
    let repo = empty_repository(dir.path(), "repo");
    let sb = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .env("SWITCHBOARD_HOME", home.root())
            .output()
            .unwrap()
    };
    sb(&["project", "add", "api", repo.to_str().unwrap()]);
    for n in 1..=20 {
        sb(&["dispatch", "api", &format!("task {n}")]);
        sb(&["kill", &n.to_string()]);
    }
    let terminal = common::Terminal::new(dir.path());
    let script = format!(
        "SWITCHBOARD_LOG=debug SWITCHBOARD_HOME='{}' '{BIN}'",
        home.root().display()
    );
    terminal.open_script("room", &script);
    // Settle: the engine carries out the kills; then wait for a new minute.
    std::thread::sleep(Duration::from_secs(5));
    let pid = terminal.child_pid("room").unwrap_or_else(|| {
        terminal
            .tmux(&["list-panes", "-t", "=room:", "-F", "#{pane_pid}"])
            .trim()
            .to_string()
    });
    let second = || (nanos_now() / 1_000_000_000 % 60) as u64;
    while second() != 3 {
        std::thread::sleep(Duration::from_millis(200));
    }
    let (cpu, frames, start) = (cpu_seconds(&pid), frames_drawn(&home), Instant::now());
    std::thread::sleep(Duration::from_secs(30));
    let used = cpu_seconds(&pid) - cpu;
    let drawn = frames_drawn(&home) - frames;
    eprintln!(
        "idle control room (20 finished jobs, engine in process), 30 s: {:.2}% of one core, {drawn} frames drawn",
        used / start.elapsed().as_secs_f64() * 100.0
    );
    drop(terminal);
    let _ = TmuxServer::for_home(&home, 2000).map(|s| s.kill_server());
}

criterion_group!(benches, draw_a_busy_room, live_latency, idle_room);
criterion_main!(benches);
