//! A journal file that was damaged (by a disk, a copy cut short, another
//! program) is outside input too: every command that opens it ends with a
//! clear error or works, never with a panic, and the file is left as it
//! was for the operator to recover.

mod common;

use common::Sandbox;

/// A run that ended on its own terms: 0, or an error exit with a message.
/// A panic exits 101; a signal has no code.
#[track_caller]
fn ended_cleanly(what: &str, run: &common::Run) {
    assert!(
        run.code == 0 || (run.code > 0 && run.code != 101 && !run.stderr.trim().is_empty()),
        "{what}: exit {} stderr: {}",
        run.code,
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{what}: {}", run.stderr);
}

/// A home with a project and a few jobs, the journal checkpointed into
/// its one file.
fn journal_with_jobs(sb: &Sandbox) -> Vec<u8> {
    sb.project("api");
    for n in 0..5 {
        sb.run(&["dispatch", "api", &format!("task {n}")]).ok();
    }
    sb.sql("PRAGMA wal_checkpoint(TRUNCATE);");
    std::fs::read(sb.home().join("journal.db")).expect("journal")
}

/// Commands that read and write the journal.
const COMMANDS: &[&[&str]] = &[
    &["jobs"],
    &["jobs", "--json"],
    &["jobs", "1"],
    &["dispatch", "api", "after the damage"],
    &["review"],
    &["chains"],
    &["report", "1", "--progress", "50"],
];

#[test]
fn a_file_that_is_not_a_journal_is_refused_and_left_as_it_was() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.home()).expect("home");
    let file = sb.home().join("journal.db");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&file, &garbage).expect("garbage");
    for args in COMMANDS {
        let run = sb.run(args);
        ended_cleanly(&format!("{args:?}"), &run);
        assert_ne!(run.code, 0, "{args:?}: {}", run.stdout);
        assert!(run.stderr.contains("journal"), "{args:?}: {}", run.stderr);
    }
    assert_eq!(
        std::fs::read(&file).expect("file"),
        garbage,
        "left untouched"
    );
}

/// `user_version` is a signed number in the file's header: one below zero
/// is damage, not a schema to migrate from.
#[test]
fn a_schema_version_below_zero_is_refused_with_the_reason() {
    let sb = Sandbox::new();
    journal_with_jobs(&sb);
    sb.sql("PRAGMA user_version = -1;");
    for args in COMMANDS {
        let run = sb.run(args);
        ended_cleanly(&format!("{args:?}"), &run);
        assert_ne!(run.code, 0, "{args:?}: {}", run.stdout);
        assert!(
            run.stderr.contains("schema version -1"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

/// A small deterministic generator, so a failure names its seed.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn a_journal_with_damaged_pages_gives_errors_not_panics() {
    let sb = Sandbox::new();
    let good = journal_with_jobs(&sb);
    let file = sb.home().join("journal.db");
    let seeds: Vec<u64> = match std::env::var("SWITCHBOARD_DAMAGE_SEED") {
        Ok(s) => vec![s.parse().expect("a seed")],
        Err(_) => (1..=12).collect(),
    };
    for seed in seeds {
        let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut bad = good.clone();
        // A run of bytes overwritten somewhere past the header's first
        // bytes (the magic string: without it, it is the case above).
        let at = 16 + (next(&mut state) as usize % (bad.len() - 64));
        let len = 1 + next(&mut state) as usize % 48;
        for b in bad.iter_mut().skip(at).take(len) {
            *b = next(&mut state) as u8;
        }
        let _ = std::fs::remove_file(sb.home().join("journal.db-wal"));
        let _ = std::fs::remove_file(sb.home().join("journal.db-shm"));
        std::fs::write(&file, &bad).expect("damaged");
        for args in COMMANDS {
            let run = sb.run(args);
            ended_cleanly(
                &format!("seed {seed} ({len} bytes at {at}): {args:?}"),
                &run,
            );
        }
    }
}
