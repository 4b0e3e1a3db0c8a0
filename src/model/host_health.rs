//! Whether a host can be reached now, as the SSH side last found it. The
//! scheduler starts nothing on an unreachable host, and the patrol neither
//! restarts its agents elsewhere nor counts them dead.

use serde::Serialize;

use super::{HostName, Timestamp, short_age};

/// A host's reachability; each state carries when it began.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum Reachability {
    /// Not tried since the engine started (or never).
    Unknown,
    /// The last contact worked.
    Reachable { since: Timestamp },
    /// Contact has failed since `since`; `error` is what ssh said last.
    Unreachable { since: Timestamp, error: String },
}

impl Reachability {
    /// The state's name as stored and shown.
    pub fn name(&self) -> &'static str {
        match self {
            Reachability::Unknown => "unknown",
            Reachability::Reachable { .. } => "reachable",
            Reachability::Unreachable { .. } => "unreachable",
        }
    }

    pub fn is_unreachable(&self) -> bool {
        matches!(self, Reachability::Unreachable { .. })
    }

    /// Whether going from `self` to `next` is a change in kind (the only
    /// thing journaled: a host that stays unreachable is not a new event).
    pub fn differs_in_kind(&self, next: &Reachability) -> bool {
        self.name() != next.name()
    }

    /// For people: `unreachable since 12:03 (4m)`, `reachable`, `unknown`.
    pub fn describe(&self, now: Timestamp) -> String {
        match self {
            Reachability::Unknown => "unknown".into(),
            Reachability::Reachable { .. } => "reachable".into(),
            Reachability::Unreachable { since, .. } => {
                // The time of day in UTC is enough beside the age.
                let stamp = since.rfc3339();
                let clock = stamp.get(11..19).unwrap_or(&stamp);
                format!(
                    "unreachable since {clock}Z ({} ago)",
                    short_age(now.since(*since))
                )
            }
        }
    }
}

/// Whether a host's reachability is being kept up to date: only a running
/// engine looks at hosts, so without one the journal holds what it last
/// found, which may no longer be true.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// An engine runs and looks at every host each pass.
    Live,
    /// No engine runs: the state is the last one an engine found.
    LastKnown,
}

impl Freshness {
    /// [`Freshness::Live`] when an engine runs.
    pub fn of(engine_running: bool) -> Freshness {
        if engine_running {
            Freshness::Live
        } else {
            Freshness::LastKnown
        }
    }

    /// What follows a state for people: nothing when live, else
    /// `, last known: the engine is not running`.
    pub fn suffix(self) -> &'static str {
        match self {
            Freshness::Live => "",
            Freshness::LastKnown => ", last known: the engine is not running",
        }
    }
}

impl Reachability {
    /// As [`describe`](Self::describe), saying when it is only the last
    /// known state (`unreachable since 12:03:00Z (4m ago), last known: the
    /// engine is not running`). `unknown` stays as it is: nothing was
    /// known.
    pub fn describe_as(&self, now: Timestamp, freshness: Freshness) -> String {
        match self {
            Reachability::Unknown => self.describe(now),
            _ => format!("{}{}", self.describe(now), freshness.suffix()),
        }
    }
}

/// One host's reachability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostHealth {
    pub host: HostName,
    #[serde(flatten)]
    pub reachability: Reachability,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_in_kind_only() {
        let t = Timestamp::from_millis;
        let down = |s, e: &str| Reachability::Unreachable {
            since: t(s),
            error: e.into(),
        };
        assert!(!down(1, "a").differs_in_kind(&down(5, "b")));
        assert!(down(1, "a").differs_in_kind(&Reachability::Reachable { since: t(2) }));
        assert!(Reachability::Unknown.differs_in_kind(&down(1, "a")));
    }

    #[test]
    fn described_with_its_age() {
        let r = Reachability::Unreachable {
            since: Timestamp::from_millis(0),
            error: "x".into(),
        };
        let text = r.describe(Timestamp::from_millis(240_000));
        assert!(text.starts_with("unreachable since "), "{text}");
        assert!(text.contains("4m"), "{text}");
        let json = serde_json::to_value(HostHealth {
            host: HostName::parse("b").unwrap(),
            reachability: r,
        })
        .unwrap();
        assert_eq!(json["state"], "unreachable");
        assert_eq!(json["host"], "b");
        assert_eq!(json["error"], "x");
    }

    #[test]
    fn without_an_engine_a_state_is_only_the_last_known() {
        let now = Timestamp::from_millis(240_000);
        let down = Reachability::Unreachable {
            since: Timestamp::from_millis(0),
            error: "x".into(),
        };
        let up = Reachability::Reachable {
            since: Timestamp::from_millis(0),
        };
        for r in [&down, &up] {
            assert_eq!(r.describe_as(now, Freshness::Live), r.describe(now));
            let last = r.describe_as(now, Freshness::LastKnown);
            assert!(last.starts_with(&r.describe(now)), "{last}");
            assert!(
                last.ends_with(", last known: the engine is not running"),
                "{last}"
            );
        }
        assert_eq!(
            Reachability::Unknown.describe_as(now, Freshness::LastKnown),
            "unknown"
        );
        assert_eq!(Freshness::of(true), Freshness::Live);
        assert_eq!(Freshness::of(false), Freshness::LastKnown);
    }
}
