//! What the engine's one `list-panes -a -F` costs over 200 quiet panes,
//! by format, side by side in one run: each round asks once in each
//! format, in turn (the order turned each round), over one control-mode
//! connection, as the engine does. The machine's noise then falls on
//! every format alike; the ratios are the figure.
//!
//! - `plain 12` — 6edf3d6's: 12 fields apart by tabs, no token (agents
//!   could forge records through their pane options);
//! - `token 16` — 69aec34's: 16 fields (8 report options), a 38-character
//!   token before each;
//! - `here` — this machine's listing now (`ControlClient::sessions` on a
//!   local server, parse included): no report option, two tokens a pane;
//! - `host` — a host's listing now (`ReportOptions::Read`, parse included);
//! - `pane id` — the floor: one field, `#{pane_id}`, what any listing of
//!   every pane costs.
//!
//! `cargo test --test listing_cost -- --ignored --nocapture`
//! (`LISTING_PANES=N` for another count.)

use std::time::{Duration, Instant};

use switchboard::home::Home;
use switchboard::runtime::{ControlClient, ReportOptions, SpawnSpec, TmuxServer};

const ROUNDS: usize = 200;

const PLAIN_12: &str = "#{session_name}\t#{pane_id}\t#{pane_pid}\t#{pane_dead}\t#{pane_dead_status}\t#{pane_dead_signal}\t#{@switchboard_report}\t#{@switchboard_report_2}\t#{@switchboard_report_3}\t#{@switchboard_report_4}\t#{window_activity}\t#{pane_title}";

/// 69aec34's format, with a token of its shape.
fn token_16() -> String {
    let token = "~sb0123456789abcdef0123456789abcdef~";
    let fields = [
        "#{session_name}",
        "#{pane_id}",
        "#{pane_pid}",
        "#{pane_dead}",
        "#{pane_dead_status}",
        "#{pane_dead_signal}",
        "#{@switchboard_report}",
        "#{@switchboard_report_2}",
        "#{@switchboard_report_3}",
        "#{@switchboard_report_4}",
        "#{@switchboard_report_5}",
        "#{@switchboard_report_6}",
        "#{@switchboard_report_7}",
        "#{@switchboard_report_8}",
        "#{window_activity}",
        "#{pane_title}",
    ];
    format!("{token}\t{}", fields.join(&format!("\t{token}\t")))
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn p(sorted: &[f64], q: usize) -> f64 {
    sorted[(sorted.len() - 1) * q / 100]
}

#[test]
#[ignore = "a measurement: 200 tmux panes, a few seconds"]
fn list_panes_by_format_side_by_side() {
    let panes: usize = std::env::var("LISTING_PANES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let dir = tempfile::tempdir().expect("temp dir");
    let home = Home::at(dir.path().join("home"));
    home.ensure().expect("home");
    let server = TmuxServer::for_home(&home, 2000).expect("server");
    struct Stop(TmuxServer);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill_server();
        }
    }
    let _stop = Stop(server.clone());
    for n in 1..=panes {
        server
            .spawn(&SpawnSpec {
                name: format!("sb-{n}-1"),
                cwd: dir.path().to_path_buf(),
                argv: vec!["sleep".into(), "3600".into()],
                env: vec![],
            })
            .expect("spawn");
    }
    let client = ControlClient::new(server.clone());
    let raw = |format: &str| -> usize {
        let words = vec!["list-panes".into(), "-a".into(), "-F".into(), format.into()];
        let reply = client.commands(&[words]).expect("list-panes");
        reply
            .into_iter()
            .next()
            .and_then(Result::ok)
            .map_or(0, |o| o.len())
    };
    let token_16 = token_16();
    let names = ["plain 12", "token 16", "here", "host", "pane id"];
    let mut bytes = [0usize; 5];
    let mut run = |i: usize| -> Duration {
        let t = Instant::now();
        match i {
            0 => bytes[0] = raw(PLAIN_12),
            1 => bytes[1] = raw(&token_16),
            2 => assert_eq!(client.sessions().expect("sessions").len(), panes),
            4 => bytes[4] = raw("#{pane_id}"),
            _ => {
                let listed = client.list(ReportOptions::Read).expect("list");
                assert_eq!(listed.len(), panes);
            }
        }
        t.elapsed()
    };
    // Warm up: connect, and let tmux's allocations settle.
    for i in 0..names.len() {
        run(i);
    }
    let load_before = load();
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    // Each round's ratio to `plain 12`: noise that lasts a round cancels.
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for round in 0..ROUNDS {
        let mut this = [0.0; 5];
        for k in 0..names.len() {
            let i = (round + k) % names.len();
            this[i] = run(i).as_secs_f64() * 1000.0;
        }
        for i in 0..names.len() {
            times[i].push(this[i]);
            ratios[i].push(this[i] / this[0]);
        }
    }
    println!(
        "list-panes -a over {panes} quiet panes, control mode, {ROUNDS} rounds interleaved; load before {load_before}, after {}",
        load()
    );
    for i in 0..names.len() {
        times[i].sort_by(f64::total_cmp);
        ratios[i].sort_by(f64::total_cmp);
        let size = match i {
            0 | 1 | 4 => format!("{} bytes", bytes[i]),
            _ => "parse included".to_string(),
        };
        println!(
            "{:>9}: p50 {:.2} ms, p90 {:.2} ms; p50 of the per-round ratio to plain 12: {:.2}x ({size})",
            names[i],
            p(&times[i], 50),
            p(&times[i], 90),
            p(&ratios[i], 50),
        );
    }
}
