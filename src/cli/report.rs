//! `switchboard report [ID] [--progress N] [--message TEXT] [--done|--failed|--waiting]`:
//! what an agent, or its hooks, say about its work.
//!
//! Also takes, unchanged, the JSON that Claude Code's hooks write on stdin
//! and the JSON that Codex passes to its `notify` program as an argument.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use super::Context;
use crate::intake::hooks::{HookReport, claude_hook, codex_notify};
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
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("reading the hook's input")?;
            if input.trim().is_empty() {
                bail!(
                    "nothing to report: give --progress, --message or a status, or hook JSON on stdin"
                );
            }
            (
                id.map(str::to_string).or(from_env),
                claude_hook(&input).map_err(anyhow::Error::msg)?,
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
