//! The HTTP intake: a hyper server on the engine's tokio runtime.
//! Connections are bounded (more wait to be accepted), a client that is
//! slow to send its request is cut off, bodies are bounded, and every
//! refusal is logged with its reason.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::auth;
use super::body;
use super::reply::Reply;
use super::sns;
use super::status::{Intake, Shared};
use super::writer::JournalWriter;
use crate::home::Home;
use crate::journal::{Delivery, DeliveryOutcome};
use crate::model::{Intake as From, Message, Source};

/// What every request handler needs.
pub struct Context {
    pub writer: JournalWriter,
    pub token: Option<String>,
    pub jira_secret: String,
    pub sns: sns::Settings,
    pub max_body: u64,
    pub read_timeout: Duration,
    pub status: Shared,
    pub home: Home,
}

/// Serves `listener` until the runtime stops.
pub async fn serve(listener: TcpListener, ctx: Arc<Context>, max_connections: usize) {
    let slots = Arc::new(Semaphore::new(max_connections.max(1)));
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!("http intake: accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let ctx = Arc::clone(&ctx);
        tokio::spawn(async move {
            let read_timeout = ctx.read_timeout;
            let service = service_fn(move |req| handle(Arc::clone(&ctx), peer, req));
            let served = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(read_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .await;
            if let Err(e) = served {
                tracing::info!("http intake: connection from {peer} ended: {e}");
            }
            drop(permit);
        });
    }
}

async fn handle(
    ctx: Arc<Context>,
    peer: SocketAddr,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let reply = match (&method, path.as_str()) {
        (&Method::GET, "/health") => health(&ctx).await,
        (&Method::POST, "/messages") => messages(&ctx, peer, req).await,
        (&Method::POST, "/jira") => jira(&ctx, peer, req).await,
        (&Method::POST, "/sns") => match read_body(&ctx, req).await {
            Ok((parts, body)) => sns::handle(&ctx, peer, &parts.headers, body).await,
            Err(reply) => reply,
        },
        (_, "/health" | "/messages" | "/jira" | "/sns") => Reply::refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not taken here"),
        ),
        _ => Reply::refuse(
            StatusCode::NOT_FOUND,
            "no such endpoint; POST /messages, /jira, /sns or GET /health",
        ),
    };
    if let Some(why) = &reply.refusal {
        tracing::warn!(
            "http intake: refused {method} {} from {peer} with {}: {}",
            crate::untrusted::visible(&path),
            reply.status.as_u16(),
            crate::untrusted::visible(why)
        );
        if reply.status.is_server_error() {
            ctx.status.error(Intake::Http, why.clone());
        }
    }
    Ok(reply.into_response())
}

/// Reads the whole body within the size and time limits.
pub async fn read_body(
    ctx: &Context,
    req: Request<hyper::body::Incoming>,
) -> Result<(hyper::http::request::Parts, Bytes), Reply> {
    let too_big = || {
        Reply::refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body over the {}-byte limit", ctx.max_body),
        )
    };
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > ctx.max_body) {
        return Err(too_big());
    }
    let (parts, body) = req.into_parts();
    let limit = usize::try_from(ctx.max_body).unwrap_or(usize::MAX);
    match tokio::time::timeout(ctx.read_timeout, Limited::new(body, limit).collect()).await {
        Err(_) => Err(Reply::refuse(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the body did not arrive within {}s",
                ctx.read_timeout.as_secs_f64()
            ),
        )),
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_big()),
        Ok(Err(e)) => Err(Reply::refuse(
            StatusCode::BAD_REQUEST,
            format!("cannot read the body: {e}"),
        )),
        Ok(Ok(collected)) => Ok((parts, collected.to_bytes())),
    }
}

