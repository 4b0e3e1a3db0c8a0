//! The SQS intake: long polling of one queue (up to 10 messages, up to
//! 20 s a receive); each message journaled, then deleted. A message that
//! cannot be journaled is left for its visibility timeout to bring back;
//! one that cannot be read (its body not even text, included: each
//! message of a batch is read on its own) is journaled in `rejected` with
//! its reason and deleted; a MessageId journaled before (a redelivery) is deleted without
//! a second job.
//!
//! The calls are SQS's JSON protocol, signed with SigV4 ([`super::sigv4`])
//! over ureq, on a thread of its own (a receive blocks for its wait).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::body;
use super::sigv4::{self, Credentials};
use super::status::{Intake, Shared};
use super::writer::JournalWriter;
use crate::config::SqsIntake;
use crate::journal::{Delivery, DeliveryOutcome, Incoming};
use crate::model::Source;

/// For tests only: a file that, when this variable names it, the poller
/// creates after journaling a message and before deleting it, then waits
/// forever (so a test can kill the engine between the two). Honoured by
/// debug builds alone (the tests' binary), never by a release binary.
pub const HOLD_BEFORE_DELETE: &str = "SWITCHBOARD_TEST_SQS_HOLD_BEFORE_DELETE";

/// One queue and how to reach it.
struct Queue {
    url: String,
    endpoint: String,
    host: String,
    region: String,
    wait: Duration,
    credentials: Credentials,
    agent: ureq::Agent,
}

#[derive(Deserialize)]
struct Received {
    #[serde(rename = "Messages", default)]
    messages: Vec<SqsMessage>,
}

#[derive(Deserialize)]
struct SqsMessage {
    #[serde(rename = "MessageId")]
    id: String,
    #[serde(rename = "ReceiptHandle")]
    receipt: String,
    #[serde(rename = "Body", default)]
    body: BodyBytes,
}

/// A message's body as the bytes its JSON string stands for. Read as
/// bytes, not as a `String`: a body whose text cannot be Unicode (an
/// unpaired UTF-16 surrogate escape, `\ud800`) is then one bad message,
/// journaled as rejected, instead of an answer that cannot be read, which
/// failed every message received with it, again each time the batch came
/// back.
#[derive(Default)]
struct BodyBytes(Vec<u8>);

impl<'de> Deserialize<'de> for BodyBytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Bytes;
        impl serde::de::Visitor<'_> for Bytes {
            type Value = BodyBytes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a message body")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<BodyBytes, E> {
                Ok(BodyBytes(v.to_vec()))
            }
            fn visit_str<E>(self, v: &str) -> Result<BodyBytes, E> {
                Ok(BodyBytes(v.as_bytes().to_vec()))
            }
        }
        d.deserialize_bytes(Bytes)
    }
}

/// The messages of a `ReceiveMessage` answer (its text as it came).
fn received(text: &str) -> Result<Vec<SqsMessage>, String> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str::<Received>(text)
        .map(|r| r.messages)
        .map_err(|e| format!("unexpected answer: {e}"))
}

/// Starts polling `url` on a thread of its own.
pub fn start(
    url: String,
    config: &SqsIntake,
    writer: JournalWriter,
    status: Shared,
    stop: Arc<AtomicBool>,
) -> anyhow::Result<std::thread::JoinHandle<()>> {
    let credentials =
        Credentials::from_standard_places().map_err(|e| anyhow::anyhow!("[intake.sqs]: {e}"))?;
    let endpoint = config
        .endpoint_url
        .clone()
        .unwrap_or_else(|| format!("https://sqs.{}.amazonaws.com", config.region));
    let endpoint = endpoint.trim_end_matches('/').to_string();
    let host = endpoint
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(rest).to_string())
        .ok_or_else(|| anyhow::anyhow!("[intake.sqs] endpoint {endpoint:?} is not a URL"))?;
    let wait = config.wait.min(Duration::from_secs(20));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(wait + Duration::from_secs(10)))
        .http_status_as_error(false)
        .build()
        .into();
    let queue = Queue {
        url: url.clone(),
        endpoint,
        host,
        region: config.region.clone(),
        wait,
        credentials,
        agent,
    };
    status.doing(
        Intake::Sqs,
        format!("polling {}", crate::untrusted::visible(&url)),
    );
    Ok(std::thread::Builder::new()
        .name("intake-sqs".into())
        .spawn(move || poll(queue, writer, status, stop))?)
}

fn poll(queue: Queue, writer: JournalWriter, status: Shared, stop: Arc<AtomicBool>) {
    let mut failures = 0u32;
    while !stop.load(Ordering::Relaxed) {
        let answer = queue.call_text(
            "ReceiveMessage",
            json!({
                "QueueUrl": queue.url,
                "MaxNumberOfMessages": 10,
                "WaitTimeSeconds": queue.wait.as_secs(),
            }),
        );
        let messages = match answer.and_then(|text| received(&text)) {
            Ok(messages) => {
                failures = 0;
                messages
            }
            Err(e) => {
                failures += 1;
                let why = format!("receive from {}: {e}", queue.url);
                if failures == 1 {
                    tracing::warn!("sqs intake: {why}");
                }
                status.error(Intake::Sqs, why);
                std::thread::sleep(crate::engine::health::backoff(failures));
                continue;
            }
        };
        for message in messages {
            take(&queue, &writer, &status, message);
        }
    }
}

