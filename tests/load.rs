//! Load: six processes dispatching, two ingesting and one listing, all at
//! once against a running engine. Nothing may fail, the engine may not
//! exit or fault, every id is distinct and the counts add up. Prints the
//! dispatch latency under that load (the README's figure).

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::engine::{FAST, home_with, jobs, start_engine, wait_secs};
use common::{Run, command};

const DISPATCHERS: usize = 6;
const DISPATCHES: usize = 30;
const INGESTERS: usize = 2;
const BATCHES: usize = 5;
const TICKETS: usize = 20;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[test]
fn dispatch_ingest_and_list_at_once_against_a_running_engine() {
    let config = FAST.replace("[scheduler]\n", "[scheduler]\nmax_agents = 4\n");
    let sb = home_with(&config, &["api"]);
    let mut engine = start_engine(&sb);
    wait_secs(20, "the engine up", || {
        sb.home().join("engine.health").exists()
    });
    let home = sb.home();
    let listing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    std::thread::scope(|s| {
        let mut dispatchers = Vec::new();
        for d in 0..DISPATCHERS {
            let home = &home;
            dispatchers.push(s.spawn(move || {
                let mut out = Vec::new();
                for i in 0..DISPATCHES {
                    let start = Instant::now();
                    let run = Run::of(&mut command(
                        home,
                        &["dispatch", "api", &format!("load {d}.{i}"), "--json"],
                    ));
                    let took = start.elapsed();
                    let reply = run.json();
                    out.push((reply["id"].as_i64().expect("an id"), took));
                }
                out
            }));
        }
        let mut ingesters = Vec::new();
        for g in 0..INGESTERS {
            let sb = &sb;
            ingesters.push(s.spawn(move || {
                for b in 0..BATCHES {
                    let lines: String = (0..TICKETS)
                        .map(|t| {
                            format!(
                                "{{\"type\":\"ticket\",\"key\":\"LOAD-{g}{b:02}{t:02}\",\"title\":\"t\",\"project\":\"api\"}}\n"
                            )
                        })
                        .collect();
                    let run = sb.run_with_input(&["ingest", "-", "--json"], lines.as_bytes());
                    assert_eq!(run.json()["accepted"], TICKETS, "{}", run.stderr);
                }
            }));
        }
        let lister = {
            let home = &home;
            let listing = std::sync::Arc::clone(&listing);
            s.spawn(move || {
                let mut lists = 0;
                while listing.load(std::sync::atomic::Ordering::Relaxed) {
                    let run = Run::of(&mut command(home, &["jobs", "--json"]));
                    assert!(run.json().is_array());
                    lists += 1;
                }
                lists
            })
        };
        let mut ids = BTreeSet::new();
        let mut latencies = Vec::new();
        for d in dispatchers {
            for (id, took) in d.join().expect("a dispatcher") {
                assert!(ids.insert(id), "id {id} given twice");
                latencies.push(took);
            }
        }
        for g in ingesters {
            g.join().expect("an ingester");
        }
        listing.store(false, std::sync::atomic::Ordering::Relaxed);
        let lists = lister.join().expect("the lister");
        latencies.sort();
        eprintln!(
            "dispatch under load ({DISPATCHERS} dispatching, {INGESTERS} ingesting, 1 listing {lists} times, engine running): p50 {:.1} ms, p99 {:.1} ms over {} dispatches",
            percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
            percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
            latencies.len()
        );
        assert_eq!(ids.len(), DISPATCHERS * DISPATCHES);
    });
    let expected = DISPATCHERS * DISPATCHES + INGESTERS * BATCHES * TICKETS;
    wait_secs(60, "every ticket admitted as a job", || {
        jobs(&sb).len() == expected
    });
    let all = jobs(&sb);
    let distinct: BTreeSet<i64> = all.iter().filter_map(|j| j["id"].as_i64()).collect();
    assert_eq!(distinct.len(), expected, "every job once");
    assert!(engine.alive(), "the engine did not exit");
    let health = std::fs::read_to_string(sb.home().join("engine.health")).expect("health");
    assert!(health.contains("\"fault\":null"), "no fault: {health}");
}
