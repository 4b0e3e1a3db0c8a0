//! The scheduler's figures (issue 13), side by side in one run:
//!
//! - `simulate_1m_claimed_queue`: 1,000,000 messages while 10,000 jobs queue
//!   behind a claimed repository and 1,000 chains stay open (peak memory
//!   printed after);
//! - `simulate_300k_997_accounts`: alarms of 997 accounts and tickets for one
//!   claimed project, one message a second (the queue grows all run);
//! - `decide_10k_all_slots_taken` and `decide_10k_one_slot_free`;
//! - `schedule_pass_2000_claimed`: one pass of the engine's scheduler on a
//!   real journal with 2,000 jobs queued behind one claimed repository,
//!   after which the journal rows written per job over its whole life
//!   (queued, waits, start, running, done) are printed.
//!
//! Run one with a filter: `cargo bench --bench scheduler -- decide`.

use std::hint::black_box;
use std::io::{BufReader, Read};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use switchboard::config::Config;
use switchboard::journal::{JobFilter, Journal, NewJob};
use switchboard::model::{JobKind, JobState, Project, StateName, Timestamp};
use switchboard::scheduler::{ProjectLimits, SchedJob, State, WaitKind, decide};
use switchboard::simulator::Simulation;

const T0: i64 = 1_800_000_000_000;

/// A scenario written as it is read, so the input never sits in memory.
struct Scenario {
    header: Vec<u8>,
    n: u64,
    total: u64,
    line: fn(u64) -> String,
    pending: Vec<u8>,
    pos: usize,
}

