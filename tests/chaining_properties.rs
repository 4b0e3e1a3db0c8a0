//! Chaining is total: random alarm sequences of a few accounts, with equal,
//! far past and far future times and any mix of ALARM, OK and
//! INSUFFICIENT_DATA, arrive in random order, one at a time, each through a
//! freshly opened journal and a real `schedule` pass. No pass fails, and
//! after every alarm the chaining rules of DESIGN.md hold:
//!
//! - an ALARM joins a chain of its account that it is within the window of
//!   (at most one window after its latest ALARM, at most one window before
//!   its first); when there is none it opens a chain with its one incident;
//! - an OK or INSUFFICIENT_DATA never makes a job: it resolves a chain it is
//!   within the window of, else it is recorded on no chain;
//! - every chain has exactly one job, no job has two chains, and a chain
//!   counts exactly the ALARMs chained to it and spans their times.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use proptest::prelude::*;
use switchboard::config::Config;
use switchboard::journal::{Incoming, Journal};
use switchboard::model::{AlarmMessage, AlarmState, Message, Source, Timestamp};
use switchboard::scheduler::{Chain, joins};

const T0: i64 = 1_800_000_000_000;
const MIN: i64 = 60_000;
const FAR_PAST: i64 = -62_135_596_800_000; // 0001-01-01
const FAR_FUTURE: i64 = 253_402_300_799_000; // 9999-12-31T23:59:59Z

fn at_strategy() -> impl Strategy<Value = i64> {
    prop_oneof![
        8 => (-8i64..8).prop_map(|h| T0 + h * 30 * MIN), // half hours: equal times and window edges
        4 => (-600i64..600).prop_map(|m| T0 + m * MIN),
        1 => Just(FAR_PAST),
        1 => Just(FAR_FUTURE),
        1 => Just(T0 + 60 * MIN), // exactly one window after T0
    ]
}

fn alarm_strategy() -> impl Strategy<Value = (u8, u8, i64)> {
    (0u8..3, 0u8..6, at_strategy())
}

fn sequences() -> impl Strategy<Value = Vec<(u8, u8, i64)>> {
    proptest::collection::vec(alarm_strategy(), 1..18).prop_shuffle()
}

fn state_of(s: u8) -> AlarmState {
    match s {
        0 => AlarmState::Ok,
        1 => AlarmState::InsufficientData,
        _ => AlarmState::Alarm,
    }
}

struct Rows {
    chains: BTreeMap<i64, Chain>,
    /// (account, state, at, chain_id) of every alarm row.
    alarms: Vec<(String, String, i64, Option<i64>)>,
    incidents: Vec<(i64, Option<i64>)>,
}

fn rows(db: &Path) -> Rows {
    let journal = Journal::open(db).unwrap();
    let chains = journal
        .chains()
        .unwrap()
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let conn = rusqlite::Connection::open(db).unwrap();
    let alarms = conn
        .prepare("SELECT account, state, at, chain_id FROM alarms ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let incidents = conn
        .prepare("SELECT id, chain_id FROM jobs WHERE kind = 'incident'")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    Rows {
        chains,
        alarms,
        incidents,
    }
}

fn check_step(before: &Rows, after: &Rows, window: Duration) -> Result<(), TestCaseError> {
    let (account, state, at, chain) = after.alarms.last().unwrap().clone();
    let at_ts = Timestamp::from_millis(at);
    let joinable: Vec<&Chain> = before
        .chains
        .values()
        .filter(|c| c.account == account && joins(c, at_ts, window))
        .collect();
    let chain = chain.ok_or_else(|| TestCaseError::fail("alarm left unchained"))?;
    if state == "ALARM" {
        if joinable.is_empty() {
            prop_assert!(
                !before.chains.contains_key(&chain),
                "an ALARM that joins no chain opens one"
            );
            let c = &after.chains[&chain];
            prop_assert_eq!((c.first_at, c.latest_at, c.alarms), (at_ts, at_ts, 1));
            prop_assert!(c.job.is_some());
        } else {
            prop_assert!(
                joinable.iter().any(|c| c.id == chain),
                "ALARM at {} joined chain {} instead of one of {:?}",
                at,
                chain,
                joinable
            );
            let (was, now) = (&before.chains[&chain], &after.chains[&chain]);
            prop_assert_eq!(now.alarms, was.alarms + 1);
            prop_assert_eq!(now.first_at, was.first_at.min(at_ts));
            prop_assert_eq!(now.latest_at, was.latest_at.max(at_ts));
            prop_assert!(!now.resolved);
            prop_assert_eq!(after.chains.len(), before.chains.len());
        }
    } else {
        prop_assert_eq!(
            after.chains.len(),
            before.chains.len(),
            "OK never opens a chain"
        );
        prop_assert_eq!(
            after.incidents.len(),
            before.incidents.len(),
            "OK never makes a job"
        );
        if joinable.is_empty() {
            prop_assert_eq!(chain, 0);
        } else {
            prop_assert!(joinable.iter().any(|c| c.id == chain));
            prop_assert!(after.chains[&chain].resolved);
        }
    }
    Ok(())
}

fn check_totals(rows: &Rows) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        rows.incidents.len(),
        rows.chains.len(),
        "one incident a chain"
    );
    let mut jobs = HashSet::new();
    for chain in rows.chains.values() {
        let job = chain
            .job
            .ok_or_else(|| TestCaseError::fail("chain without job"))?;
        prop_assert!(jobs.insert(job), "job #{} has two chains", job);
        prop_assert!(rows.incidents.contains(&(job, Some(chain.id))));
        let alarms: Vec<i64> = rows
            .alarms
            .iter()
            .filter(|a| a.1 == "ALARM" && a.3 == Some(chain.id))
            .map(|a| a.2)
            .collect();
        prop_assert_eq!(chain.alarms, alarms.len() as u64);
        prop_assert_eq!(alarms.iter().min().copied(), Some(chain.first_at.millis()));
        prop_assert_eq!(alarms.iter().max().copied(), Some(chain.latest_at.millis()));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn chaining_is_total_in_any_order(alarms in sequences()) {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("journal.db");
        let config = Config::builtin().unwrap();
        let window = config.scheduler.chain_window;
        let mut before = rows(&db);
        for (account, state, at) in alarms {
            let mut journal = Journal::open(&db).unwrap();
            let message = Message::Alarm(AlarmMessage {
                account: format!("acct{account}"),
                name: "T".into(),
                state: state_of(state),
                at: Some(Timestamp::from_millis(at)),
                reason: None,
                region: None,
            });
            journal
                .ingest(&[Incoming::message(message)], &Source::cli("test"), &config.priorities, Timestamp::now())
                .unwrap();
            drop(journal);
            let mut journal = Journal::open(&db).unwrap();
            let result = journal.schedule(&config, Timestamp::now(), false);
            prop_assert!(result.is_ok(), "a pass failed: {:?}", result.err());
            drop(journal);
            let after = rows(&db);
            check_step(&before, &after, window)?;
            check_totals(&after)?;
            before = after;
        }
    }
}
