use std::process::Command;

use super::*;
use crate::config::Config;
use crate::model::{
    AlarmMessage, AlarmState, JobKind, JobState, Message, Source, StateName, TicketMessage,
    Timestamp,
};

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn temp_journal() -> (tempfile::TempDir, Journal) {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(&dir.path().join("journal.db")).unwrap();
    (dir, journal)
}

fn task(prompt: &str) -> NewJob {
    NewJob::task(Some("api".into()), prompt.into(), 0)
}

#[test]
fn open_creates_the_latest_schema_in_wal_mode() {
    let (dir, journal) = temp_journal();
    assert_eq!(journal.schema_version().unwrap(), schema::LATEST);
    let mode: String = journal
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = journal
        .conn()
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sync, 2, "FULL");
    drop(journal);
    // Opening again is a no-op for the schema.
    let again = Journal::open(&dir.path().join("journal.db")).unwrap();
    assert_eq!(again.schema_version().unwrap(), schema::LATEST);
}

#[test]
fn an_older_journal_migrates_forward_keeping_its_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    // A journal as version 1 of the schema left it, with a job in it.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(schema::MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO jobs (kind, state, state_since, title, prompt, created_at, updated_at) \
             VALUES ('task', 'queued', 5, 'old', 'old work', 5, 5)",
            [],
        )
        .unwrap();
        let missing: Result<i64, _> =
            conn.query_row("SELECT COUNT(*) FROM alarms", [], |r| r.get(0));
        assert!(missing.is_err(), "version 1 has no alarms table");
    }
    let journal = Journal::open(&path).unwrap();
    assert_eq!(journal.schema_version().unwrap(), schema::LATEST);
    let job = journal.job(1).unwrap().unwrap();
    assert_eq!(job.prompt, "old work");
    assert_eq!(
        journal.intake_counts().unwrap(),
        (0, 0, 0),
        "version 2 tables exist"
    );
}

#[test]
fn a_newer_journal_is_refused_not_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", schema::LATEST + 1)
            .unwrap();
    }
    let err = Journal::open(&path).err().expect("refused");
    assert!(err.to_string().contains("upgrade switchboard"), "{err}");
}

#[test]
fn dispatch_journals_a_job_and_its_event() {
    let (_dir, mut journal) = temp_journal();
    let id = journal
        .dispatch(&task("fix the login button\nit does nothing"), t(1000))
        .unwrap();
    let job = journal.job(id).unwrap().unwrap();
    assert_eq!(job.kind, JobKind::Task);
    assert_eq!(job.title, "fix the login button");
    assert_eq!(
        job.state,
        JobState::Queued {
            since: t(1000),
            not_before: None
        }
    );
    let events = journal.events(id).unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "queued");
    assert!(events[0].message.contains("api"), "{}", events[0].message);
}

#[test]
fn a_state_change_commits_with_its_event() {
    let (_dir, mut journal) = temp_journal();
    let id = journal.dispatch(&task("x"), t(0)).unwrap();
    let job = journal
        .change_state(id, t(10), |s| s.start(1, t(10)), "started: 1/8 agents")
        .unwrap();
    assert_eq!(
        job.state,
        JobState::Starting {
            attempt: 1,
            since: t(10)
        }
    );
    assert_eq!(job.attempts, 1);
    journal
        .change_state(id, t(20), |s| s.run(t(20)), "agent is up")
        .unwrap();
    journal
        .change_state(id, t(30), |s| s.wait("Proceed? [y/n]", t(30)), "agent asks")
        .unwrap();
    let stored = journal.job(id).unwrap().unwrap();
    assert_eq!(
        stored.state,
        JobState::Waiting {
            attempt: 1,
            since: t(30),
            question: "Proceed? [y/n]".into()
        }
    );
    let kinds: Vec<_> = journal
        .events(id)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["queued", "starting", "running", "waiting"]);
}

