use super::*;

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

/// One sample state of every name.
fn samples() -> Vec<JobState> {
    vec![
        JobState::Queued {
            since: t(0),
            not_before: None,
        },
        JobState::Starting {
            attempt: 1,
            since: t(1),
        },
        JobState::Running {
            attempt: 1,
            since: t(2),
        },
        JobState::Waiting {
            attempt: 1,
            since: t(3),
            question: "proceed?".into(),
        },
        JobState::Stalled {
            attempt: 1,
            since: t(4),
        },
        JobState::Done {
            attempt: 1,
            at: t(5),
        },
        JobState::Failed {
            attempt: 1,
            at: t(6),
            reason: "exit 1".into(),
        },
        JobState::Killed {
            at: t(7),
            reason: "operator".into(),
        },
    ]
}

type Move = fn(&JobState) -> Result<JobState, TransitionError>;

/// Every move, by name, applied at time 100.
fn moves() -> Vec<(&'static str, Move)> {
    vec![
        ("start", |s| s.start(2, t(100))),
        ("run", |s| s.run(t(100))),
        ("wait", |s| s.wait("continue? [y/n]", t(100))),
        ("stall", |s| s.stall(t(100))),
        ("finish", |s| s.finish(t(100))),
        ("fail", |s| s.fail("exit 3", t(100))),
        ("requeue", |s| s.requeue(Some(t(500)), t(100))),
        ("kill", |s| s.kill("operator", t(100))),
        ("hold back", |s| s.hold_back(t(100))),
    ]
}

/// The whole table of legal moves: (from, move) → to.
fn legal() -> Vec<(StateName, &'static str, StateName)> {
    use StateName::*;
    vec![
        (Queued, "start", Starting),
        (Queued, "kill", Killed),
        (Starting, "run", Running),
        (Starting, "wait", Waiting),
        (Starting, "fail", Failed),
        (Starting, "kill", Killed),
        (Starting, "hold back", Queued),
        (Running, "wait", Waiting),
        (Running, "stall", Stalled),
        (Running, "finish", Done),
        (Running, "fail", Failed),
        (Running, "kill", Killed),
        (Waiting, "run", Running),
        (Waiting, "finish", Done),
        (Waiting, "fail", Failed),
        (Waiting, "kill", Killed),
        (Stalled, "run", Running),
        (Stalled, "wait", Waiting),
        (Stalled, "finish", Done),
        (Stalled, "fail", Failed),
        (Stalled, "kill", Killed),
        (Done, "run", Running),
        (Done, "requeue", Queued),
        (Failed, "requeue", Queued),
        (Killed, "requeue", Queued),
    ]
}

#[test]
fn every_move_from_every_state_matches_the_table() {
    let table = legal();
    let mut legal_seen = 0;
    for state in samples() {
        for (name, mv) in moves() {
            let expected = table
                .iter()
                .find(|(from, m, _)| *from == state.name() && *m == name)
                .map(|(_, _, to)| *to);
            match (mv(&state), expected) {
                (Ok(next), Some(to)) => {
                    assert_eq!(next.name(), to, "{} --{name}-->", state.name());
                    assert_eq!(next.since(), t(100), "the new state starts now");
                    legal_seen += 1;
                }
                (Err(err), None) => {
                    assert_eq!(err.from, state.name());
                    assert!(err.to_string().contains(": cannot "), "{err}");
                }
                (Ok(next), None) => {
                    panic!(
                        "{} --{name}--> {} should be refused",
                        state.name(),
                        next.name()
                    )
                }
                (Err(err), Some(to)) => panic!("{} --{name}--> {to} refused: {err}", state.name()),
            }
        }
    }
    assert_eq!(legal_seen, table.len());
}

#[test]
fn the_attempt_number_travels_with_the_agent() {
    let starting = JobState::new(t(0)).start(3, t(1)).unwrap();
    let running = starting.run(t(2)).unwrap();
    let waiting = running.wait("ok?", t(3)).unwrap();
    let done = waiting.finish(t(4)).unwrap();
    assert_eq!(
        done,
        JobState::Done {
            attempt: 3,
            at: t(4)
        }
    );
    let again = done.run(t(5)).unwrap();
    assert_eq!(again.attempt(), Some(3));
}

#[test]
fn a_retry_waits_for_its_not_before_time() {
    let failed = JobState::Failed {
        attempt: 1,
        at: t(0),
        reason: "exit 1".into(),
    };
    let queued = failed.requeue(Some(t(1000)), t(10)).unwrap();
    let early = queued.start(2, t(999)).unwrap_err();
    assert_eq!(early.from, StateName::Queued);
    assert_eq!(queued.start(2, t(1000)).unwrap().attempt(), Some(2));
}

#[test]
fn failure_and_kill_keep_their_reasons() {
    let running = JobState::Running {
        attempt: 2,
        since: t(0),
    };
    match running.fail("exit 7", t(1)).unwrap() {
        JobState::Failed {
            reason, attempt, ..
        } => {
            assert_eq!(reason, "exit 7");
            assert_eq!(attempt, 2);
        }
        other => panic!("{other:?}"),
    }
    match running.kill("timeout after 2h", t(1)).unwrap() {
        JobState::Killed { reason, .. } => assert_eq!(reason, "timeout after 2h"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn over_and_active_partition_the_states() {
    for name in StateName::ALL {
        assert!(!(name.is_over() && name.is_active()), "{name}");
        assert_eq!(name.as_str().parse::<StateName>().unwrap(), name);
    }
    assert!("Running".parse::<StateName>().is_ok());
    let err = "sleeping".parse::<StateName>().unwrap_err();
    assert!(err.contains("queued"), "{err}");
}
