//! A scheduler pass on the journal never fails for good because of one
//! message, one row or a concurrent writer (issue 10, items 2 and 3).

use std::path::Path;

use switchboard::config::Config;
use switchboard::journal::{Incoming, Journal, NewJob};
use switchboard::model::{AlarmMessage, AlarmState, Message, Source, TicketMessage, Timestamp};

fn config() -> Config {
    Config::from_texts(
        Some("[routing]\ndefault_project = \"api\"\n"),
        Path::new("test.toml"),
    )
    .unwrap()
}

fn alarm(account: &str, state: AlarmState, at: &str) -> Incoming {
    Incoming::Message {
        delivery: None,
        message: Message::Alarm(AlarmMessage {
            account: account.into(),
            name: "T".into(),
            state,
            at: Some(Timestamp::parse(at).unwrap()),
            reason: None,
            region: None,
        }),
    }
}

fn ticket(key: &str) -> Incoming {
    Incoming::Message {
        delivery: None,
        message: Message::Ticket(TicketMessage {
            key: key.into(),
            title: format!("ticket {key}"),
            body: String::new(),
            project: None,
            event: None,
        }),
    }
}

fn ingest(journal: &mut Journal, batch: &[Incoming]) {
    let config = config();
    journal
        .ingest(
            batch,
            &Source::cli("test"),
            &config.priorities,
            Timestamp::now(),
        )
        .unwrap();
}

/// (chains, alarms with no chain decision, incident jobs) as the journal has them.
fn chain_counts(db: &Path) -> (i64, i64, i64) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    (
        count("SELECT COUNT(*) FROM chains"),
        count("SELECT COUNT(*) FROM alarms WHERE chain_id IS NULL"),
        count("SELECT COUNT(*) FROM jobs WHERE kind = 'incident'"),
    )
}

fn schedule_twice_reopening(db: &Path) {
    let config = config();
    for _ in 0..2 {
        let mut journal = Journal::open(db).unwrap();
        journal
            .schedule(&config, Timestamp::now(), false)
            .expect("a pass never fails for the order of alarms");
    }
}

#[test]
fn an_alarm_older_than_its_accounts_chain_by_hours_opens_its_own_chain() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let mut journal = Journal::open(&db).unwrap();
    ingest(
        &mut journal,
        &[
            alarm("42", AlarmState::Alarm, "2026-01-01T05:00:00Z"),
            alarm("42", AlarmState::Alarm, "2026-01-01T00:00:00Z"),
        ],
    );
    drop(journal);
    schedule_twice_reopening(&db);
    assert_eq!(
        chain_counts(&db),
        (2, 0, 2),
        "two incidents, every alarm chained"
    );
    // A later alarm near the old one joins it, though the account has a newer chain.
    let mut journal = Journal::open(&db).unwrap();
    ingest(
        &mut journal,
        &[alarm("42", AlarmState::Alarm, "2026-01-01T00:30:00Z")],
    );
    drop(journal);
    schedule_twice_reopening(&db);
    assert_eq!(chain_counts(&db), (2, 0, 2));
    let journal = Journal::open(&db).unwrap();
    let old = journal
        .chains()
        .unwrap()
        .into_iter()
        .find(|c| c.first_at == Timestamp::parse("2026-01-01T00:00:00Z").unwrap())
        .unwrap();
    assert_eq!(old.alarms, 2);
    assert_eq!(
        old.latest_at,
        Timestamp::parse("2026-01-01T00:30:00Z").unwrap()
    );
    assert_eq!(journal.integrity_check().unwrap(), ["ok"]);
}

#[test]
fn an_alarm_stamped_in_the_far_future_then_one_now_both_chain() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let mut journal = Journal::open(&db).unwrap();
    let now = Timestamp::now().rfc3339();
    ingest(
        &mut journal,
        &[alarm("42", AlarmState::Alarm, "9999-12-31T23:59:59Z")],
    );
    drop(journal);
    schedule_twice_reopening(&db);
    let mut journal = Journal::open(&db).unwrap();
    ingest(
        &mut journal,
        &[
            alarm("42", AlarmState::Alarm, &now),
            alarm("42", AlarmState::Ok, "0001-01-01T00:00:00Z"),
        ],
    );
    drop(journal);
    schedule_twice_reopening(&db);
    assert_eq!(chain_counts(&db), (2, 0, 2));
}

