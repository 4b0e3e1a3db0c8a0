//! `switchboard explain ID [--json]`: why a job's agent shows the status it
//! does: the signal that decided it (hook, report, exit, title, screen,
//! quiet), what matched, and the last changes with their sources. Read from
//! the `status` events the engine's patrol journals.

use std::process::ExitCode;

use super::Context;
use super::output::visible;
use crate::agents::explain::Explanation;
use crate::journal::JournalError;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The job
    pub id: i64,
    /// Print JSON only
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let journal = ctx.journal()?;
    let job = journal.job(args.id)?.ok_or(JournalError::NoJob(args.id))?;
    let explanation = Explanation::of(&job, &journal.events(job.id)?);
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
