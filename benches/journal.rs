//! In-process journal figures: durable dispatch (job row + event, one
//! transaction each) and bulk intake of JSON lines.

use std::hint::black_box;
use std::io::Cursor;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use switchboard::config::Config;
use switchboard::intake::ingest_lines;
use switchboard::journal::{Journal, NewJob};
use switchboard::model::Timestamp;

fn dispatch(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(&dir.path().join("journal.db")).unwrap();
    let job = NewJob::task(Some("api".into()), "fix the login button".into(), 0);
    c.bench_function("dispatch_durable", |b| {
        b.iter(|| black_box(journal.dispatch(&job, Timestamp::now()).unwrap()))
    });
}

/// 100,000 lines: tasks, tickets (with repeats) and CloudWatch-style alarms.
pub fn message_lines(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 110);
    for i in 0..n {
        let line = match i % 4 {
            0 => format!(
                r#"{{"type":"alarm","account":"{:012}","name":"HighCPU","state":"ALARM","at":"2026-01-01T00:{:02}:{:02}Z"}}"#,
                i % 97,
                (i / 60) % 60,
                i % 60
            ),
            1 => format!(
                r#"{{"type":"ticket","key":"OPS-{}","title":"ticket {i}","body":"details"}}"#,
                i % 5000
            ),
            2 => format!(
                r#"{{"AlarmName":"api-5xx","AWSAccountId":"{:012}","NewStateValue":"OK","StateChangeTime":"2026-01-01T01:00:00.000+0000"}}"#,
                i % 31
            ),
            _ => format!(r#"{{"type":"task","project":"api","prompt":"task number {i}"}}"#),
        };
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out
}

fn bulk_ingest(c: &mut Criterion) {
    const LINES: usize = 100_000;
    let input = message_lines(LINES);
    let priorities = Config::builtin().unwrap().priorities;
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.throughput(Throughput::Elements(LINES as u64));
    group.bench_function("parse_only_100k_lines", |b| {
        b.iter(|| {
            let mut ok = 0;
            for line in input.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                ok += usize::from(switchboard::intake::parse_message(line).is_ok());
            }
            assert_eq!(ok, LINES);
        })
    });
    group.bench_function("bulk_100k_lines", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().unwrap();
                let journal = Journal::open(&dir.path().join("journal.db")).unwrap();
                (dir, journal)
            },
            |(dir, mut journal)| {
                let report = ingest_lines(
                    &mut journal,
                    Cursor::new(&input),
                    &switchboard::model::Source::cli("bench"),
                    &priorities,
                )
                .unwrap();
                assert_eq!(report.accepted, LINES as u64);
                (dir, journal)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, dispatch, bulk_ingest);
criterion_main!(benches);
