//! The operator commands: kill, nudge, retry, approve, reject, drain,
//! pause and resume. Each is checked against the journal by the same gate as the
//! control room's keys (so a mistake is told at once), then journaled for
//! the engine, which carries it out.

use std::process::ExitCode;
use std::time::Duration;

use super::Context;
use super::output::{BOLD, paint};
use crate::journal::{CommandKind, Journal, OperatorCommand};
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
    /// What to type to the agent; several words are joined with spaces.
    /// Without it, Enter is pressed once (an agent whose input sits there
    /// unsent takes it)
    #[arg(num_args = 0.., value_name = "TEXT")]
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
    // No words (or only blanks): the nudge is Enter alone.
    let text = (!text.trim().is_empty()).then_some(text);
    let mut journal = ctx.journal()?;
    let job = gated(&journal, args.id, OperatorAction::Nudge)?;
    journal_command(
        &mut journal,
        CommandKind::Nudge,
        Some(job.id),
        text.as_deref(),
    )
}

pub fn retry(ctx: &Context, args: JobArg) -> anyhow::Result<ExitCode> {
    let mut journal = ctx.journal()?;
    let job = gated(&journal, args.id, OperatorAction::Retry)?;
    journal_command(&mut journal, CommandKind::Retry, Some(job.id), None)
}

#[derive(Debug, clap::Args)]
pub struct ApproveArgs {
    /// The job's id
    pub id: i64,
    /// The commit looked at (its SHA, 4 to 40 hex digits): the engine
    /// merges nothing if the branch's head is another by then. Without
    /// it, what is on the branch when the engine carries it out
    #[arg(long, value_name = "SHA")]
    pub commit: Option<String>,
}

pub fn approve(ctx: &Context, args: ApproveArgs) -> anyhow::Result<ExitCode> {
    let commit = args
        .commit
        .as_deref()
        .map(crate::model::ApprovedCommit::parse)
        .transpose()?;
    let mut journal = ctx.journal()?;
    gated(&journal, args.id, OperatorAction::Approve)?;
    let command = journal_command_id(
        &mut journal,
        CommandKind::Approve,
        Some(args.id),
        commit.as_ref().map(|c| c.as_str()),
    )?;
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

/// Where a pause stands once the engine has carried out the commands
/// still pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseStanding {
    /// The engine has paused the queue, and no resume is pending.
    Paused,
    /// A pause is journaled (this command) and not carried out yet.
    Asked(i64),
    /// Agents start (or will, once a pending resume is carried out).
    Starting,
}

/// Where a pause stands: the last pending pause or resume decides, as the
/// engine carries commands out in order; else the engine's `PAUSED` file.
pub fn pause_standing(paused_now: bool, pending: &[OperatorCommand]) -> PauseStanding {
    match pending
        .iter()
        .rev()
        .find(|c| matches!(c.kind, Ok(CommandKind::Pause | CommandKind::Resume)))
    {
        Some(c) if c.kind == Ok(CommandKind::Pause) => PauseStanding::Asked(c.id),
        Some(_) => PauseStanding::Starting,
        None if paused_now => PauseStanding::Paused,
        None => PauseStanding::Starting,
    }
}

pub fn pause(ctx: &Context) -> anyhow::Result<ExitCode> {
    let mut journal = ctx.journal()?;
    let paused_now = ctx.home.paused_file().exists();
    match pause_standing(paused_now, &journal.pending_commands()?) {
        PauseStanding::Paused => {
            println!(
                "Already paused: no new agents start; `switchboard resume` starts them again."
            );
            Ok(ExitCode::SUCCESS)
        }
        PauseStanding::Asked(id) => {
            println!(
                "Already asked to pause (command {id}); the engine carries it out on its next pass."
            );
            Ok(ExitCode::SUCCESS)
        }
        PauseStanding::Starting => {
            let code = journal_command(&mut journal, CommandKind::Pause, None, None)?;
            println!(
                "While paused, work is still journaled and queued and running agents go on, but no new agent starts; the engine keeps running. `switchboard resume` ends the pause."
            );
            Ok(code)
        }
    }
}

pub fn resume(ctx: &Context) -> anyhow::Result<ExitCode> {
    let mut journal = ctx.journal()?;
    journal_command(&mut journal, CommandKind::Resume, None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(id: i64, kind: CommandKind) -> OperatorCommand {
        OperatorCommand {
            id,
            at: Timestamp::from_millis(0),
            kind: Ok(kind),
            job: None,
            text: None,
            state: "pending".into(),
        }
    }

    #[test]
    fn the_last_pending_pause_or_resume_decides_else_the_paused_file() {
        use CommandKind::{Kill, Pause, Resume};
        use PauseStanding::{Asked, Paused, Starting};
        let table: [(bool, Vec<OperatorCommand>, PauseStanding); 6] = [
            (false, vec![], Starting),
            (true, vec![], Paused),
            (true, vec![pending(4, Kill)], Paused),
            (false, vec![pending(4, Pause), pending(5, Kill)], Asked(4)),
            (true, vec![pending(4, Resume)], Starting),
            (true, vec![pending(4, Resume), pending(6, Pause)], Asked(6)),
        ];
        for (paused_now, commands, standing) in table {
            assert_eq!(
                pause_standing(paused_now, &commands),
                standing,
                "{paused_now} {commands:?}"
            );
        }
    }
}
