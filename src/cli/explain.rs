//! `switchboard explain ID [--json]`: why a job's agent shows the status it
//! does: the signal that decided it (hook, report, exit, title, screen,
//! quiet), what matched, and the last changes with their sources. Read from
//! the `status` events the engine's patrol journals.

use std::process::ExitCode;

use serde::Serialize;

use super::Context;
use super::output::visible;
use crate::agents::status::{Signal, parse_status_note};
use crate::journal::JournalError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The job
    pub id: i64,
    /// Print JSON only
    #[arg(long)]
    pub json: bool,
}

/// How many changes of status are shown.
const HISTORY: usize = 20;

#[derive(Debug, Serialize)]
struct Change {
    at: String,
    status: String,
    signal: Signal,
    detail: String,
}

#[derive(Debug, Serialize)]
struct Explanation {
    job: i64,
    /// The job's state in the journal.
    state: String,
    /// The agent's status now (the latest change), or null before the
    /// engine has looked at it.
    status: Option<String>,
    signal: Option<Signal>,
    detail: Option<String>,
    at: Option<String>,
    /// The last changes, oldest first.
    history: Vec<Change>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let journal = ctx.journal()?;
    let job = journal.job(args.id)?.ok_or(JournalError::NoJob(args.id))?;
    let mut history: Vec<Change> = journal
        .events(job.id)?
        .into_iter()
        .filter(|e| e.kind == "status")
        .filter_map(|e| {
            let (status, signal, detail) = parse_status_note(&e.message)?;
            Some(Change {
                at: e.at.rfc3339(),
                status,
                signal,
                detail,
            })
        })
        .collect();
    let skip = history.len().saturating_sub(HISTORY);
    history.drain(..skip);
    let now = history.last();
    let explanation = Explanation {
        job: job.id,
        state: job.state.name().to_string(),
        status: now.map(|c| c.status.clone()),
        signal: now.map(|c| c.signal),
        detail: now.map(|c| c.detail.clone()),
        at: now.map(|c| c.at.clone()),
        history: Vec::new(),
    };
    let explanation = Explanation {
        history,
        ..explanation
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&explanation)?);
        return Ok(ExitCode::SUCCESS);
    }
    match (&explanation.status, explanation.signal, &explanation.detail) {
        (Some(status), Some(signal), Some(detail)) => println!(
            "job #{} is {}; its agent is {status}, by its {signal} ({}): {}",
            job.id,
            explanation.state,
            explanation.at.as_deref().unwrap_or(""),
            visible(detail)
        ),
        _ => println!(
            "job #{} is {}; the engine has not read its agent's status (no agent yet, or no engine running)",
            job.id, explanation.state
        ),
    }
    if explanation.history.len() > 1 {
        println!("changes, oldest first:");
        for c in &explanation.history {
            println!(
                "  {}  {:<9} {:<7} {}",
                c.at,
                c.status,
                c.signal.as_str(),
                visible(&c.detail)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
