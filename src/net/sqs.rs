//! The SQS intake: long polling of one queue (up to 10 messages, up to
//! 20 s a receive); each message journaled, then deleted. A message that
//! cannot be journaled is left for its visibility timeout to bring back;
//! one that cannot be read is journaled in `rejected` with its reason and
//! deleted; a MessageId journaled before (a redelivery) is deleted without
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
use crate::journal::{Delivery, DeliveryOutcome};
use crate::model::Source;

/// For tests only: a file that, when this variable names it, the poller
/// creates after journaling a message and before deleting it, then waits
/// forever (so a test can kill the engine between the two).
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
    body: String,
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
        let received = queue.call(
            "ReceiveMessage",
            json!({
                "QueueUrl": queue.url,
                "MaxNumberOfMessages": 10,
                "WaitTimeSeconds": queue.wait.as_secs(),
            }),
        );
        let messages = match received.and_then(|v| {
            serde_json::from_value::<Received>(v).map_err(|e| format!("unexpected answer: {e}"))
        }) {
            Ok(r) => {
                failures = 0;
                r.messages
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
    let items = body::read(message.body.as_bytes());
    let id = crate::untrusted::visible(&message.id);
    let delivery = Delivery {
        source: Source::new(
            crate::model::Intake::Sqs,
            format!(
                "SQS message {id} from {}",
                crate::untrusted::visible(&queue.url)
            ),
        )
        .with_delivery(format!("sqs:{}", message.id)),
        items: items.items,
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
    /// One call of SQS's JSON protocol.
    fn call(&self, action: &str, request: serde_json::Value) -> Result<serde_json::Value, String> {
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
        if text.trim().is_empty() {
            return Ok(serde_json::Value::Object(Default::default()));
        }
        serde_json::from_str(&text).map_err(|e| format!("{action}: {e}"))
    }
}
