//! `switchboard simulate SCENARIO [--json] [--seed N] [--from-journal DB]`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use super::Context;
use super::output::{BOLD, DIM, paint, visible};
use crate::config::Config;
use crate::scheduler::{Action, Decision};
use crate::simulator::{Simulation, replay_journal};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A scenario: JSON lines of messages with `at` times, config, projects
    /// and agent behaviour (see assets/scenarios/)
    pub scenario: Option<PathBuf>,
    /// Print JSON only: one decision a line, then the summary
    #[arg(long)]
    pub json: bool,
    /// Seeds the retry jitter; the same scenario and seed give the same output
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Replay the intake recorded in this journal (after the scenario's lines)
    #[arg(long, value_name = "DB")]
    pub from_journal: Option<PathBuf>,
    /// Print only the summary (for large runs); with --json, its one line
    #[arg(long)]
    pub summary_only: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    if args.scenario.is_none() && args.from_journal.is_none() {
        bail!("give a scenario file, or --from-journal DB to replay a journal's intake");
    }
    let table = Config::user_table(&ctx.home.config_file())?;
    let mut sim = Simulation::new(args.seed)?.with_config(table)?;
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(anstream::AutoStream::auto(stdout.lock()));
    let mut failed: Option<std::io::Error> = None;
    let json = args.json;
    let quiet = args.summary_only;
    let mut print = |d: &Decision| {
        if failed.is_some() || quiet {
            return;
        }
        let result = if json {
            // Through a map, so a field the decision and its kind both
            // carry (`at`) is printed once.
            serde_json::to_value(d)
                .and_then(|v| serde_json::to_writer(&mut out, &v))
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"))
        } else {
            writeln!(out, "{}", human(d))
        };
        if let Err(e) = result {
            failed = Some(e);
        }
    };
    if let Some(path) = &args.scenario {
        let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        sim.run(BufReader::new(file), &mut print)
            .with_context(|| format!("in {}", path.display()))?;
    }
    if let Some(db) = &args.from_journal {
        replay_journal(&mut sim, db, &mut print)?;
    }
    if let Some(e) = failed {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(e.into());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let summary = &sim.summary;
    if json {
        writeln!(out, "{}", serde_json::json!({ "summary": summary }))?;
    } else {
        let k = &summary.jobs_by_kind;
        let gap = if quiet { "" } else { "\n" };
        writeln!(out, "{gap}{}", paint(BOLD, "summary"))?;
        writeln!(out, "  messages           {}", summary.messages)?;
        writeln!(
            out,
            "  jobs               {} tasks, {} tickets, {} incidents",
            k.task, k.ticket, k.incident
        )?;
        writeln!(
            out,
            "  chains             {} opened, {} alarms chained",
            summary.chains, summary.alarms_chained
        )?;
        writeln!(out, "  tickets deduped    {}", summary.tickets_deduplicated)?;
        writeln!(
            out,
            "  agents started     {} (at most {} at once)",
            summary.agents_started, summary.max_concurrency
        )?;
        writeln!(
            out,
            "  outcomes           {} done, {} retries, {} timeouts, {} failed",
            summary.done, summary.retries, summary.timeouts, summary.failed
        )?;
        writeln!(
            out,
            "  wait to start      mean {}s, max {}s",
            summary.mean_wait_s, summary.max_wait_s
        )?;
        writeln!(out, "  events             {}", summary.events)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// One decision for a person.
fn human(d: &Decision) -> String {
    let subject = match &d.action {
        Action::CreateJob { .. } => String::new(),
        Action::OpenTicket { key, .. } | Action::UpdateTicket { key, .. } => key.clone(),
        Action::OpenChain { account, .. } | Action::ResolveChain { account, .. } => account.clone(),
        Action::JoinChain { chain, .. } => format!("chain {chain}"),
        Action::Start { job, .. }
        | Action::Wait { job, .. }
        | Action::Retry { job, .. }
        | Action::GiveUp { job }
        | Action::Timeout { job } => format!("#{job}"),
    };
    format!(
        "{} {:13} {:14} {}",
        paint(DIM, d.at),
        d.kind(),
        visible(&subject),
        visible(&d.reason)
    )
}
