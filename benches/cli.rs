//! The binary as a whole process: `dispatch` beside the `sqlite3` command
//! line tool inserting one row into the same kind of database, and
//! `jobs --json` on a journal of 100,000 jobs.

use std::path::Path;
use std::process::{Command, Stdio};

mod common;

use common::empty_repository;
use criterion::{Criterion, criterion_group, criterion_main};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn run(cmd: &mut Command) {
    let status = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{cmd:?}");
}

fn switchboard(home: &Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--home").arg(home);
    cmd
}

fn dispatch_process(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let repo = empty_repository(dir.path(), "api");
    run(switchboard(&home)
        .args(["project", "add", "api"])
        .arg(&repo));
    let mut group = c.benchmark_group("process");
    group.bench_function("switchboard_dispatch", |b| {
        b.iter(|| run(switchboard(&home).args(["dispatch", "api", "fix the login button"])))
    });
    let has_sqlite3 = Command::new("sqlite3").arg("-version").output().is_ok();
    if has_sqlite3 {
        // The same kind of database: a copy of the journal, WAL mode, FULL sync.
        let db = dir.path().join("copy.db");
        run(Command::new("sqlite3")
            .arg(home.join("journal.db"))
            .arg(format!(".backup '{}'", db.display())));
        run(Command::new("sqlite3")
            .arg(&db)
            .arg("PRAGMA journal_mode=WAL;"));
        let insert = "PRAGMA synchronous=FULL; INSERT INTO jobs (kind, state, state_since, project, title, prompt, priority, created_at, updated_at) \
                      VALUES ('task', 'queued', 1, 'api', 'fix the login button', 'fix the login button', 0, 1, 1);";
        group.bench_function("sqlite3_insert", |b| {
            b.iter(|| run(Command::new("sqlite3").arg(&db).arg(insert)))
        });
    } else {
        eprintln!("sqlite3 is not installed: the side-by-side figure is skipped");
    }
    group.finish();
}

fn jobs_json(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let lines: String = (0..100_000)
        .map(|i| {
            format!("{{\"type\":\"task\",\"project\":\"api\",\"prompt\":\"task number {i}\"}}\n")
        })
        .collect();
    let file = dir.path().join("tasks.jsonl");
    std::fs::write(&file, lines).unwrap();
    run(switchboard(&home).arg("ingest").arg(&file));
    let mut group = c.benchmark_group("process");
    group.sample_size(10);
    group.bench_function("jobs_json_100k", |b| {
        b.iter(|| run(switchboard(&home).args(["jobs", "--json"])))
    });
    group.finish();
}

criterion_group!(benches, dispatch_process, jobs_json);
criterion_main!(benches);
