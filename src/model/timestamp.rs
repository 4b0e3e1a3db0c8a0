//! Wall-clock instants as the journal stores them.
//!
//! A `Timestamp` is milliseconds since the Unix epoch in UTC: an integer
//! column in SQLite, cheap to compare in the scheduler, and rendered as
//! RFC 3339 wherever a human or another program reads it.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// An instant in UTC with millisecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The instant from milliseconds since the Unix epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    /// Milliseconds since the Unix epoch, as stored in the journal.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// The current wall-clock time. Only the edges of the program call this;
    /// decision code takes `now` as an argument.
    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        Timestamp((now.unix_timestamp_nanos() / 1_000_000) as i64)
    }

    /// This instant moved forward by `d`.
    pub fn plus(self, d: Duration) -> Self {
        Timestamp(
            self.0
                .saturating_add(d.as_millis().min(i64::MAX as u128) as i64),
        )
    }

    /// How long after `earlier` this instant is; zero if it is not after it.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0).max(0) as u64)
    }

    /// RFC 3339 in UTC, e.g. `2026-01-01T00:00:00.250Z`.
    pub fn rfc3339(self) -> String {
        let dt = OffsetDateTime::from_unix_timestamp_nanos(self.0 as i128 * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let format = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        dt.format(format)
            .unwrap_or_else(|_| format!("@{}ms", self.0))
    }

    /// Reads the time formats that arrive in messages: RFC 3339
    /// (`2026-01-01T00:00:00Z`), and the ISO 8601 variant that CloudWatch
    /// and Jira send, with a colon-less offset (`2026-01-01T00:00:00.000+0000`).
    ///
    /// ```
    /// use switchboard::model::Timestamp;
    /// let cloudwatch = Timestamp::parse("2026-01-01T01:00:00.000+0100").unwrap();
    /// assert_eq!(cloudwatch.rfc3339(), "2026-01-01T00:00:00.000Z");
    /// assert!(Timestamp::parse("noon").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if let Ok(dt) = OffsetDateTime::parse(text, &Rfc3339) {
            return Ok(Self::from_datetime(dt));
        }
        let with_fraction = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond][offset_hour sign:mandatory][offset_minute]"
        );
        let without_fraction = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory][offset_minute]"
        );
        for format in [with_fraction, without_fraction] {
            if let Ok(dt) = OffsetDateTime::parse(text, format) {
                return Ok(Self::from_datetime(dt));
            }
        }
        // A time without any offset is taken as UTC.
        let naive = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
        if let Ok(dt) = PrimitiveDateTime::parse(text, naive) {
            return Ok(Self::from_datetime(dt.assume_offset(UtcOffset::UTC)));
        }
        Err(format!(
            "{text:?} is not a time; expected RFC 3339 such as 2026-01-01T00:00:00Z"
        ))
    }

    fn from_datetime(dt: OffsetDateTime) -> Self {
        Timestamp((dt.unix_timestamp_nanos() / 1_000_000) as i64)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A short human age: `5s`, `12m`, `3h`, `2d`.
pub fn short_age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        let t = Timestamp::parse("2026-01-01T00:00:00.250Z").unwrap();
        assert_eq!(t.millis(), 1_767_225_600_250);
        assert_eq!(t.rfc3339(), "2026-01-01T00:00:00.250Z");
        assert_eq!(Timestamp::parse(&t.rfc3339()).unwrap(), t);
    }

    #[test]
    fn cloudwatch_and_jira_offsets_parse() {
        let a = Timestamp::parse("2026-01-01T01:00:00.000+0100").unwrap();
        let b = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(Timestamp::parse("2026-01-01T00:00:00+0000").unwrap(), b);
        assert_eq!(Timestamp::parse("2026-01-01T00:00:00").unwrap(), b);
    }

    #[test]
    fn garbage_is_refused_with_the_text() {
        let err = Timestamp::parse("yesterday").unwrap_err();
        assert!(err.contains("yesterday"), "{err}");
    }

    #[test]
    fn ages_are_short() {
        assert_eq!(short_age(Duration::from_secs(5)), "5s");
        assert_eq!(short_age(Duration::from_secs(125)), "2m");
        assert_eq!(short_age(Duration::from_secs(7200)), "2h");
        assert_eq!(short_age(Duration::from_secs(200_000)), "2d");
    }
}