impl Scenario {
    fn new(header: &str, total: u64, line: fn(u64) -> String) -> Scenario {
        Scenario {
            header: header.as_bytes().to_vec(),
            n: 0,
            total,
            line,
            pending: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for Scenario {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.pending.len() {
            if !self.header.is_empty() {
                self.pending = std::mem::take(&mut self.header);
            } else if self.n < self.total {
                self.pending = (self.line)(self.n).into_bytes();
                self.n += 1;
            } else {
                return Ok(0);
            }
            self.pos = 0;
        }
        let n = buf.len().min(self.pending.len() - self.pos);
        buf[..n].copy_from_slice(&self.pending[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn at(i: u64) -> String {
    Timestamp::from_millis(T0 + i as i64 * 1000).rfc3339()
}

/// 10,000 tasks for the claimed repository `app` first (each takes a day, so
/// the queue stays 10,000 long all run), then one message a second: alarms
/// of 1,000 accounts in turn (each account every ~17 minutes, so its chain
/// stays open: 1,000 open chains) with a ticket every tenth message.
const CLAIMED_HEADER: &str = concat!(
    "{\"config\":{\"scheduler\":{\"max_agents\":16,\"job_timeout\":\"30d\"},\"routing\":{\"default_project\":\"ops\",\"jira\":{\"OPS\":\"ops\"}}}}\n",
    "{\"project\":\"app\",\"max_agents\":1}\n{\"project\":\"ops\",\"max_agents\":8}\n",
    "{\"agent\":{\"duration\":\"2m\"}}\n{\"agent\":{\"match\":\"app work\",\"duration\":\"1d\"}}\n",
);

fn claimed_line(i: u64) -> String {
    let at = at(i);
    if i < 10_000 {
        return format!(
            "{{\"at\":\"{at}\",\"type\":\"task\",\"project\":\"app\",\"prompt\":\"app work {i}\"}}\n"
        );
    }
    if i.is_multiple_of(10) {
        return format!(
            "{{\"at\":\"{at}\",\"type\":\"ticket\",\"key\":\"OPS-{}\",\"title\":\"issue\",\"body\":\"details\"}}\n",
            (i / 10) % 500
        );
    }
    // The alarms so far, so the 1,000 accounts take turns.
    let account = (i - i / 10) % 1000;
    if i.is_multiple_of(3) {
        format!(
            "{{\"at\":\"{at}\",\"AlarmName\":\"5xx\",\"AWSAccountId\":\"{account:012}\",\"NewStateValue\":\"ALARM\",\"StateChangeTime\":\"{at}\"}}\n"
        )
    } else {
        format!(
            "{{\"at\":\"{at}\",\"type\":\"alarm\",\"account\":\"{account:012}\",\"name\":\"HighCPU\",\"state\":\"ALARM\"}}\n"
        )
    }
}

/// Issue 13's shape: alarms of 997 accounts and tickets for one project
/// (claimed, agents take 2 minutes), one message a second, alternating.
const ACCOUNTS_HEADER: &str = concat!(
    "{\"config\":{\"scheduler\":{\"max_agents\":8},\"routing\":{\"default_project\":\"app\"}}}\n",
    "{\"project\":\"app\",\"max_agents\":1}\n",
    "{\"agent\":{\"duration\":\"2m\"}}\n",
);

fn accounts_line(i: u64) -> String {
    let at = at(i);
    if i.is_multiple_of(2) {
        format!(
            "{{\"at\":\"{at}\",\"type\":\"alarm\",\"account\":\"{:012}\",\"name\":\"HighCPU\",\"state\":\"ALARM\"}}\n",
            (i / 2) % 997
        )
    } else {
        format!(
            "{{\"at\":\"{at}\",\"type\":\"ticket\",\"key\":\"APP-{i}\",\"title\":\"issue {i}\",\"project\":\"app\"}}\n"
        )
    }
}

/// CPU seconds this process has used (user and system), from /proc
/// (Linux): on a shared machine a fairer clock than the wall.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// The process's peak resident memory, from /proc (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn simulate_scenario(
    c: &mut Criterion,
    name: &str,
    header: &'static str,
    total: u64,
    line: fn(u64) -> String,
) {
    let mut group = c.benchmark_group("scheduler");
    group.sample_size(10);
    group.throughput(Throughput::Elements(total));
    // Only when the filter picks this bench: the scenario is written to a
    // file first (generating it is not timed), run once to count its
    // events and peak memory, then timed.
    let mut prepared: Option<(tempfile::TempDir, std::path::PathBuf, u64)> = None;
    group.bench_function(name, |b| {
        let (_, path, events) = &*prepared.get_or_insert_with(|| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("scenario.jsonl");
            std::io::copy(
                &mut Scenario::new(header, total, line),
                &mut std::fs::File::create(&path).unwrap(),
            )
            .unwrap();
            let before = peak_rss_kib();
            let mut sim = Simulation::new(1).unwrap();
            let started = std::time::Instant::now();
            let cpu_before = cpu_seconds();
            sim.run(
                BufReader::with_capacity(1 << 16, std::fs::File::open(&path).unwrap()),
                &mut |d| {
                    black_box(d);
                },
            )
            .unwrap();
            let took = started.elapsed();
            let cpu = cpu_seconds()
                .zip(cpu_before)
                .map_or(f64::NAN, |(after, before)| after - before);
            let events = sim.summary.events;
            eprintln!(
                "{name}: {total} messages, {events} events, {} decisions in {:.2} s ({cpu:.2} s of CPU): \
                 {:.0} events/s ({:.0} per CPU second), {:.0} messages/s; peak RSS {:?} KiB \
                 (before: {:?} KiB); jobs held at the end {}; summary: {}",
                sim.summary.decisions,
                took.as_secs_f64(),
                events as f64 / took.as_secs_f64(),
                events as f64 / cpu,
                total as f64 / took.as_secs_f64(),
                peak_rss_kib(),
                before,
                sim.state.jobs.len(),
                serde_json::to_string(&sim.summary).unwrap()
            );
            (dir, path, events)
        });
        let events = *events;
        b.iter(|| {
            let mut sim = Simulation::new(1).unwrap();
            let file = std::fs::File::open(path).unwrap();
            sim.run(BufReader::with_capacity(1 << 16, file), &mut |d| {
                black_box(d);
            })
            .unwrap();
            assert_eq!(sim.summary.events, events, "same seed, same run");
        })
    });
    group.finish();
}

fn simulate_claimed_queue(c: &mut Criterion) {
    simulate_scenario(
        c,
        "simulate_1m_claimed_queue",
        CLAIMED_HEADER,
        1_000_000,
        claimed_line,
    );
}

fn simulate_accounts(c: &mut Criterion) {
    simulate_scenario(
        c,
        "simulate_300k_997_accounts",
        ACCOUNTS_HEADER,
        300_000,
        accounts_line,
    );
}

/// 10,000 queued jobs over five projects (two agents each) and `running`
/// agents, every queued job told its wait.
fn queued_state(running: i64) -> (State, Timestamp) {
    let mut state = State::new();
    let projects = ["api", "web", "ops", "billing", "data"];
    for p in projects {
        state.projects.insert(p.into(), ProjectLimits::local(2));
    }
    let now = Timestamp::from_millis(T0 + 10_000_000);
    for id in 1..=10_000 + running {
        let active = id <= running;
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
            reason: (!active).then(|| "8/8 agents busy".into()),
            wait: (!active).then_some(WaitKind::AgentsBusy),
            unrouted: None,
            gave_up: false,
            after: Vec::new(),
        });
    }
    (state, now)
}

fn decide_10k(c: &mut Criterion) {
    let config = Config::from_texts(
        Some("[scheduler]\nmax_agents = 8\n"),
        std::path::Path::new("bench.toml"),
    )
    .unwrap();
    // 8 running (api, web, ops, billing, data, api, web, ops): every slot taken.
    let (full, now) = queued_state(8);
    c.bench_function("scheduler/decide_10k_all_slots_taken", |b| {
        b.iter(|| black_box(decide(&full, &config, now)))
    });
    // 7 running: one slot free, and billing and data have room.
    let (one_free, now) = queued_state(7);
    let plan = decide(&one_free, &config, now);
    assert_eq!(
        plan.decisions
            .iter()
            .filter(|d| d.kind() == "start")
            .count(),
        1
    );
    c.bench_function("scheduler/decide_10k_one_slot_free", |b| {
        b.iter(|| black_box(decide(&one_free, &config, now)))
    });
}

/// A journal with the project `app` (one agent) and 2,000 tasks for it,
/// after the first pass (one started, 1,999 told their wait).
fn claimed_journal() -> (tempfile::TempDir, Journal, Config, i64, i64) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let mut journal = Journal::open(&db).unwrap();
    journal
        .add_project(&Project {
            name: "app".into(),
            path: dir.path().join("app"),
            base_branch: "main".into(),
            agent: None,
            max_agents: 1,
            host: switchboard::model::HostName::local(),
            created_at: Timestamp::now(),
        })
        .unwrap();
    let config = Config::builtin().unwrap();
    let events_before = journal.last_event_id().unwrap();
    let rows_before = journal.total_changes();
    for i in 0..2000 {
        journal
            .dispatch(
                &NewJob::task(Some("app".into()), format!("app work {i}"), 0),
                Timestamp::now(),
            )
            .unwrap();
    }
    journal.schedule(&config, Timestamp::now(), false).unwrap();
    (dir, journal, config, events_before, rows_before)
}

/// The engine's scheduler on a real journal, 2,000 jobs behind one claimed
/// repository; then every job's whole life, counting rows.
fn journal_2000_claimed(c: &mut Criterion) {
    let mut prepared: Option<(tempfile::TempDir, Journal, Config, i64, i64)> = None;
    c.bench_function("scheduler/schedule_pass_2000_claimed", |b| {
        let (_, journal, config, _, _) = prepared.get_or_insert_with(claimed_journal);
        b.iter(|| black_box(journal.schedule(config, Timestamp::now(), false).unwrap()))
    });
    let Some((dir, mut journal, config, events_before, rows_before)) = prepared else {
        return; // filtered out
    };
    let db = dir.path().join("journal.db");
    // Every job's life: the engine brings the agent up, it finishes, the
    // next pass starts the next job. Rows written are counted by SQLite.
    let mut lives = 0;
    loop {
        let starting = journal
            .jobs(&JobFilter {
                state: Some(StateName::Starting),
            })
            .unwrap();
        let Some(job) = starting.first() else {
            break;
        };
        let now = Timestamp::now();
        journal
            .change_state(job.id, now, |s| s.run(now), "agent up")
            .unwrap();
        journal
            .change_state(job.id, now, |s| s.finish(now), "done")
            .unwrap();
        journal.schedule(&config, now, false).unwrap();
        lives += 1;
    }
    assert_eq!(lives, 2000);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let per_job: Vec<i64> = conn
        .prepare("SELECT COUNT(*) FROM events WHERE job_id IS NOT NULL AND id > ?1 GROUP BY job_id")
        .unwrap()
        .query_map([events_before], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mean = per_job.iter().sum::<i64>() as f64 / per_job.len() as f64;
    eprintln!(
        "2,000 jobs behind one claimed repository: events per job mean {mean:.2}, max {}; \
         rows written per job over its life, dispatch to done (SQLite's change counter: job \
         rows and events; the passes in between wrote nothing) {:.2}",
        per_job.iter().max().unwrap(),
        (journal.total_changes() - rows_before) as f64 / lives as f64
    );
}

criterion_group!(
    benches,
    simulate_claimed_queue,
    simulate_accounts,
    decide_10k,
    journal_2000_claimed
);
criterion_main!(benches);
