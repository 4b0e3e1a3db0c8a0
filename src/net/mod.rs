//! Work arriving over the network: HTTP webhooks ([`http`], with [`sns`])
//! and an Amazon SQS queue ([`sqs`]), inside the engine's process.
//!
//! tokio runs the network side on its own threads; the engine's passes keep
//! theirs. They meet in the journal: every message goes through one
//! bounded channel to one writer thread ([`writer`]), which commits it
//! durably before the sender answers (HTTP 202, SQS delete). The engine
//! sees the new work as it sees any other, as news in the journal.

mod auth;
mod body;
mod http;
mod reply;
mod sigv4;
mod sns;
pub mod sns_signature;
pub mod sqs;
pub mod status;
mod writer;

pub use auth::jira_sign;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::config::Config;
use crate::home::Home;

/// The running network intake; dropping it stops it.
pub struct NetIntake {
    runtime: Option<tokio::runtime::Runtime>,
    stop: Arc<AtomicBool>,
    sqs: Option<std::thread::JoinHandle<()>>,
}

impl Drop for NetIntake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
        // The poller ends after its current receive; it is not waited for.
        drop(self.sqs.take());
    }
}

/// Starts whatever intake `config` (or `listen`, from `run --listen`)
/// asks for; `None` when none is.
pub fn start(
    home: &Home,
    config: &Config,
    listen: Option<SocketAddr>,
) -> anyhow::Result<Option<NetIntake>> {
    let listen = listen.or(config.intake.http.listen);
    let queue = config.intake.sqs.queue_url.clone();
    if listen.is_none() && queue.is_none() {
        return Ok(None);
    }
    let (writer, _thread) =
        writer::JournalWriter::start(&home.journal_file(), config.priorities.clone())?;
    let shared = status::Shared::new(home);
    let stop = Arc::new(AtomicBool::new(false));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("intake-net")
        .enable_all()
        .build()?;
    if let Some(addr) = listen {
        let token = config.intake.http.token()?;
        if token.is_none() && !addr.ip().is_loopback() {
            anyhow::bail!(
                "refusing to listen on {addr} without a token: beyond loopback, set [intake.http] token or token_file"
            );
        }
        let _guard = runtime.enter();
        let listener =
            listen_on(addr).map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
        let bound = listener.local_addr()?;
        let ctx = Arc::new(http::Context {
            writer: writer.clone(),
            token,
            jira_secret: config.intake.jira.secret.clone(),
            sns: sns::Settings {
                topics: config.intake.sns.topics.clone(),
                confirm: config.intake.sns.confirm,
                verifier: Arc::new(sns_signature::Verifier::new(
                    &config.intake.sns.certificates,
                )?),
            },
            max_body: config.intake.http.max_body,
            read_timeout: config.intake.http.read_timeout,
            status: shared.clone(),
            home: home.clone(),
        });
        let max_connections = config.intake.http.max_connections as usize;
        runtime.spawn(http::serve(listener, ctx, max_connections));
        shared.doing(status::Intake::Http, format!("listening on {bound}"));
        tracing::info!("http intake listening on {bound}");
    }
    let sqs = match queue {
        Some(url) => Some(sqs::start(
            url,
            &config.intake.sqs,
            writer.clone(),
            shared.clone(),
            Arc::clone(&stop),
        )?),
        None => None,
    };
    let flusher = shared.clone();
    runtime.spawn(async move {
        loop {
            flusher.flush();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    shared.flush();
    Ok(Some(NetIntake {
        runtime: Some(runtime),
        stop,
        sqs,
    }))
}

/// Connections the kernel keeps waiting to be accepted: bursts of clients
/// beyond `max_connections` wait there instead of being dropped.
const BACKLOG: u32 = 1024;

fn listen_on(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}
