//! Reading a stream of JSON lines into the journal: the pipeline behind
//! `switchboard ingest` (and, later, the inbox). Every readable line is
//! journaled; every unreadable one is kept with its reason and reported by
//! line number; a bad line never costs its neighbours.

use std::io::BufRead;

use super::{LineReader, read_item};
use crate::config::Priorities;
use crate::journal::{Incoming, Journal, JournalError};
use crate::model::{Source, Timestamp};

/// Lines journaled per transaction: bulk intake pays one sync per batch.
pub const BATCH: usize = 10_000;
/// ... or fewer, once the batch holds this many bytes of lines, so that a
/// stream of long lines never sits in memory whole.
pub const BATCH_BYTES: usize = 16 * 1024 * 1024;

/// What a stream of lines became.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IngestReport {
    pub accepted: u64,
    /// (line number, reason), in order.
    pub rejected: Vec<(u64, String)>,
    /// Jobs made from task messages.
    pub jobs: Vec<i64>,
    /// Messages skipped because their delivery (an SNS MessageId) was
    /// journaled before.
    pub duplicates: u64,
}

/// Why a stream could not be ingested to its end.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("reading {source_name} stopped after line {line}: {error}")]
    Read {
        source_name: String,
        line: u64,
        error: std::io::Error,
    },
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// Journals every line of `input`, which came from `source`.
pub fn ingest_lines(
    journal: &mut Journal,
    input: impl BufRead,
    source: &Source,
    priorities: &Priorities,
) -> Result<IngestReport, IngestError> {
    let mut report = IngestReport::default();
    let mut batch = Vec::with_capacity(BATCH);
    let mut batch_bytes = 0;
    let mut last_line = 0;
    // The line number of each message in the batch.
    let mut lines: Vec<u64> = Vec::new();
    for line in LineReader::new(input) {
        let line = line.map_err(|error| IngestError::Read {
            source_name: source.label.clone(),
            line: last_line,
            error,
        })?;
        last_line = line.number;
        batch_bytes += line.bytes.len();
        let item = match line.too_long_reason() {
            Some(reason) => Incoming::Rejected {
                line: Some(line.number),
                reason,
                raw: line.bytes,
            },
            None => read_item(line.bytes, Some(line.number)),
        };
        lines.push(line.number);
        if let Incoming::Rejected { reason, .. } = &item {
            report.rejected.push((line.number, reason.clone()));
        }
        batch.push(item);
        if batch.len() >= BATCH || batch_bytes >= BATCH_BYTES {
            flush(
                journal,
                &mut batch,
                source,
                priorities,
                &mut lines,
                &mut report,
            )?;
            batch_bytes = 0;
        }
    }
    flush(
        journal,
        &mut batch,
        source,
        priorities,
        &mut lines,
        &mut report,
    )?;
    Ok(report)
}

fn flush(
    journal: &mut Journal,
    batch: &mut Vec<Incoming>,
    source: &Source,
    priorities: &Priorities,
    lines: &mut Vec<u64>,
    report: &mut IngestReport,
) -> Result<(), JournalError> {
    if batch.is_empty() {
        return Ok(());
    }
    let outcome = journal.ingest(batch, source, priorities, Timestamp::now())?;
    report.accepted += outcome.accepted;
    report.duplicates += outcome.duplicates;
    if !outcome.refused.is_empty() {
        for (place, reason) in outcome.refused {
            report
                .rejected
                .push((lines.get(place).copied().unwrap_or(0), reason));
        }
        report.rejected.sort_by_key(|(line, _)| *line);
    }
    lines.clear();
    report.jobs.extend(outcome.jobs);
    batch.clear();
    Ok(())
}
