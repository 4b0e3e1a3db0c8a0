//! `switchboard answer ID CHOICE`: answers an agent's question with the
//! agent's own keys (a menu number, y, n, enter, esc), pressed as keys.

use std::process::ExitCode;

use super::Context;
use crate::agents::answer::Choice;
use crate::journal::CommandKind;
use crate::model::{OperatorAction, Timestamp};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The job whose agent asks
    pub id: i64,
    /// The answer: a menu number (1-9; Claude Code's menu), y, n, enter or
    /// esc (Codex's keys)
    pub choice: String,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let choice = Choice::parse(&args.choice).map_err(anyhow::Error::msg)?;
    let mut journal = ctx.journal()?;
    let job = journal
        .job(args.id)?
        .ok_or(crate::journal::JournalError::NoJob(args.id))?;
    crate::model::gate(OperatorAction::Answer, job.id, job.state.name(), None)?;
    let key = choice.key();
    let id = journal.record_command(
        CommandKind::Answer,
        Some(job.id),
        Some(&key),
        Timestamp::now(),
    )?;
    println!(
        "Asked the engine to answer job #{}'s question with {choice} (command {id}); follow it with `switchboard jobs {} --watch`.",
        job.id, job.id
    );
    Ok(ExitCode::SUCCESS)
}
