//! Whether a pass needs the scheduler. Loading its state reads every job
//! that is not over, so a pass at rest (nothing journaled since the last
//! schedule, no retry or timeout due) skips it: an idle engine's pass costs
//! what changed, not what waits. Pure, apart from the clock it is given.

use std::time::{Duration, Instant};

use crate::model::Timestamp;
use crate::scheduler::Holds;

/// The scheduler runs at least this often even when nothing seems to have
/// changed: a safety net, never the way work is found.
pub const AT_LEAST_EVERY: Duration = Duration::from_secs(60);

/// How the journal stood when the scheduler last ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheduled {
    /// The journal's change mark read before that schedule began.
    pub mark: JournalMark,
    /// When the scheduler asked to look again (a retry, a timeout).
    pub wake: Option<Timestamp>,
    /// The drain and pause it was decided under: either changing is news.
    pub holds: Holds,
    pub at: Instant,
}

/// What moves whenever the journal changes: SQLite's `data_version` (moved
/// by other connections' commits) and this connection's own row changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalMark {
    pub others: i64,
    pub own: i64,
}

/// Whether the scheduler must run, given the last schedule (if any), the
/// journal's mark now, and the time.
pub fn due(
    last: Option<&Scheduled>,
    mark: JournalMark,
    holds: Holds,
    now: Timestamp,
    clock: Instant,
) -> bool {
    let Some(last) = last else {
        return true;
    };
    last.mark != mark
        || last.holds != holds
        || last.wake.is_some_and(|w| now >= w)
        || clock.saturating_duration_since(last.at) >= AT_LEAST_EVERY
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(others: i64, own: i64) -> JournalMark {
        JournalMark { others, own }
    }

    #[test]
    fn the_scheduler_runs_only_on_change_or_when_due() {
        let t0 = Instant::now();
        let last = Scheduled {
            mark: mark(3, 10),
            wake: Some(Timestamp::from_millis(5_000)),
            holds: Holds::default(),
            at: t0,
        };
        let at = |ms| Timestamp::from_millis(ms);
        let none = Holds::default();
        let draining = Holds {
            draining: true,
            paused: false,
        };
        let paused = Holds {
            draining: false,
            paused: true,
        };
        assert!(due(None, mark(3, 10), none, at(0), t0), "first pass");
        assert!(
            !due(Some(&last), mark(3, 10), none, at(1_000), t0),
            "at rest"
        );
        assert!(
            due(Some(&last), mark(4, 10), none, at(1_000), t0),
            "another process wrote"
        );
        assert!(
            due(Some(&last), mark(3, 11), none, at(1_000), t0),
            "this engine wrote"
        );
        assert!(
            due(Some(&last), mark(3, 10), draining, at(1_000), t0),
            "a drain began"
        );
        assert!(
            due(Some(&last), mark(3, 10), paused, at(1_000), t0),
            "a pause began"
        );
        let paused_last = Scheduled {
            holds: paused,
            ..last
        };
        assert!(
            due(Some(&paused_last), mark(3, 10), none, at(1_000), t0),
            "a pause ended"
        );
        assert!(
            due(Some(&last), mark(3, 10), none, at(5_000), t0),
            "a retry is due"
        );
        assert!(
            due(
                Some(&last),
                mark(3, 10),
                none,
                at(1_000),
                t0 + AT_LEAST_EVERY
            ),
            "the safety net"
        );
        let no_wake = Scheduled { wake: None, ..last };
        assert!(!due(Some(&no_wake), mark(3, 10), none, at(1 << 40), t0));
    }
}
