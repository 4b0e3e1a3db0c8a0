//! `switchboard ingest FILE|- [--json]`: journal every readable line, report
//! every unreadable one by number, exit non-zero if any was rejected.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::json;

use super::Context;
use super::output::{BOLD, RED, paint};
use crate::intake::{LineReader, parse_message};
use crate::journal::Incoming;
use crate::model::Timestamp;

/// Lines journaled per transaction.
const BATCH: usize = 2000;

/// The exit status when some lines were rejected and the rest journaled.
pub const SOME_REJECTED: u8 = 3;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A file of JSON lines, or - for standard input
    pub file: PathBuf,
    /// Print JSON only
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (input, source): (Box<dyn BufRead>, String) = if args.file.as_os_str() == "-" {
        (Box::new(BufReader::with_capacity(1 << 16, io::stdin().lock())), "stdin".into())
    } else {
        let file = File::open(&args.file)
            .with_context(|| format!("cannot read {}", args.file.display()))?;
        (Box::new(BufReader::with_capacity(1 << 16, file)), args.file.display().to_string())
    };
    let priorities = ctx.config()?.priorities;
    let mut journal = ctx.journal()?;
    let mut accepted = 0u64;
    let mut rejected: Vec<(u64, String)> = Vec::new();
    let mut batch = Vec::with_capacity(BATCH);
    let mut flush = |batch: &mut Vec<Incoming>| -> anyhow::Result<()> {
        if !batch.is_empty() {
            let outcome = journal.ingest(batch, &source, &priorities, Timestamp::now())?;
            accepted += outcome.accepted;
            batch.clear();
        }
        Ok(())
    };
    for line in LineReader::new(input) {
        let line = line.with_context(|| format!("reading {source} stopped"))?;
        let result = match line.too_long_reason() {
            Some(reason) => Err(reason),
            None => parse_message(&line.bytes),
        };
        batch.push(match result {
            Ok(message) => Incoming::Message { message },
            Err(reason) => {
                rejected.push((line.number, reason.clone()));
                Incoming::Rejected { line: Some(line.number), reason, raw: line.bytes }
            }
        });
        if batch.len() >= BATCH {
            flush(&mut batch)?;
        }
    }
    flush(&mut batch)?;
    if args.json {
        let rejected: Vec<_> = rejected.iter().map(|(line, reason)| json!({"line": line, "reason": reason})).collect();
        println!("{}", json!({"accepted": accepted, "rejected": rejected}));
    } else {
        anstream::println!(
            "Journaled {} message{} from {source}.",
            paint(BOLD, accepted),
            if accepted == 1 { "" } else { "s" }
        );
        if !rejected.is_empty() {
            anstream::eprintln!(
                "{} line{} rejected (kept in the journal with the reason):",
                paint(RED, rejected.len()),
                if rejected.len() == 1 { "" } else { "s" }
            );
            for (line, reason) in &rejected {
                anstream::eprintln!("  line {line}: {reason}");
            }
        }
    }
    Ok(if rejected.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(SOME_REJECTED) })
}
