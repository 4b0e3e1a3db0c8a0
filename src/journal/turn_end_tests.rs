//! A done report journals the turn's end with it (see `turn_end.rs`).

use super::*;
use crate::model::{StateName, Timestamp};

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(1_700_000_000_000 + ms)
}

/// A journal with job 1 running its attempt 1 on `switchboard/1`.
fn running() -> (tempfile::TempDir, Journal, i64) {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(&dir.path().join("journal.db")).unwrap();
    let id = journal
        .dispatch(&NewJob::task(Some("api".into()), "x".into(), 0), t(0))
        .unwrap();
    journal
        .change_state(id, t(10), |s| s.start(1, t(10)), "start")
        .unwrap();
    journal
        .begin_attempt(&Attempt {
            job: id,
            number: 1,
            session: "sb-1-1".into(),
            worktree: Some("/w/job-1".into()),
            branch: Some("switchboard/1".into()),
            base_commit: None,
            started_at: t(10),
            ended_at: None,
            exit_code: None,
            restarts: 0,
        })
        .unwrap();
    journal
        .change_state(id, t(20), |s| s.run(t(20)), "agent is up")
        .unwrap();
    (dir, journal, id)
}

#[test]
fn a_done_report_on_a_working_agent_ends_its_turn_in_the_same_commit() {
    let (_dir, mut journal, id) = running();
    journal
        .record_report(
            id,
            Some(ReportStatus::Done),
            None,
            Some("all done"),
            ReportSource::ClaudeHook,
            t(30),
        )
        .unwrap();
    let job = journal.job(id).unwrap().unwrap();
    assert_eq!(job.state.name(), StateName::Done);
    assert_eq!(
        journal.review_item(id).unwrap().unwrap().state,
        "committing"
    );
    assert_eq!(journal.committing_review_items().unwrap(), [id]);
    assert_eq!(journal.attempt(id, 1).unwrap().unwrap().exit_code, Some(0));
    let events: Vec<(String, String)> = journal
        .events(id)
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.message))
        .collect();
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "queued", "starting", "running", "report", "status", "done", "review"
        ]
    );
    // explain reads the status note: idle, by the hook, saying what.
    assert_eq!(events[4].1, "idle by hook: done: all done");
    assert_eq!(
        events[5].1,
        "the agent ended its turn (hook: done: all done)"
    );
}

#[test]
fn a_report_that_ends_no_turn_changes_no_state() {
    // Waiting, progress and failures are the engine's to act on; a done
    // report on a job already done (work after done) is late work.
    let (_dir, mut journal, id) = running();
    for status in [
        None,
        Some(ReportStatus::Waiting),
        Some(ReportStatus::Working),
        Some(ReportStatus::Failed),
    ] {
        journal
            .record_report(id, status, Some(50), Some("hm"), ReportSource::Cli, t(30))
            .unwrap();
        assert_eq!(
            journal.job(id).unwrap().unwrap().state.name(),
            StateName::Running
        );
    }
    journal
        .record_report(
            id,
            Some(ReportStatus::Done),
            None,
            None,
            ReportSource::Cli,
            t(40),
        )
        .unwrap();
    let before = journal.events(id).unwrap().len();
    journal
        .record_report(
            id,
            Some(ReportStatus::Done),
            None,
            None,
            ReportSource::Cli,
            t(50),
        )
        .unwrap();
    assert_eq!(
        journal.job(id).unwrap().unwrap().state.name(),
        StateName::Done
    );
    assert_eq!(
        journal.events(id).unwrap().len(),
        before + 1,
        "only the report itself"
    );
    // And a finish from a patrol that read the job before the report
    // changes nothing either (it moved on meanwhile).
    let finished = journal
        .finish_attempt(id, 1, "api", "switchboard/1", "stale", t(60))
        .unwrap();
    assert!(!finished);
    assert_eq!(journal.events(id).unwrap().len(), before + 1);
}

#[test]
fn a_done_report_before_the_agent_runs_is_left_to_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(&dir.path().join("journal.db")).unwrap();
    let id = journal
        .dispatch(&NewJob::task(Some("api".into()), "x".into(), 0), t(0))
        .unwrap();
    journal
        .record_report(
            id,
            Some(ReportStatus::Done),
            None,
            None,
            ReportSource::Cli,
            t(5),
        )
        .unwrap();
    assert_eq!(
        journal.job(id).unwrap().unwrap().state.name(),
        StateName::Queued
    );
}
