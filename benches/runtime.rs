//! The tmux runtime's figures: 20 panes captured over control mode against
//! 20 `tmux capture-pane` processes; text sent until visible; the CPU of a
//! client watching 20 quiet panes.

use std::time::{Duration, Instant};

mod common;

use common::cpu_seconds;
use criterion::{Criterion, criterion_group, criterion_main};
use switchboard::home::Home;
use switchboard::runtime::{ControlClient, SpawnSpec, TmuxServer, wait_for_prompt};

const PANES: usize = 20;

struct Panes {
    _dir: tempfile::TempDir,
    server: TmuxServer,
    names: Vec<String>,
}

impl Drop for Panes {
    fn drop(&mut self) {
        let _ = self.server.kill_server();
    }
}

fn panes(argv: &[&str]) -> Panes {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("home"));
    home.ensure().unwrap();
    let server = TmuxServer::for_home(&home, 2000).unwrap();
    let names: Vec<String> = (1..=PANES).map(|n| format!("sb-{n}-1")).collect();
    for name in &names {
        server
            .spawn(&SpawnSpec {
                name: name.clone(),
                cwd: dir.path().to_path_buf(),
                argv: argv.iter().map(|s| s.to_string()).collect(),
                env: vec![],
            })
            .unwrap();
    }
    Panes {
        _dir: dir,
        server,
        names,
    }
}

fn capture_twenty(c: &mut Criterion) {
    let p = panes(&["sh", "-c", "seq 1 40; sleep 3600"]);
    let names: Vec<&str> = p.names.iter().map(String::as_str).collect();
    let client = ControlClient::new(p.server.clone());
    client.capture_many(&names).unwrap();
    let mut group = c.benchmark_group("runtime");
    group.bench_function("capture_20_panes_control_mode", |b| {
        b.iter(|| assert_eq!(client.capture_many(&names).unwrap().len(), PANES))
    });
    group.bench_function("capture_20_panes_20_processes", |b| {
        b.iter(|| {
            for name in &names {
                p.server.capture(name, false, 0).unwrap();
            }
        })
    });
    group.finish();

    // A client watching 20 quiet panes, refreshing every 100 ms for 5 s.
    let start_cpu = cpu_seconds("self");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(5) {
        client.capture_many(&names).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    let used = cpu_seconds("self") - start_cpu;
    eprintln!(
        "watching {PANES} quiet panes every 100 ms over control mode: {:.2}% of one core (client process)",
        used / start.elapsed().as_secs_f64() * 100.0
    );
}

fn text_until_visible(c: &mut Criterion) {
    let p = panes(&["sh", "-c", "stty -echo; cat"]);
    let name = p.names[0].clone();
    let client = ControlClient::new(p.server.clone());
    std::thread::sleep(Duration::from_millis(300));
    let mut n = 0u64;
    c.bench_function("runtime/text_sent_until_visible", |b| {
        b.iter(|| {
            n += 1;
            let marker = format!("marker-{n}");
            client.send_text(&name, &marker, Duration::ZERO, 0).ok();
            let deadline = Instant::now() + Duration::from_secs(5);
            while !client.capture_many(&[&name]).unwrap()[0].contains(&marker) {
                assert!(Instant::now() < deadline, "{marker} never showed");
            }
        })
    });
    let shown = regex::Regex::new("marker-1").unwrap();
    wait_for_prompt(&p.server, &name, &shown, Duration::from_secs(1)).ok();
}

criterion_group!(benches, capture_twenty, text_until_visible);
criterion_main!(benches);