#[test]
fn a_start_held_back_before_its_attempt_began_gives_its_number_back() {
    let (_dir, mut journal) = temp_journal();
    let id = journal.dispatch(&task("x"), t(0)).unwrap();
    journal
        .change_state(id, t(10), |s| s.start(1, t(10)), "start")
        .unwrap();
    let job = journal
        .change_state(id, t(11), |s| s.hold_back(t(11)), "host out of reach")
        .unwrap();
    assert_eq!(job.attempts, 0, "no attempt spent");
    assert_eq!(journal.job(id).unwrap().unwrap().attempts, 0);
    // Once its attempt was journaled, the number stays spent.
    journal
        .change_state(id, t(20), |s| s.start(1, t(20)), "start")
        .unwrap();
    journal
        .begin_attempt(&Attempt {
            job: id,
            number: 1,
            session: "sb-1-1".into(),
            worktree: None,
            branch: None,
            base_commit: None,
            started_at: t(20),
            ended_at: None,
            exit_code: None,
            restarts: 0,
        })
        .unwrap();
    let job = journal
        .change_state(id, t(21), |s| s.hold_back(t(21)), "host dropped")
        .unwrap();
    assert_eq!(job.attempts, 1);
}

#[test]
fn an_illegal_change_changes_nothing() {
    let (_dir, mut journal) = temp_journal();
    let id = journal.dispatch(&task("x"), t(0)).unwrap();
    let err = journal
        .change_state(id, t(5), |s| s.finish(t(5)), "done?")
        .unwrap_err();
    assert!(matches!(err, JournalError::Transition(_)), "{err}");
    assert_eq!(
        journal.job(id).unwrap().unwrap().state.name(),
        StateName::Queued
    );
    assert_eq!(journal.events(id).unwrap().len(), 1);
    let err = journal
        .change_state(99, t(5), |s| s.kill("x", t(5)), "kill")
        .unwrap_err();
    assert!(matches!(err, JournalError::NoJob(99)));
}

#[test]
fn integrity_check_is_ok() {
    let (_dir, mut journal) = temp_journal();
    journal.dispatch(&task("x"), t(0)).unwrap();
    assert_eq!(journal.integrity_check().unwrap(), vec!["ok".to_string()]);
}

