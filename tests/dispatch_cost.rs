//! What one `switchboard dispatch` costs, counted rather than timed (timing
//! goals live in `benches/pueue.py`): one transaction in the journal, a few
//! pages written whatever the queue's length, no git or tmux started, and
//! the write-ahead log left for the next process while it is short (no
//! checkpoint on close) but not left to grow.
//!
//! The counts are read from the journal's write-ahead log, whose format is
//! SQLite's documented one: a 32-byte header with two salts, then frames of
//! a 24-byte header (page number, database size after a commit or 0, the
//! salts) and one page each. Frames of the current log carry its salts.

mod common;

use std::path::{Path, PathBuf};

use common::Sandbox;

/// Frames in the current log and how many of them end a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Wal {
    frames: usize,
    commits: usize,
}

fn wal(home: &Path) -> Wal {
    let Ok(bytes) = std::fs::read(home.join("journal.db-wal")) else {
        return Wal::default();
    };
    let word = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    if bytes.len() < 32 {
        return Wal::default();
    }
    let page_size = word(8) as usize;
    let salts = (word(16), word(20));
    let mut out = Wal::default();
    let mut at = 32;
    while at + 24 + page_size <= bytes.len() && (word(at + 8), word(at + 12)) == salts {
        out.frames += 1;
        if word(at + 4) != 0 {
            out.commits += 1;
        }
        at += 24 + page_size;
    }
    out
}

/// Copies the log into the database and removes it, as a last connection
/// closing with SQLite's defaults does.
fn checkpoint(sb: &Sandbox) {
    sb.sql("PRAGMA wal_checkpoint(TRUNCATE)");
    assert_eq!(wal(&sb.home()), Wal::default());
}

/// A directory of stand-ins for `git` and `tmux` that write a line to
/// `calls` and then run the real program.
fn recording_path(dir: &Path, calls: &Path) -> String {
    let bin = dir.join("recording-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let old = std::env::var("PATH").unwrap_or_default();
    for program in ["git", "tmux"] {
        let real = std::env::split_paths(&old)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "false".to_string());
        let script = bin.join(program);
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"{program} $*\" >> '{}'\nexec '{real}' \"$@\"\n",
                calls.display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    format!("{}:{old}", bin.display())
}

fn dispatch(sb: &Sandbox, path: &str, project: &str) {
    let mut cmd = sb.cmd(&["dispatch", project, "fix", "the", "login", "button"]);
    cmd.env("PATH", path);
    common::Run::of(&mut cmd).ok();
}

/// One dispatch's frames and transactions, from a fresh log.
fn one_dispatch(sb: &Sandbox, path: &str, project: &str) -> Wal {
    checkpoint(sb);
    dispatch(sb, path, project);
    wal(&sb.home())
}

fn queue(sb: &Sandbox, n: usize) {
    let lines: String = (0..n)
        .map(|i| format!("{{\"type\":\"task\",\"project\":\"api\",\"prompt\":\"echo {i}\"}}\n"))
        .collect();
    sb.run_with_input(&["ingest", "-"], lines.as_bytes()).ok();
}

#[test]
fn a_dispatch_is_one_transaction_of_a_few_pages_whatever_the_queue() {
    let sb = Sandbox::new();
    let repo: PathBuf = sb.project("api");
    let calls = sb.dir.path().join("calls.log");
    let path = recording_path(sb.dir.path(), &calls);
    dispatch(&sb, &path, "api");

    let empty = one_dispatch(&sb, &path, "api");
    assert_eq!(empty.commits, 1, "{empty:?}");
    assert!(empty.frames <= 10, "{empty:?}");

    // The log stays after a short command: the next one appends to it.
    dispatch(&sb, &path, "api");
    let second = wal(&sb.home());
    assert_eq!(second.commits, 2, "{second:?}");

    // A registered repository named by its path, or by a directory in it.
    let by_path = one_dispatch(&sb, &path, repo.to_str().unwrap());
    assert_eq!(by_path.commits, 1, "{by_path:?}");
    std::fs::create_dir_all(repo.join("src")).unwrap();
    dispatch(&sb, &path, repo.join("src").to_str().unwrap());

    queue(&sb, 2000);
    let queued = one_dispatch(&sb, &path, "api");
    assert_eq!(queued.commits, 1, "{queued:?}");
    assert!(
        queued.frames <= empty.frames + 2,
        "a dispatch at 2,000 queued wrote {queued:?}, at an empty queue {empty:?}"
    );

    let calls = std::fs::read_to_string(&calls).unwrap_or_default();
    assert_eq!(calls, "", "dispatch started git or tmux");
    let jobs = sb.run(&["jobs", "--json"]).json();
    assert_eq!(jobs.as_array().map(Vec::len), Some(2006));
}

#[test]
fn a_long_log_is_checkpointed_by_the_last_process_to_close() {
    let sb = Sandbox::new();
    sb.project("api");
    checkpoint(&sb);
    // About 220 pages of jobs and events: past what is kept.
    queue(&sb, 5000);
    let left = std::fs::metadata(sb.home().join("journal.db-wal")).map_or(0, |m| m.len());
    assert!(
        left <= switchboard::journal::KEPT_WAL_BYTES,
        "the log left behind is {left} bytes"
    );
    // Short logs are kept: a few dispatches later it is still there.
    checkpoint(&sb);
    for _ in 0..3 {
        sb.run(&["dispatch", "api", "x"]).ok();
    }
    assert_eq!(wal(&sb.home()).commits, 3);
}
