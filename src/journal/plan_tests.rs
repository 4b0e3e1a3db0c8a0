//! The queries an engine pass runs every time, checked with `EXPLAIN QUERY
//! PLAN` on a journal with a long history: none scans a whole table of
//! jobs, alarms, messages, review items or commands. A scan is allowed
//! only of a partial index, which holds nothing but the pending rows.

use super::commands::PENDING_COMMANDS;
use super::jobs::{JOB_COLUMNS, JOBS_IN_STATE, LAST_EVENT, active_job_count_sql};
use super::reports::LATE_DONE_REPORTS;
use super::schedule::{OPEN_JOBS, UNADMITTED_ALARMS, UNPROCESSED_TICKET_MESSAGES};
use super::views::DELIVERED;
use super::*;
use crate::model::StateName;

/// Indexes that hold only pending rows (schema versions 10 and 11, and
/// `commands_pending` of version 1).
const PARTIAL: &[&str] = &[
    "jobs_open",
    "alarms_unadmitted",
    "messages_unprocessed",
    "review_items_waiting",
    "review_items_delivered",
    "commands_pending",
];

/// A journal with `history` finished jobs (and as many chained alarms,
/// processed ticket messages, merged review items, done commands) and a
/// little pending work.
fn with_history(history: i64) -> (tempfile::TempDir, Journal) {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(&dir.path().join("journal.db")).unwrap();
    journal
        .conn()
        .execute_batch(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {history})
             INSERT INTO jobs (kind, state, state_since, title, prompt, created_at, updated_at)
                 SELECT 'task', 'done', i, 'old', 'old', i, i FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {history})
             INSERT INTO alarms (account, name, state, at, received_at, chain_id)
                 SELECT '123', 'cpu', 'ALARM', i, i, 1 FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {history})
             INSERT INTO messages (received_at, kind, source, body, processed_at)
                 SELECT i, 'ticket', 'old', '{{}}', i FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {history})
             INSERT INTO review_items (job_id, attempt, project, branch, state, created_at, updated_at)
                 SELECT i, 1, 'api', 'b', 'merged', i, i FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {history})
             INSERT INTO commands (at, kind, state) SELECT i, 'nudge', 'done' FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {history})
             INSERT INTO events (at, job_id, kind, message) SELECT i, i, 'done', 'old' FROM n;
             INSERT INTO jobs (kind, state, state_since, title, prompt, created_at, updated_at)
                 VALUES ('task', 'queued', 1, 'new', 'new', 1, 1), ('task', 'running', 1, 'now', 'now', 1, 1);
             INSERT INTO alarms (account, name, state, at, received_at) VALUES ('123', 'cpu', 'OK', 1, 1);
             INSERT INTO messages (received_at, kind, source, body) VALUES (1, 'ticket', 'new', '{{}}');
             SELECT 1;"
        ))
        .unwrap();
    (dir, journal)
}

/// The queries of one engine pass, by name.
fn hot_queries() -> Vec<(&'static str, String)> {
    vec![
        (
            "scheduler: jobs not over",
            format!("SELECT {JOB_COLUMNS} FROM jobs WHERE {OPEN_JOBS} ORDER BY id"),
        ),
        ("scheduler: alarms not admitted", UNADMITTED_ALARMS.into()),
        (
            "scheduler: ticket messages not processed",
            UNPROCESSED_TICKET_MESSAGES.into(),
        ),
        (
            "scheduler: next job id",
            "SELECT COALESCE(MAX(id), 0) + 1 FROM jobs".into(),
        ),
        (
            "patrol and starts: jobs in a state",
            format!("SELECT {JOB_COLUMNS} FROM jobs WHERE {JOBS_IN_STATE}"),
        ),
        ("agents active", active_job_count_sql().into()),
        ("late work", LATE_DONE_REPORTS.into()),
        ("commands", PENDING_COMMANDS.into()),
        ("wake-up mark", LAST_EVENT.into()),
        (
            "deliveries followed",
            format!(
                "SELECT job_id FROM review_items WHERE {DELIVERED} AND ?1 = ?1 ORDER BY created_at, job_id"
            ),
        ),
    ]
}

/// The plan's lines that read a whole table (or a whole index of it).
fn full_scans(journal: &Journal, sql: &str) -> Vec<String> {
    let mut stmt = journal
        .conn()
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap();
    let count = stmt.parameter_count();
    let params: Vec<&dyn rusqlite::ToSql> = (0..count).map(|_| &"running" as _).collect();
    let details: Vec<String> = stmt
        .query_map(&params[..], |r| r.get::<_, String>(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    details
        .into_iter()
        .filter(|d| {
            d.starts_with("SCAN ") && !PARTIAL.iter().any(|i| d.ends_with(&format!("INDEX {i}")))
        })
        .collect()
}

#[test]
fn no_query_of_a_pass_scans_the_history() {
    let (_dir, journal) = with_history(10_000);
    let mut scans = Vec::new();
    for (name, sql) in hot_queries() {
        for scan in full_scans(&journal, &sql) {
            scans.push(format!("{name}: {scan}"));
        }
    }
    assert!(scans.is_empty(), "full scans:\n{}", scans.join("\n"));
}

#[test]
fn without_the_partial_indexes_the_check_finds_the_scans() {
    let (_dir, journal) = with_history(100);
    journal
        .conn()
        .execute_batch(
            "DROP INDEX jobs_open; DROP INDEX alarms_unadmitted; \
             DROP INDEX messages_unprocessed; DROP INDEX review_items_waiting;",
        )
        .unwrap();
    let scanned: Vec<&str> = hot_queries()
        .into_iter()
        .filter(|(_, sql)| !full_scans(&journal, sql).is_empty())
        .map(|(name, _)| name)
        .collect();
    assert!(
        scanned.contains(&"scheduler: alarms not admitted"),
        "{scanned:?}"
    );
    assert!(
        scanned.contains(&"scheduler: ticket messages not processed"),
        "{scanned:?}"
    );
    // The count the engine took of every state before.
    assert!(!full_scans(&journal, "SELECT state, COUNT(*) FROM jobs GROUP BY state").is_empty());
}

#[test]
fn the_active_count_names_exactly_the_active_states() {
    for state in StateName::ALL {
        assert_eq!(
            active_job_count_sql().contains(&format!("'{}'", state.as_str())),
            state.is_active(),
            "{state}"
        );
    }
}

#[test]
fn the_pending_rows_are_what_the_queries_return() {
    let (_dir, journal) = with_history(1_000);
    let count = |sql: &str| -> i64 {
        journal
            .conn()
            .query_row(&format!("SELECT COUNT(*) FROM ({sql})"), [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(count(&format!("SELECT id FROM jobs WHERE {OPEN_JOBS}")), 2);
    assert_eq!(count(UNADMITTED_ALARMS), 1);
    assert_eq!(count(UNPROCESSED_TICKET_MESSAGES), 1);
    assert_eq!(journal.active_job_count().unwrap(), 1);
}