#[test]
fn ingest_records_each_kind_and_keeps_rejections() {
    let (_dir, mut journal) = temp_journal();
    let priorities = Config::builtin().unwrap().priorities;
    let ticket = |title: &str| Incoming::Message {
        delivery: None,
        message: Message::Ticket(TicketMessage {
            key: "OPS-1".into(),
            title: title.into(),
            body: String::new(),
            project: None,
            event: None,
        }),
    };
    let batch = vec![
        Incoming::Message {
            delivery: None,
            message: Message::Alarm(AlarmMessage {
                account: "1234".into(),
                name: "HighCPU".into(),
                state: AlarmState::Alarm,
                at: None,
                reason: None,
                region: None,
            }),
        },
        ticket("first"),
        Incoming::Rejected {
            line: Some(3),
            reason: "malformed JSON".into(),
            raw: b"{".to_vec(),
        },
        ticket("second"),
    ];
    let outcome = journal
        .ingest(&batch, &Source::cli("test"), &priorities, t(50))
        .unwrap();
    assert_eq!((outcome.accepted, outcome.rejected), (3, 1));
    assert!(
        outcome.jobs.is_empty(),
        "tickets and alarms wait for the scheduler"
    );
    assert_eq!(
        journal.intake_counts().unwrap(),
        (2, 1, 1),
        "two ticket messages, one alarm, one rejected"
    );
    let (title, updates): (String, i64) = journal
        .conn()
        .query_row(
            "SELECT title, updates FROM tickets WHERE key = 'OPS-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((title.as_str(), updates), ("second", 1));
    let at: i64 = journal
        .conn()
        .query_row("SELECT at FROM alarms", [], |r| r.get(0))
        .unwrap();
    assert_eq!(at, 50, "an alarm without its own time takes its arrival");
    let raw: Vec<u8> = journal
        .conn()
        .query_row("SELECT raw FROM rejected", [], |r| r.get(0))
        .unwrap();
    assert_eq!(raw, b"{");
}

/// Runs `test` of this binary in a child process that aborts at `point`.
fn crash_child(test: &str, point: &str, db: &std::path::Path) {
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SWITCHBOARD_TEST_CRASH", point)
        .env("SWITCHBOARD_TEST_DB", db)
        .status()
        .unwrap();
    assert!(!status.success(), "the child must have crashed");
}

#[test]
#[ignore = "run by crash_between_two_writes_loses_neither in a child process"]
fn child_dispatches() {
    let path = std::env::var("SWITCHBOARD_TEST_DB").unwrap();
    let mut journal = Journal::open(std::path::Path::new(&path)).unwrap();
    journal.dispatch(&task("crashes half way"), t(7)).unwrap();
}

#[test]
#[ignore = "run by crash_between_two_writes_loses_neither in a child process"]
fn child_changes_state() {
    let path = std::env::var("SWITCHBOARD_TEST_DB").unwrap();
    let mut journal = Journal::open(std::path::Path::new(&path)).unwrap();
    journal
        .change_state(1, t(9), |s| s.kill("operator", t(9)), "killed")
        .unwrap();
}

#[test]
fn crash_between_two_writes_loses_neither() {
    let (dir, mut journal) = temp_journal();
    let db = dir.path().join("journal.db");
    let id = journal.dispatch(&task("survives"), t(1)).unwrap();
    drop(journal);

    crash_child(
        "journal::tests::child_changes_state",
        "between-state-and-event",
        &db,
    );
    crash_child(
        "journal::tests::child_dispatches",
        "between-job-and-event",
        &db,
    );

    let journal = Journal::open(&db).unwrap();
    let job = journal.job(id).unwrap().unwrap();
    assert_eq!(
        job.state.name(),
        StateName::Queued,
        "the half-made state change is gone"
    );
    assert_eq!(journal.events(id).unwrap().len(), 1, "and so is its event");
    assert_eq!(
        journal.jobs(&JobFilter::default()).unwrap().len(),
        1,
        "no half-made job"
    );
    assert!(
        journal
            .events_after(0)
            .unwrap()
            .iter()
            .all(|e| e.job == Some(id))
    );
    assert_eq!(journal.integrity_check().unwrap(), vec!["ok".to_string()]);
}

/// A finish is one transaction: the review item, the job done and the
/// attempt ended commit together, or (a job that cannot finish) none of
/// them does.
#[test]
fn a_finish_commits_its_review_item_and_done_together_or_not_at_all() {
    let (_dir, mut journal) = temp_journal();
    let stat = crate::workspace::DiffStat {
        files: 1,
        insertions: 2,
        deletions: 0,
    };
    let queued = journal.dispatch(&task("x"), t(0)).unwrap();
    let finished = journal
        .finish_attempt(queued, 1, "api", "switchboard/1", "done?", t(5))
        .unwrap();
    assert!(!finished, "a job not at work is not finished");
    let kinds: Vec<_> = journal
        .events(queued)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["queued"], "no review item without the done");

    let id = journal.dispatch(&task("y"), t(0)).unwrap();
    journal
        .change_state(id, t(10), |s| s.start(1, t(10)), "started")
        .unwrap();
    journal
        .change_state(id, t(20), |s| s.run(t(20)), "agent is up")
        .unwrap();
    let finished = journal
        .finish_attempt(id, 1, "api", "switchboard/2", "turn ended", t(30))
        .unwrap();
    assert!(finished);
    let item = journal.review_item(id).unwrap().expect("its review item");
    assert_eq!(item.state, "committing", "done before the commit");
    assert_eq!(journal.committing_review_items().unwrap(), [id]);
    journal
        .add_review_item(id, 1, "api", "switchboard/2", stat, None, t(40))
        .unwrap();
    assert_eq!(journal.review_item(id).unwrap().unwrap().state, "ready");
    assert!(journal.committing_review_items().unwrap().is_empty());
    assert_eq!(
        journal.job(id).unwrap().unwrap().state.name(),
        StateName::Done
    );
    let kinds: Vec<_> = journal
        .events(id)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        ["queued", "starting", "running", "done", "review", "review"]
    );
}

/// Command kinds are read as a typed kind; a row of a kind this version
/// does not know (a newer switchboard wrote it) is kept as its text, for
/// the engine to refuse by name, and never read as another kind.
#[test]
fn command_kinds_are_typed_and_an_unknown_one_keeps_its_name() {
    let (_dir, mut journal) = temp_journal();
    let now = Timestamp::from_millis(0);
    for kind in crate::journal::CommandKind::ALL {
        assert_eq!(
            crate::journal::CommandKind::parse(kind.as_str()),
            Some(kind)
        );
    }
    journal
        .record_command(crate::journal::CommandKind::Pause, None, None, now)
        .unwrap();
    journal
        .conn()
        .execute(
            "INSERT INTO commands (at, kind, job_id, text) VALUES (0, 'frobnicate', NULL, NULL)",
            [],
        )
        .unwrap();
    let pending = journal.pending_commands().unwrap();
    assert_eq!(pending[0].kind, Ok(crate::journal::CommandKind::Pause));
    assert_eq!(pending[1].kind, Err("frobnicate".to_string()));
    assert_eq!(pending[1].kind_text(), "frobnicate");
}
