//! Whose lag a wrong sample is: the agent's own (no signal that
//! switchboard could see existed yet when the sample was taken) or
//! switchboard's (a signal existed, the job's status had not followed).
//!
//! Pure: the run gathers, per change of the truth, when the truth changed,
//! when the agent first gave a signal of it (a hook's report, a pane
//! reading the profile's title and screen rules take as the new status)
//! and when the job's status followed.

use std::fmt;

/// One change of the truth in a run, with what followed it. Times are
/// milliseconds since the dispatch, by the wall clock.
#[derive(Debug, Clone)]
pub struct Transition {
    /// What changed, in the operator's words ("question drawn").
    pub what: &'static str,
    /// When the truth changed (the fake API's phase log; for the question,
    /// when it was drawn and gone).
    pub truth_at: i64,
    /// The first signal of the new status switchboard could see, and
    /// which: "hook" (the report's journal time) or "pane" (the first
    /// pane output after the last capture that did not yet read as the
    /// new status).
    pub signal: Option<(i64, &'static str)>,
    /// The first pane output of any kind after the truth changed.
    pub output_at: Option<i64>,
    /// When the engine read the new status (its `status` note).
    pub read_at: Option<i64>,
    /// When the job's state said so (its state event).
    pub status_at: Option<i64>,
}

/// Why one sample was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Blame {
    /// Taken before the agent gave any signal of the change.
    Agent,
    /// Taken after a signal, before the job's status followed.
    Switchboard,
    /// The job's status was already the next truth's (a hook that fires
    /// before the screen shows it).
    Ahead,
    /// Neither: a wrong reading.
    Other,
}

impl fmt::Display for Blame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Blame::Agent => "agent",
            Blame::Switchboard => "switchboard",
            Blame::Ahead => "ahead",
            Blame::Other => "other",
        })
    }
}

/// Whose a wrong sample taken at `at` is. `last` is the latest change of
/// the truth at or before `at` (`None`: before any); `lags` whether the
/// sample's state is right for the truth before that change, `ahead`
/// whether it is right for the truth after the next change.
pub fn blame(at: i64, last: Option<&Transition>, lags: bool, ahead: bool) -> Blame {
    match last {
        Some(t) if lags => match t.signal {
            Some((signal_at, _)) if signal_at <= at => Blame::Switchboard,
            _ => Blame::Agent,
        },
        _ if ahead => Blame::Ahead,
        _ => Blame::Other,
    }
}

/// How long the job's status lagged a change, split: the agent's part
/// (from the truth's change to its first signal) and switchboard's (from
/// the signal, or the change if the signal came first, to the status).
/// `None` when the status never followed.
pub fn parts(t: &Transition) -> Option<(i64, i64)> {
    let status = t.status_at?;
    let signal = t.signal.map_or(status, |(at, _)| at.min(status));
    let agent = (signal - t.truth_at).max(0);
    let switchboard = (status - signal.max(t.truth_at)).max(0);
    Some((agent, switchboard))
}

/// One row of a run's transitions, for the log: each time relative to the
/// truth's change.
pub fn row(t: &Transition) -> String {
    let rel = |x: Option<i64>| x.map_or("-".to_string(), |x| format!("{:+}", x - t.truth_at));
    format!(
        "{:<16} truth +{:>6} ms | signal {:>6} ms ({}) | first output {:>6} | read {:>6} | status {:>6}",
        t.what,
        t.truth_at,
        rel(t.signal.map(|s| s.0)),
        t.signal.map_or("none", |s| s.1),
        rel(t.output_at),
        rel(t.read_at),
        rel(t.status_at),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(signal: Option<i64>) -> Transition {
        Transition {
            what: "turn end",
            truth_at: 1000,
            signal: signal.map(|s| (s, "hook")),
            output_at: None,
            read_at: None,
            status_at: Some(1300),
        }
    }

    #[test]
    fn a_lag_splits_at_the_first_signal() {
        // Truth at 1000, signal at 1200, status at 1300.
        assert_eq!(parts(&change(Some(1200))), Some((200, 100)));
        // The signal before the truth: all of the lag is switchboard's.
        assert_eq!(parts(&change(Some(900))), Some((0, 300)));
        // No signal switchboard could see: all of it is the agent's.
        assert_eq!(parts(&change(None)), Some((300, 0)));
        // The status already right: no lag.
        let early = Transition {
            status_at: Some(950),
            ..change(Some(900))
        };
        assert_eq!(parts(&early), Some((0, 0)));
        let never = Transition {
            status_at: None,
            ..change(Some(1200))
        };
        assert_eq!(parts(&never), None);
    }

    #[test]
    fn a_lag_before_any_signal_is_the_agents() {
        let t = change(Some(1200));
        assert_eq!(blame(1100, Some(&t), true, false), Blame::Agent);
        assert_eq!(blame(1100, Some(&change(None)), true, false), Blame::Agent);
    }

    #[test]
    fn a_lag_after_a_signal_is_switchboards() {
        let t = change(Some(1200));
        assert_eq!(blame(1200, Some(&t), true, false), Blame::Switchboard);
        assert_eq!(blame(1250, Some(&t), true, false), Blame::Switchboard);
        // A signal before the truth's change (Claude's PermissionRequest
        // hook fires before the menu is drawn): every lag is switchboard's.
        assert_eq!(
            blame(1001, Some(&change(Some(900))), true, false),
            Blame::Switchboard
        );
    }

    #[test]
    fn a_status_already_at_the_next_truth_is_ahead_and_anything_else_a_wrong_reading() {
        let t = change(Some(1200));
        assert_eq!(blame(1250, Some(&t), false, true), Blame::Ahead);
        assert_eq!(blame(1250, None, false, true), Blame::Ahead);
        assert_eq!(blame(1250, Some(&t), false, false), Blame::Other);
    }
}
