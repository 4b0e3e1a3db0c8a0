//! The scheduler's figures: a 1,000,000-message scenario streamed through
//! admit, decide and apply on the virtual clock (with peak memory), and one
//! `decide` over 10,000 queued jobs.

use std::hint::black_box;
use std::io::{BufReader, Read};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use switchboard::config::Config;
use switchboard::model::{JobKind, JobState, Timestamp};
use switchboard::scheduler::{ProjectLimits, SchedJob, State, WaitKind, decide};
use switchboard::simulator::Simulation;

const MESSAGES: u64 = 1_000_000;
const T0: i64 = 1_800_000_000_000;

/// A scenario written as it is read, so the input never sits in memory:
/// one message a second; 70% alarms of 50 accounts (CloudWatch and native),
/// 25% tickets over 400 keys, 5% tasks; agents take 2 minutes.
struct Scenario {
    n: u64,
    pending: Vec<u8>,
    pos: usize,
}

impl Scenario {
    fn new() -> Scenario {
        let header = concat!(
            "{\"config\":{\"scheduler\":{\"max_agents\":16},\"routing\":{\"default_project\":\"ops\",\"jira\":{\"WEB\":\"web\",\"API\":\"api\"}}}}\n",
            "{\"project\":\"ops\",\"max_agents\":8}\n{\"project\":\"web\",\"max_agents\":4}\n{\"project\":\"api\",\"max_agents\":4}\n",
            "{\"agent\":{\"duration\":\"2m\"}}\n",
        );
        Scenario {
            n: 0,
            pending: header.as_bytes().to_vec(),
            pos: 0,
        }
    }

    fn line(&mut self) -> Option<String> {
        if self.n >= MESSAGES {
            return None;
        }
        let i = self.n;
        self.n += 1;
        let secs = i as i64;
        let at = Timestamp::from_millis(T0 + secs * 1000).rfc3339();
        let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        Some(match h % 100 {
            0..=34 => format!(
                "{{\"at\":\"{at}\",\"type\":\"alarm\",\"account\":\"{:012}\",\"name\":\"HighCPU\",\"state\":\"{}\"}}\n",
                h % 50,
                if h.is_multiple_of(7) { "OK" } else { "ALARM" }
            ),
            35..=69 => format!(
                "{{\"at\":\"{at}\",\"AlarmName\":\"5xx\",\"AWSAccountId\":\"{:012}\",\"NewStateValue\":\"ALARM\",\"StateChangeTime\":\"{at}\"}}\n",
                h % 50
            ),
            70..=94 => format!(
                "{{\"at\":\"{at}\",\"type\":\"ticket\",\"key\":\"{}-{}\",\"title\":\"issue\",\"body\":\"details\"}}\n",
                if h.is_multiple_of(2) { "WEB" } else { "API" },
                h % 200
            ),
            _ => format!(
                "{{\"at\":\"{at}\",\"type\":\"task\",\"project\":\"ops\",\"prompt\":\"task {i}\"}}\n"
            ),
        })
    }
}

impl Read for Scenario {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.pending.len() {
            match self.line() {
                Some(line) => {
                    self.pending = line.into_bytes();
                    self.pos = 0;
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// The process's peak resident memory, from /proc (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn simulate_million(c: &mut Criterion) {
    let mut group = c.benchmark_group("scheduler");
    group.sample_size(10);
    group.throughput(Throughput::Elements(MESSAGES));
    // The scenario is written to a file first, so that generating it is not
    // timed; it is read back a line at a time.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("million.jsonl");
    std::io::copy(
        &mut Scenario::new(),
        &mut std::fs::File::create(&path).unwrap(),
    )
    .unwrap();
    let before = peak_rss_kib();
    group.bench_function("simulate_1m_messages", |b| {
        b.iter(|| {
            let mut sim = Simulation::new(1).unwrap();
            let mut decisions = 0u64;
            let file = std::fs::File::open(&path).unwrap();
            sim.run(BufReader::with_capacity(1 << 16, file), &mut |_| {
                decisions += 1
            })
            .unwrap();
            assert_eq!(sim.summary.messages, MESSAGES);
            black_box(decisions)
        })
    });
    group.finish();
    let mut sim = Simulation::new(1).unwrap();
    sim.run(BufReader::new(Scenario::new()), &mut |_| {})
        .unwrap();
    eprintln!(
        "1,000,000-message scenario: peak RSS {:?} KiB (before the runs: {:?} KiB); summary: {}",
        peak_rss_kib(),
        before,
        serde_json::to_string(&sim.summary).unwrap()
    );
}

fn decide_10k(c: &mut Criterion) {
    let config = Config::builtin().unwrap();
    let mut state = State::new();
    let projects = ["api", "web", "ops", "billing", "data"];
    for p in projects {
        state
            .projects
            .insert(p.into(), ProjectLimits { max_agents: 2 });
    }
    let now = Timestamp::from_millis(T0 + 10_000_000);
    for id in 1..=10_008i64 {
        let active = id <= 8;
        let state_of = if active {
            JobState::Running {
                attempt: 1,
                since: now,
            }
        } else {
            JobState::Queued {
                since: Timestamp::from_millis(T0 + id),
                not_before: None,
            }
        };
        state.put_job(SchedJob {
            id,
            kind: [JobKind::Task, JobKind::Ticket, JobKind::Incident][id as usize % 3],
            state: state_of,
            project: Some(projects[id as usize % 5].into()),
            title: format!("job {id}"),
            priority: (id % 3) * 100,
            attempts: u32::from(active),
            created_at: Timestamp::from_millis(T0 + id),
            started_at: active.then_some(now),
            first_started_at: active.then_some(now),
            reason: Some("8/8 agents busy".into()),
            wait: Some(WaitKind::AgentsBusy),
            unrouted: None,
            gave_up: false,
        });
    }
    c.bench_function("scheduler/decide_10k_queued", |b| {
        b.iter(|| black_box(decide(&state, &config, now)))
    });
}

criterion_group!(benches, simulate_million, decide_10k);
criterion_main!(benches);