async fn health(ctx: &Context) -> Reply {
    let engine = match crate::engine::health::read(&ctx.home) {
        Some(h) => match h.fault {
            Some(f) => format!("waiting out {}", f.kind.as_str()),
            None => "running".to_string(),
        },
        None => "unknown".to_string(),
    };
    let (journal, queued) = match ctx.writer.queued().await {
        Ok(n) => ("ok".to_string(), Some(n)),
        Err(e) => (e, None),
    };
    let intakes = ctx.status.lines();
    let status = if queued.is_some() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Reply::ok(
        status,
        json!({ "engine": engine, "journal": journal, "queued": queued, "intakes": intakes }),
    )
}

async fn messages(ctx: &Context, peer: SocketAddr, req: Request<hyper::body::Incoming>) -> Reply {
    let header = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    if let Err(refusal) = auth::bearer(header, ctx.token.as_deref()) {
        return Reply::refuse(StatusCode::UNAUTHORIZED, refusal.reason());
    }
    let (_, bytes) = match read_body(ctx, req).await {
        Ok(read) => read,
        Err(reply) => return reply,
    };
    let items = body::read(&bytes);
    journal(
        ctx,
        Source::new(From::Http, format!("HTTP POST /messages from {peer}")),
        items,
    )
    .await
}

async fn jira(ctx: &Context, peer: SocketAddr, req: Request<hyper::body::Incoming>) -> Reply {
    let (parts, bytes) = match read_body(ctx, req).await {
        Ok(read) => read,
        Err(reply) => return reply,
    };
    let signature = parts.headers.get("x-hub-signature").map(|v| v.as_bytes());
    if let Err(refusal) = auth::jira_signature(signature, &ctx.jira_secret, &bytes) {
        return Reply::refuse(StatusCode::UNAUTHORIZED, refusal.reason());
    }
    let items = body::read(&bytes);
    let not_jira = items.items.iter().any(|i| {
        matches!(i, crate::journal::Incoming::Message { message, .. } if !matches!(message, Message::Ticket(_)))
    });
    if not_jira {
        return Reply::refuse(
            StatusCode::BAD_REQUEST,
            "not a Jira webhook (webhookEvent, issue); other messages go to POST /messages",
        );
    }
    journal(
        ctx,
        Source::new(From::Jira, format!("HTTP POST /jira from {peer}")),
        items,
    )
    .await
}

/// Journals what a body became; the answer comes after the commit.
pub async fn journal(ctx: &Context, source: Source, items: body::Items) -> Reply {
    let rejected: Vec<_> = items
        .rejected()
        .into_iter()
        .map(|(line, reason)| json!({ "line": line, "reason": reason }))
        .collect();
    let accepted = items.accepted();
    if accepted == 0 {
        return Reply {
            status: StatusCode::BAD_REQUEST,
            body: json!({ "accepted": 0, "rejected": rejected, "jobs": [] }),
            refusal: Some(format!(
                "nothing readable: {}",
                items.rejected().first().map_or("", |r| r.1.as_str())
            )),
        };
    }
    let delivery = Delivery {
        source,
        items: items.items,
    };
    match ctx.writer.deliver(delivery).await {
        Ok(DeliveryOutcome::Journaled(outcome)) => {
            ctx.status.message(Intake::Http);
            let mut body =
                json!({ "accepted": outcome.accepted, "rejected": rejected, "jobs": outcome.jobs });
            if outcome.duplicates > 0 {
                // Delivered before (an SNS MessageId journaled already):
                // acknowledged, so that the sender stops retrying.
                body["duplicates"] = json!(outcome.duplicates);
                body["duplicate"] = json!(outcome.accepted == 0);
            }
            Reply::ok(StatusCode::ACCEPTED, body)
        }
        Ok(DeliveryOutcome::Duplicate) => Reply::ok(
            StatusCode::ACCEPTED,
            json!({ "accepted": 0, "rejected": [], "jobs": [], "duplicate": true }),
        ),
        Err(e) => Reply::refuse(StatusCode::SERVICE_UNAVAILABLE, e),
    }
}