/// Journals one message, then deletes it.
fn take(queue: &Queue, writer: &JournalWriter, status: &Shared, message: SqsMessage) {
    let id = crate::untrusted::visible(&message.id);
    let items = match std::str::from_utf8(&message.body.0) {
        Ok(_) => body::read(&message.body.0).items,
        Err(e) => vec![Incoming::Rejected {
            line: None,
            reason: format!(
                "the SQS message body is not Unicode text: it holds an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF) at byte {}; deleted from the queue",
                e.valid_up_to()
            ),
            raw: message.body.0.clone(),
        }],
    };
    let delivery = Delivery {
        source: Source::new(
            crate::model::Intake::Sqs,
            format!(
                "SQS message {id} from {}",
                crate::untrusted::visible(&queue.url)
            ),
        )
        .with_delivery(format!("sqs:{}", message.id)),
        items,
    };
    match writer.deliver_blocking(delivery) {
        Ok(DeliveryOutcome::Journaled(outcome)) => {
            if outcome.rejected > 0 {
                tracing::warn!("sqs intake: message {id} unreadable, kept in rejected");
            }
            status.message(Intake::Sqs);
        }
        Ok(DeliveryOutcome::Duplicate) => {
            tracing::info!("sqs intake: message {id} delivered again; journaled before, deleted");
        }
        Err(e) => {
            // Left in the queue: it comes back after its visibility timeout.
            let why = format!("cannot journal message {id}: {e}");
            tracing::warn!("sqs intake: {why}");
            status.error(Intake::Sqs, why);
            return;
        }
    }
    #[cfg(debug_assertions)]
    if let Some(path) = std::env::var_os(HOLD_BEFORE_DELETE) {
        let _ = std::fs::write(&path, &message.id);
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    if let Err(e) = queue.call(
        "DeleteMessage",
        json!({ "QueueUrl": queue.url, "ReceiptHandle": message.receipt }),
    ) {
        let why = format!("cannot delete message {id} (journaled; a redelivery is skipped): {e}");
        tracing::warn!("sqs intake: {why}");
        status.error(Intake::Sqs, why);
    }
}

impl Queue {
    /// One call of SQS's JSON protocol, its answer read as JSON.
    fn call(&self, action: &str, request: serde_json::Value) -> Result<serde_json::Value, String> {
        let text = self.call_text(action, request)?;
        if text.trim().is_empty() {
            return Ok(serde_json::Value::Object(Default::default()));
        }
        serde_json::from_str(&text).map_err(|e| format!("{action}: {e}"))
    }

    /// One call of SQS's JSON protocol; its answer's text when it succeeded.
    fn call_text(&self, action: &str, request: serde_json::Value) -> Result<String, String> {
        let body = serde_json::to_vec(&request).map_err(|e| e.to_string())?;
        let target = format!("AmazonSQS.{action}");
        let content_type = "application/x-amz-json-1.0";
        let amz_date = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]T[hour][minute][second]Z"
            ))
            .map_err(|e| e.to_string())?;
        let headers = [
            ("content-type", content_type),
            ("x-amz-target", target.as_str()),
        ];
        let signed = sigv4::sign(
            &self.credentials,
            &self.region,
            "sqs",
            &self.host,
            &headers,
            &body,
            &amz_date,
        );
        let mut request = self
            .agent
            .post(&format!("{}/", self.endpoint))
            .header("content-type", content_type)
            .header("x-amz-target", &target);
        for (name, value) in &signed {
            request = request.header(name, value);
        }
        let mut response = request
            .send(&body[..])
            .map_err(|e| format!("{action}: {e}"))?;
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| format!("{action}: {e}"))?;
        if !status.is_success() {
            return Err(format!(
                "{action}: HTTP {}: {}",
                status.as_u16(),
                crate::untrusted::visible(&text.chars().take(300).collect::<String>())
            ));
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_that_cannot_be_text_leaves_the_rest_of_its_batch_readable() {
        let answer = r#"{"Messages":[
            {"MessageId":"a","ReceiptHandle":"ra","Body":"{\"type\":\"task\",\"prompt\":\"first\"}"},
            {"MessageId":"b","ReceiptHandle":"rb","Body":"half \ud800 a surrogate","MD5OfBody":"x"},
            {"MessageId":"c","ReceiptHandle":"rc","Body":"snow \u2603 and \ud83d\ude00"}
        ]}"#;
        let messages = received(answer).expect("the batch is read");
        let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(
            messages[0].body.0,
            br#"{"type":"task","prompt":"first"}"#.to_vec()
        );
        assert!(std::str::from_utf8(&messages[1].body.0).is_err());
        assert_eq!(
            std::str::from_utf8(&messages[2].body.0).unwrap(),
            "snow \u{2603} and \u{1F600}"
        );
        assert!(received("").unwrap().is_empty());
        assert!(received("{}").unwrap().is_empty());
        assert!(received("<xml/>").is_err());
    }
}
