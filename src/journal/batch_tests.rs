//! The journal's reads of many jobs at once, which the engine makes each
//! pass instead of one read per agent.

use super::*;
use crate::model::Timestamp;

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn journal_with_jobs(n: usize) -> (tempfile::TempDir, Journal, Vec<i64>) {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(&dir.path().join("journal.db")).unwrap();
    let ids = (0..n)
        .map(|i| {
            journal
                .dispatch(
                    &NewJob::task(Some("api".into()), format!("job {i}"), 0),
                    t(1),
                )
                .unwrap()
        })
        .collect();
    (dir, journal, ids)
}

#[test]
fn the_latest_status_reports_of_many_jobs_are_each_ones_newest_with_a_status() {
    let (_dir, mut journal, ids) = journal_with_jobs(3);
    let (a, b, c) = (ids[0], ids[1], ids[2]);
    journal
        .record_report(
            a,
            Some(ReportStatus::Working),
            None,
            None,
            ReportSource::Cli,
            t(10),
        )
        .unwrap();
    journal
        .record_report(
            a,
            Some(ReportStatus::Done),
            None,
            Some("all done"),
            ReportSource::Cli,
            t(20),
        )
        .unwrap();
    // A progress report without a status is not a status report.
    journal
        .record_report(a, None, Some(50), None, ReportSource::Cli, t(30))
        .unwrap();
    journal
        .record_report(
            b,
            Some(ReportStatus::Waiting),
            None,
            None,
            ReportSource::ClaudeHook,
            t(15),
        )
        .unwrap();
    let reports = journal.latest_status_reports(&[a, b, c, 999]).unwrap();
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert_eq!(reports[&a].status, Some(ReportStatus::Done));
    assert_eq!(reports[&a].message.as_deref(), Some("all done"));
    assert_eq!(reports[&b].status, Some(ReportStatus::Waiting));
    assert_eq!(reports[&b].source, "claude-hook");
    // The one-job read agrees with the read of many.
    assert_eq!(
        journal.latest_status_report(a).unwrap().as_ref(),
        reports.get(&a)
    );
    assert_eq!(journal.latest_status_report(c).unwrap(), None);
    assert!(journal.latest_status_reports(&[]).unwrap().is_empty());
}

#[test]
fn jobs_by_id_reads_the_jobs_that_exist() {
    let (_dir, journal, ids) = journal_with_jobs(3);
    let jobs = journal.jobs_by_id(&[ids[2], ids[0], 999]).unwrap();
    assert_eq!(jobs.len(), 2);
    assert_eq!(jobs[&ids[0]], journal.job(ids[0]).unwrap().unwrap());
    assert_eq!(
        jobs[&ids[2]].title,
        journal.job(ids[2]).unwrap().unwrap().title
    );
    assert!(journal.jobs_by_id(&[]).unwrap().is_empty());
}

#[test]
fn known_attempts_are_those_the_journal_has_begun() {
    let (_dir, mut journal, ids) = journal_with_jobs(2);
    for (job, number) in [(ids[0], 1), (ids[0], 2), (ids[1], 1)] {
        journal
            .begin_attempt(&Attempt {
                job,
                number,
                session: format!("sb-{job}-{number}"),
                worktree: None,
                branch: None,
                base_commit: None,
                started_at: t(5),
                ended_at: None,
                exit_code: None,
                restarts: 0,
            })
            .unwrap();
    }
    let known = journal
        .known_attempts(&[(ids[0], 2), (ids[0], 3), (ids[1], 1), (999, 1)])
        .unwrap();
    let expected: std::collections::HashSet<_> = [(ids[0], 2), (ids[1], 1)].into();
    assert_eq!(known, expected);
}

#[test]
fn reading_many_jobs_at_once_is_one_statement_whatever_their_number() {
    let (_dir, journal, ids) = journal_with_jobs(50);
    let cost = |n: usize| {
        let before = journal.statements();
        journal.latest_status_reports(&ids[..n]).unwrap();
        journal.jobs_by_id(&ids[..n]).unwrap();
        let pairs: Vec<(i64, u32)> = ids[..n].iter().map(|&id| (id, 1)).collect();
        journal.known_attempts(&pairs).unwrap();
        journal.statements() - before
    };
    assert_eq!(cost(2), cost(50));
}
