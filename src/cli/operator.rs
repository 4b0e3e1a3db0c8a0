//! The operator commands: kill, nudge, retry, approve, reject, drain and
//! resume. Each is checked against the journal by the same gate as the
//! control room's keys (so a mistake is told at once), then journaled for
//! the engine, which carries it out.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;

use super::Context;
use super::output::{BOLD, paint};
use crate::journal::{CommandKind, Journal};
use crate::model::{Job, OperatorAction, ReviewState, Timestamp, gate};

#[derive(Debug, clap::Args)]
pub struct JobArg {
    /// The job's id
    pub id: i64,
}

#[derive(Debug, clap::Args)]
pub struct NudgeArgs {
    /// The job's id
    pub id: i64,
    /// What to type to the agent; several words are joined with spaces
    #[arg(required = true, num_args = 1.., value_name = "TEXT")]
    pub text: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RejectArgs {
    /// The job's id
    pub id: i64,
    /// What is wrong; the agent is told
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// A comment on a line of the diff, sent with the reason; repeat it
    /// for several
    #[arg(long, value_name = "PATH:LINE: TEXT")]
    pub comment: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct DrainArgs {
    /// Wait until the engine reports that the last agent has ended
    #[arg(long)]
    pub wait: bool,
}

/// Job `id`, when it can take `action` now (the same gate as the
/// control room's keys).
pub(super) fn gated(journal: &Journal, id: i64, action: OperatorAction) -> anyhow::Result<Job> {
    let job = journal
        .job(id)?
        .ok_or(crate::journal::JournalError::NoJob(id))?;
    let review = journal
        .review_item(id)?
        .and_then(|r| ReviewState::parse(&r.state));
    gate(action, id, job.state.name(), review)?;
    Ok(job)
}

fn journal_command(
    journal: &mut Journal,
    kind: CommandKind,
    job: Option<i64>,
    text: Option<&str>,
) -> anyhow::Result<ExitCode> {
    journal_command_id(journal, kind, job, text)?;
    Ok(ExitCode::SUCCESS)
}

/// As `journal_command`; the command's id.
fn journal_command_id(
    journal: &mut Journal,
    kind: CommandKind,
    job: Option<i64>,
    text: Option<&str>,
) -> anyhow::Result<i64> {
    let id = journal.record_command(kind, job, text, Timestamp::now())?;
    let target = job.map(|j| format!(" job #{j}")).unwrap_or_default();
    anstream::println!(
        "Asked the engine to {}{target} (command {id}); it carries it out on its next pass.",
        paint(BOLD, kind)
    );
    if let Some(j) = job {
        println!("Follow it with `switchboard jobs {j} --watch`.");
    }
    Ok(id)
}

pub fn kill(ctx: &Context, args: JobArg) -> anyhow::Result<ExitCode> {
    let mut journal = ctx.journal()?;
    let job = gated(&journal, args.id, OperatorAction::Kill)?;
    journal_command(&mut journal, CommandKind::Kill, Some(job.id), None)
}

pub fn nudge(ctx: &Context, args: NudgeArgs) -> anyhow::Result<ExitCode> {
    let text = args.text.join(" ");
    if text.trim().is_empty() {
        bail!("the nudge is empty; say what the agent should hear");
    }
    let mut journal = ctx.journal()?;
    let job = gated(&journal, args.id, OperatorAction::Nudge)?;
    journal_command(&mut journal, CommandKind::Nudge, Some(job.id), Some(&text))
}

pub fn retry(ctx: &Context, args: JobArg) -> anyhow::Result<ExitCode> {
    let mut journal = ctx.journal()?;
    let job = gated(&journal, args.id, OperatorAction::Retry)?;
    journal_command(&mut journal, CommandKind::Retry, Some(job.id), None)
}

pub fn approve(ctx: &Context, args: JobArg) -> anyhow::Result<ExitCode> {
    let mut journal = ctx.journal()?;
    gated(&journal, args.id, OperatorAction::Approve)?;
    let command = journal_command_id(&mut journal, CommandKind::Approve, Some(args.id), None)?;
    // With an engine running, its answer (merged, pushed with the pull
    // request's URL, a conflict, or why not) is printed when it comes.
    super::outcome::print_when_done(ctx, &journal, command)
}

pub fn reject(ctx: &Context, args: RejectArgs) -> anyhow::Result<ExitCode> {
    let mut journal = ctx.journal()?;
    gated(&journal, args.id, OperatorAction::Reject)?;
    // Every comment is read before any is kept: a bad one keeps none.
    let comments = args
        .comment
        .iter()
        .map(|c| {
            let c = crate::model::ReviewComment::parse(c)?;
            crate::intake::limits::comment(&c)?;
            Ok(c)
        })
        .collect::<Result<Vec<_>, String>>()
        .map_err(anyhow::Error::msg)?;
    let now = crate::model::Timestamp::now();
    for c in &comments {
        journal.add_review_comment(args.id, c, now)?;
    }
    journal_command(
        &mut journal,
        CommandKind::Reject,
        Some(args.id),
        args.reason.as_deref(),
    )
}

pub fn drain(ctx: &Context, args: DrainArgs) -> anyhow::Result<ExitCode> {
    let mut journal = ctx.journal()?;
    let code = journal_command(&mut journal, CommandKind::Drain, None, None)?;
    println!(
        "While draining, work is still journaled but no agent starts; {} appears in the home when the last agent has ended.",
        ctx.home.ready_file().display()
    );
    if args.wait {
        eprintln!(
            "Waiting for the engine to finish the drain (Ctrl-C stops waiting, not the drain)…"
        );
        while !ctx.home.ready_file().exists() {
            std::thread::sleep(Duration::from_millis(200));
        }
        println!("Drained: no agent is running.");
    }
    Ok(code)
}

pub fn resume(ctx: &Context) -> anyhow::Result<ExitCode> {
    let mut journal = ctx.journal()?;
    journal_command(&mut journal, CommandKind::Resume, None, None)
}
