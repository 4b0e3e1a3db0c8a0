//! Several processes writing one journal at once: nothing is lost, no id is
//! given twice, and nobody sees "database is locked".

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::Sandbox;
use switchboard::journal::{JobFilter, Journal, NewJob};
use switchboard::model::Timestamp;

const PROCESSES: usize = 4;
const JOBS_EACH: usize = 250;

/// One of the writer processes: waits for the start signal, then opens the
/// journal (the first to get there creates it) and dispatches its jobs,
/// one transaction each.
#[test]
#[ignore = "a child of four_processes_dispatch_a_thousand_jobs"]
fn writer_process() {
    let db = PathBuf::from(std::env::var("SB_DB").unwrap());
    let go = PathBuf::from(std::env::var("SB_GO").unwrap());
    let who: usize = std::env::var("SB_WHO").unwrap().parse().unwrap();
    common::wait_until(
        Duration::from_secs(30),
        Duration::from_millis(1),
        || if go.exists() { Ok(()) } else { Err(()) },
        |()| "no start signal".into(),
    );
    let mut journal = Journal::open(&db).unwrap();
    for n in 0..JOBS_EACH {
        let job = NewJob::task(Some("api".into()), format!("writer {who} job {n}"), 0);
        journal.dispatch(&job, Timestamp::now()).unwrap();
    }
}

fn spawn_writer(db: &Path, go: &Path, who: usize) -> std::process::Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["writer_process", "--exact", "--ignored", "--test-threads=1"])
        .env("SB_DB", db)
        .env("SB_GO", go)
        .env("SB_WHO", who.to_string())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn four_processes_dispatch_a_thousand_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let go = dir.path().join("go");
    let children: Vec<_> = (0..PROCESSES)
        .map(|who| spawn_writer(&db, &go, who))
        .collect();
    std::fs::write(&go, "").unwrap();
    for mut child in children {
        let status = child.wait().unwrap();
        assert!(status.success(), "a writer failed (see its output above)");
    }
    let journal = Journal::open(&db).unwrap();
    let jobs = journal.jobs(&JobFilter::default()).unwrap();
    assert_eq!(jobs.len(), PROCESSES * JOBS_EACH);
    let ids: BTreeSet<i64> = jobs.iter().map(|j| j.id).collect();
    assert_eq!(ids.len(), PROCESSES * JOBS_EACH, "every id distinct");
    let prompts: BTreeSet<&str> = jobs.iter().map(|j| j.prompt.as_str()).collect();
    assert_eq!(
        prompts.len(),
        PROCESSES * JOBS_EACH,
        "every job of every writer is there"
    );
    assert_eq!(
        journal.events_after(0).unwrap().len(),
        PROCESSES * JOBS_EACH,
        "one event each"
    );
    assert_eq!(journal.integrity_check().unwrap(), ["ok"]);
}

#[test]
fn the_cli_dispatches_from_parallel_processes() {
    let sb = Sandbox::new();
    sb.project("api");
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let home = sb.home();
            std::thread::spawn(move || {
                for n in 0..15 {
                    let out = Command::new(common::BIN)
                        .arg("--home")
                        .arg(&home)
                        .args(["dispatch", "api", &format!("thread {t} job {n}"), "--json"])
                        .output()
                        .unwrap();
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    assert!(out.status.success(), "{stderr}");
                    assert!(!stderr.contains("locked"), "{stderr}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let jobs = sb.run(&["jobs", "--json"]).json();
    let ids: BTreeSet<i64> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 60);
}