#[test]
fn a_dispatch_between_the_load_and_the_record_takes_its_id_and_the_pass_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let mut journal = Journal::open(&db).unwrap();
    ingest(&mut journal, &[ticket("OPS-1"), ticket("OPS-2")]);
    let config = config();
    let state = journal
        .scheduler_state(config.scheduler.chain_window)
        .unwrap();
    // Another process dispatches while the scheduler decides: it takes the
    // id the state would give the first ticket's job.
    let mut other = Journal::open(&db).unwrap();
    let dispatched = other
        .dispatch(
            &NewJob::task(Some("api".into()), "x".into(), 0),
            Timestamp::now(),
        )
        .unwrap();
    assert_eq!(dispatched, state.next_job, "the race the test is about");
    let (decisions, _) = journal
        .schedule_loaded(state, &config, Timestamp::now(), false)
        .expect("a concurrent dispatch never fails the pass");
    assert!(decisions.iter().any(|d| d.kind() == "open_ticket"));
    // Both tickets have their own job, the dispatched task kept its own.
    let jobs = journal.jobs(&Default::default()).unwrap();
    assert_eq!(jobs.len(), 3, "{jobs:#?}");
    let ids: std::collections::BTreeSet<_> = jobs.iter().map(|j| j.id).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(journal.job(dispatched).unwrap().unwrap().title, "x");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let tickets: Vec<(String, i64, String)> = conn
        .prepare("SELECT t.key, t.job_id, j.ticket_key FROM tickets t JOIN jobs j ON j.id = t.job_id ORDER BY t.key")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(tickets.len(), 2);
    for (key, _, job_key) in &tickets {
        assert_eq!(key, job_key);
    }
    // Level-triggered: nothing is admitted twice.
    let (again, _) = journal.schedule(&config, Timestamp::now(), false).unwrap();
    assert!(
        again.iter().all(|d| !d.kind().starts_with("open")),
        "{again:#?}"
    );
}

#[test]
fn real_concurrent_dispatchers_never_fail_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let mut journal = Journal::open(&db).unwrap();
    let tickets: Vec<Incoming> = (0..300).map(|i| ticket(&format!("OPS-{i}"))).collect();
    ingest(&mut journal, &tickets);
    let config = config();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || {
                let mut other = Journal::open(&db).unwrap();
                for i in 0..100 {
                    other
                        .dispatch(
                            &NewJob::task(Some("api".into()), format!("w{w} {i}"), 0),
                            Timestamp::now(),
                        )
                        .unwrap();
                }
            })
        })
        .collect();
    // Passes until the writers are done and every ticket has its job.
    loop {
        let done = writers.iter().all(|w| w.is_finished());
        journal
            .schedule(&config, Timestamp::now(), false)
            .expect("no pass fails while others dispatch");
        if done {
            break;
        }
    }
    for w in writers {
        w.join().unwrap();
    }
    journal.schedule(&config, Timestamp::now(), false).unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM jobs WHERE kind = 'task'"), 200);
    assert_eq!(
        count("SELECT COUNT(*) FROM jobs WHERE kind = 'ticket'"),
        300
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM tickets WHERE job_id IS NULL"),
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM messages WHERE processed_at IS NULL"),
        0
    );
}

#[test]
fn an_unreadable_ticket_message_is_rejected_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let mut journal = Journal::open(&db).unwrap();
    ingest(&mut journal, &[ticket("OPS-1")]);
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute(
            "INSERT INTO messages (received_at, kind, source, body) VALUES (0, 'ticket', 'old', 'not json')",
            [],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO alarms (account, name, state, at, received_at) VALUES ('1', 'X', 'WEIRD', 0, 0)",
            [],
        )
        .unwrap();
    }
    ingest(&mut journal, &[ticket("OPS-2")]);
    let config = config();
    let (decisions, _) = journal
        .schedule(&config, Timestamp::now(), false)
        .expect("one bad row never fails the pass");
    assert_eq!(
        decisions
            .iter()
            .filter(|d| d.kind() == "open_ticket")
            .count(),
        2,
        "{decisions:#?}"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let reasons: Vec<String> = conn
        .prepare("SELECT reason FROM rejected ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("ticket message")));
    assert!(reasons.iter().any(|r| r.contains("alarm")));
    let unprocessed: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM messages WHERE processed_at IS NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unprocessed, 0);
    // And the next pass is quiet.
    let (again, _) = journal.schedule(&config, Timestamp::now(), false).unwrap();
    assert!(
        again.iter().all(|d| d.kind() != "open_ticket"),
        "{again:#?}"
    );
}

#[test]
fn an_unreadable_job_fails_with_its_reason_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let mut journal = Journal::open(&db).unwrap();
    let bad = journal
        .dispatch(
            &NewJob::task(Some("api".into()), "bad".into(), 0),
            Timestamp::now(),
        )
        .unwrap();
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute("UPDATE jobs SET kind = 'riddle' WHERE id = ?1", [bad])
            .unwrap();
    }
    ingest(&mut journal, &[ticket("OPS-1")]);
    let config = config();
    journal
        .schedule(&config, Timestamp::now(), false)
        .expect("one bad job never fails the pass");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (state, reason): (String, String) = conn
        .query_row("SELECT state, reason FROM jobs WHERE id = ?1", [bad], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(state, "failed");
    assert!(reason.contains("cannot be read"), "{reason}");
    journal.schedule(&config, Timestamp::now(), false).unwrap();
}
