//! The one path from the network to the journal: a thread that owns a
//! journal connection and takes requests from a bounded channel. Whatever
//! has queued up while a transaction was committing goes into the next one
//! (a group commit), so many concurrent posts share one sync; each sender
//! hears back only after the commit.

use std::path::Path;
use std::thread::JoinHandle;

use tokio::sync::{mpsc, oneshot};

use crate::config::Priorities;
use crate::journal::{Delivery, DeliveryOutcome, Journal};
use crate::model::Timestamp;

/// Requests waiting for the writer at most; senders beyond wait their turn.
const QUEUE: usize = 4096;
/// Deliveries in one transaction at most.
const GROUP: usize = 1024;

/// What the writer is asked.
enum Request {
    Deliver(Delivery, oneshot::Sender<Result<DeliveryOutcome, String>>),
    Note(String, String, oneshot::Sender<Result<(), String>>),
    Health(oneshot::Sender<Result<u64, String>>),
}

/// A handle on the writer; cheap to clone.
#[derive(Clone)]
pub struct JournalWriter {
    tx: mpsc::Sender<Request>,
}

impl JournalWriter {
    /// Opens the journal and starts the writer thread; the thread ends
    /// when every handle is dropped.
    pub fn start(
        journal_file: &Path,
        priorities: Priorities,
    ) -> anyhow::Result<(JournalWriter, JoinHandle<()>)> {
        let journal = Journal::open(journal_file)?;
        let (tx, rx) = mpsc::channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("intake-journal".into())
            .spawn(move || run(journal, rx, priorities))?;
        Ok((JournalWriter { tx }, thread))
    }

    /// Journals `delivery`; returns once it is durably committed.
    pub async fn deliver(&self, delivery: Delivery) -> Result<DeliveryOutcome, String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request::Deliver(delivery, reply))
            .await
            .map_err(|_| "the journal writer has stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the journal writer has stopped".to_string())?
    }

    /// As [`deliver`](Self::deliver), from a thread outside the runtime.
    pub fn deliver_blocking(&self, delivery: Delivery) -> Result<DeliveryOutcome, String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .blocking_send(Request::Deliver(delivery, reply))
            .map_err(|_| "the journal writer has stopped".to_string())?;
        answer
            .blocking_recv()
            .map_err(|_| "the journal writer has stopped".to_string())?
    }

    /// Journals a note for the operator (an SNS subscription to confirm).
    pub async fn note(&self, kind: &str, text: &str) -> Result<(), String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request::Note(kind.to_string(), text.to_string(), reply))
            .await
            .map_err(|_| "the journal writer has stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the journal writer has stopped".to_string())?
    }

    /// How many jobs wait in the queue (the journal answering at all is
    /// its health).
    pub async fn queued(&self) -> Result<u64, String> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request::Health(reply))
            .await
            .map_err(|_| "the journal writer has stopped".to_string())?;
        answer
            .await
            .map_err(|_| "the journal writer has stopped".to_string())?
    }
}

fn run(mut journal: Journal, mut rx: mpsc::Receiver<Request>, priorities: Priorities) {
    while let Some(first) = rx.blocking_recv() {
        let mut deliveries = Vec::new();
        let mut replies = Vec::new();
        let mut next = Some(first);
        while let Some(request) = next.take() {
            match request {
                Request::Deliver(delivery, reply) => {
                    deliveries.push(delivery);
                    replies.push(reply);
                }
                Request::Note(kind, text, reply) => {
                    let result = journal
                        .record_note(&kind, &text, Timestamp::now())
                        .map(|_| ())
                        .map_err(|e| e.to_string());
                    let _ = reply.send(result);
                }
                Request::Health(reply) => {
                    let _ = reply.send(queued(&journal));
                }
            }
            if deliveries.len() < GROUP {
                next = rx.try_recv().ok();
            }
        }
        if deliveries.is_empty() {
            continue;
        }
        match journal.ingest_deliveries(&deliveries, &priorities, Timestamp::now()) {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                let why = format!("cannot journal: {e}");
                tracing::warn!("intake: {why}");
                for reply in replies {
                    let _ = reply.send(Err(why.clone()));
                }
            }
        }
    }
}

fn queued(journal: &Journal) -> Result<u64, String> {
    let counts = journal.job_counts().map_err(|e| e.to_string())?;
    Ok(counts
        .into_iter()
        .filter(|(state, _)| *state == crate::model::StateName::Queued)
        .map(|(_, n)| n)
        .sum())
}
