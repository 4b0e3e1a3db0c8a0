//! `POST /sns`: an Amazon SNS HTTP(S) subscription endpoint. The message's
//! signature is checked first ([`super::sns_signature`]), then its topic;
//! a notification is unwrapped and journaled (once per MessageId), a
//! subscription is confirmed by fetching its SubscribeURL (or journaled
//! for the operator), an unsubscription is journaled.

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::StatusCode;
use hyper::body::Bytes;
use hyper::header::HeaderMap;
use serde_json::{Map, Value, json};

use super::body;
use super::http::{Context, journal};
use super::reply::Reply;
use super::sns_signature::Verifier;
use crate::model::Source;

/// `[intake.sns]`, ready to use.
pub struct Settings {
    pub topics: Vec<String>,
    pub confirm: bool,
    pub verifier: Arc<Verifier>,
}

/// The kinds of SNS delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Notification,
    SubscriptionConfirmation,
    UnsubscribeConfirmation,
}

impl Kind {
    fn parse(text: &str) -> Option<Kind> {
        match text {
            "Notification" => Some(Kind::Notification),
            "SubscriptionConfirmation" => Some(Kind::SubscriptionConfirmation),
            "UnsubscribeConfirmation" => Some(Kind::UnsubscribeConfirmation),
            _ => None,
        }
    }
}

pub async fn handle(ctx: &Context, peer: SocketAddr, headers: &HeaderMap, bytes: Bytes) -> Reply {
    let message: Map<String, Value> = match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => m,
        _ => {
            return Reply::refuse(
                StatusCode::BAD_REQUEST,
                "not an SNS message (a JSON object)",
            );
        }
    };
    let text = |key: &str| message.get(key).and_then(Value::as_str).map(str::to_string);
    let Some(kind) = text("Type").as_deref().and_then(Kind::parse) else {
        return Reply::refuse(
            StatusCode::BAD_REQUEST,
            "not an SNS message: no known \"Type\"",
        );
    };
    if let Some(header) = headers.get("x-amz-sns-message-type")
        && header.as_bytes() != text("Type").unwrap_or_default().as_bytes()
    {
        return Reply::refuse(
            StatusCode::BAD_REQUEST,
            "x-amz-sns-message-type does not match the message's Type",
        );
    }
    let verifier = Arc::clone(&ctx.sns.verifier);
    let checked = {
        let message = message.clone();
        tokio::task::spawn_blocking(move || verifier.verify(&message)).await
    };
    match checked {
        Ok(Ok(())) => {}
        Ok(Err(why)) => {
            return Reply::refuse(StatusCode::FORBIDDEN, format!("bad signature: {why}"));
        }
        Err(e) => return Reply::refuse(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
    let topic = text("TopicArn").unwrap_or_default();
    if !ctx.sns.topics.is_empty() && !ctx.sns.topics.contains(&topic) {
        return Reply::refuse(
            StatusCode::FORBIDDEN,
            format!("topic {topic:?} is not in [intake.sns] topics"),
        );
    }
    let shown_topic = crate::untrusted::visible(&topic);
    match kind {
        Kind::Notification => {
            let items = body::read(&bytes);
            journal(
                ctx,
                Source::new(
                    crate::model::Intake::Sns,
                    format!("SNS {shown_topic} via HTTP from {peer}"),
                ),
                items,
            )
            .await
        }
        Kind::SubscriptionConfirmation => {
            let url = text("SubscribeURL").unwrap_or_default();
            if ctx.sns.confirm {
                let fetch = url.clone();
                let confirmed = tokio::task::spawn_blocking(move || {
                    ureq::get(&fetch)
                        .call()
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r);
                if let Err(e) = confirmed {
                    return Reply::refuse(
                        StatusCode::BAD_GATEWAY,
                        format!("cannot confirm the subscription to {shown_topic}: {e}"),
                    );
                }
                note(
                    ctx,
                    "sns",
                    &format!("confirmed the SNS subscription to {shown_topic}"),
                )
                .await
            } else {
                note(
                    ctx,
                    "sns",
                    &format!(
                        "SNS asks to confirm a subscription to {shown_topic}; confirm by opening {}",
                        crate::untrusted::visible(&url)
                    ),
                )
                .await
            }
        }
        Kind::UnsubscribeConfirmation => {
            note(
                ctx,
                "sns",
                &format!("SNS unsubscribed this endpoint from {shown_topic}"),
            )
            .await
        }
    }
}

async fn note(ctx: &Context, kind: &str, text: &str) -> Reply {
    match ctx.writer.note(kind, text).await {
        Ok(()) => Reply::ok(StatusCode::OK, json!({ "journaled": text })),
        Err(e) => Reply::refuse(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}
