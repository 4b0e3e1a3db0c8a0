//! `switchboard report [ID] [--progress N] [--message TEXT] [--done|--failed|--waiting]`:
//! what an agent, or its hooks, say about its work.
//!
//! Also takes, unchanged, the JSON that Claude Code's hooks write on stdin
//! and the JSON that Codex passes to its `notify` program as an argument.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use super::Context;
use crate::intake::hooks::{
    HookReport, MAX_HOOK_INPUT, claude_hook, claude_hook_head, codex_notify,
};
use crate::journal::{ReportSource, ReportStatus};
use crate::model::Timestamp;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The job [default: $SWITCHBOARD_JOB, set in every agent's session];
    /// a JSON object here is read as a Codex notification
    pub id: Option<String>,
    /// The job, when the ID's place holds a Codex notification (Codex's
    /// `notify` argv carries it: its daemon's environment may be another
    /// job's)
    #[arg(long, value_name = "ID")]
    pub job: Option<String>,
    /// How far along, 0 to 100
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(0..=100))]
    pub progress: Option<u8>,
    /// What the agent is doing or needs
    #[arg(long, value_name = "TEXT")]
    pub message: Option<String>,
    /// The work is finished
    #[arg(long, group = "status")]
    pub done: bool,
    /// The agent gave up
    #[arg(long, group = "status")]
    pub failed: bool,
    /// The agent waits for the operator
    #[arg(long, group = "status")]
    pub waiting: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let from_env = args
        .job
        .clone()
        .or_else(|| std::env::var("SWITCHBOARD_JOB").ok());
    let flags_given = args.progress.is_some()
        || args.message.is_some()
        || args.done
        || args.failed
        || args.waiting;
    let (job_text, report) = match args.id.as_deref() {
        Some(json) if json.trim_start().starts_with('{') => {
            (from_env, codex_notify(json).map_err(anyhow::Error::msg)?)
        }
        id if !flags_given && !std::io::stdin().is_terminal() => {
            let (input, cut) = read_hook_input(&mut std::io::stdin().lock())
                .context("reading the hook's input")?;
            if input.trim_ascii().is_empty() {
                bail!(
                    "nothing to report: give --progress, --message or a status, or hook JSON on stdin"
                );
            }
            let report = if cut {
                claude_hook_head(&input)
            } else {
                let text = String::from_utf8(input).context("the hook's input is not UTF-8")?;
                claude_hook(&text)
            };
            (
                id.map(str::to_string).or(from_env),
                report.map_err(anyhow::Error::msg)?,
            )
        }
        id => {
            let status = if args.done {
                Some(ReportStatus::Done)
            } else if args.failed {
                Some(ReportStatus::Failed)
            } else if args.waiting {
                Some(ReportStatus::Waiting)
            } else {
                None
            };
            if !flags_given {
                bail!(
                    "nothing to report: give --progress N, --message TEXT, --done, --failed or --waiting"
                );
            }
            (
                id.map(str::to_string).or(from_env),
                HookReport {
                    status,
                    message: args.message.clone(),
                    source: ReportSource::Cli,
                },
            )
        }
    };
    let Some(job_text) = job_text else {
        if report.source != ReportSource::Cli {
            // A hook installed for every session of the agent, run outside
            // switchboard: nothing to report, and nothing to complain about.
            eprintln!(
                "switchboard report: not inside a switchboard agent (no SWITCHBOARD_JOB); nothing reported"
            );
            return Ok(ExitCode::SUCCESS);
        }
        bail!("which job? pass its ID, or run inside an agent's session (SWITCHBOARD_JOB)");
    };
    let job: i64 = job_text
        .trim()
        .parse()
        .with_context(|| format!("{job_text:?} is not a job id"))?;
    // On a remote host there is no journal: the report goes to the agent's
    // pane, where the engine's patrol reads it.
    if crate::remote::report::through_pane() {
        crate::remote::report::send(
            job,
            report.status,
            args.progress,
            report.message.as_deref(),
            report.source,
        )
        .map_err(anyhow::Error::msg)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut journal = ctx.journal()?;
    journal.record_report(
        job,
        report.status,
        args.progress,
        report.message.as_deref(),
        report.source,
        Timestamp::now(),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// How much of a longer hook input is read and thrown away after the
/// bound, so that a hook that writes a few MiB is not cut off mid-write
/// (a broken pipe); past it, the report returns and the writer's pipe
/// breaks.
const DRAIN_HOOK_INPUT: u64 = 16 << 20;

/// A hook's input: at most [`MAX_HOOK_INPUT`] bytes, and whether it was
/// longer (then up to [`DRAIN_HOOK_INPUT`] more is read and dropped).
fn read_hook_input(input: &mut impl Read) -> std::io::Result<(Vec<u8>, bool)> {
    let mut head = Vec::new();
    input
        .take(MAX_HOOK_INPUT as u64 + 1)
        .read_to_end(&mut head)?;
    let cut = head.len() > MAX_HOOK_INPUT;
    if cut {
        head.truncate(MAX_HOOK_INPUT);
        std::io::copy(&mut input.take(DRAIN_HOOK_INPUT), &mut std::io::sink())?;
    }
    Ok((head, cut))
}
