//! `[intake.*]`: work arriving over the network (HTTP webhooks, SNS, SQS).
//! Everything here is off until an address or a queue is set.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

/// `[intake]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeConfig {
    pub http: HttpIntake,
    pub jira: JiraIntake,
    pub sns: SnsIntake,
    pub sqs: SqsIntake,
}

/// `[intake.http]`: the HTTP endpoints, inside the engine's process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpIntake {
    /// Where to listen; `None` (the default) keeps HTTP intake off.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
    /// The bearer token `POST /messages` requires ("" for none).
    #[serde(default)]
    pub token: String,
    /// A file holding the token instead (its first line).
    #[serde(default)]
    pub token_file: Option<PathBuf>,
    /// The largest request body taken.
    #[serde(deserialize_with = "size")]
    pub max_body: u64,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: u32,
    /// A client that takes longer than this to send its request is cut off.
    #[serde(with = "super::duration")]
    pub read_timeout: Duration,
}

/// `[intake.jira]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JiraIntake {
    /// When set, `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`
    /// must match it.
    #[serde(default)]
    pub secret: String,
}

/// `[intake.sns]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnsIntake {
    /// Accepted TopicArns (empty: any).
    #[serde(default)]
    pub topics: Vec<String>,
    /// Confirm subscriptions by fetching their SubscribeURL.
    pub confirm: bool,
    /// PEM certificates trusted instead of fetching SigningCertURL.
    #[serde(default)]
    pub certificates: Vec<PathBuf>,
}

/// `[intake.sqs]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SqsIntake {
    /// The queue to poll; `None` (the default) keeps SQS intake off.
    #[serde(default)]
    pub queue_url: Option<String>,
    pub region: String,
    /// Another endpoint than `https://sqs.<region>.amazonaws.com` (a local
    /// SQS for tests).
    #[serde(default)]
    pub endpoint_url: Option<String>,
    /// How long one receive waits for messages (at most 20 s).
    #[serde(with = "super::duration")]
    pub wait: Duration,
}

impl HttpIntake {
    /// The token, read from `token_file` when one is named.
    pub fn token(&self) -> std::io::Result<Option<String>> {
        let token = match &self.token_file {
            Some(path) => std::fs::read_to_string(path)?
                .lines()
                .next()
                .unwrap_or_default()
                .trim()
                .to_string(),
            None => self.token.trim().to_string(),
        };
        Ok(Some(token).filter(|t| !t.is_empty()))
    }
}

/// Sizes are text: "1MiB", "512KiB", "65536".
fn size<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let text = String::deserialize(d)?;
    parse_size(&text).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "{text:?} is not a size; write it like \"1MiB\", \"512KiB\" or \"65536\""
        ))
    })
}

/// Bytes in `text` ("1MiB", "512 KiB", "2MB", "65536").
pub fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" | "k" => 1024,
        "kb" => 1000,
        "mib" | "m" => 1024 * 1024,
        "mb" => 1_000_000,
        _ => return None,
    };
    number.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1MiB"), Some(1 << 20));
        assert_eq!(parse_size("512 KiB"), Some(512 * 1024));
        assert_eq!(parse_size("65536"), Some(65536));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size("1GiB"), None);
    }
}
