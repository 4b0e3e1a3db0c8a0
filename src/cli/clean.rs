//! `switchboard clean [--dry-run] [--force] [--json]`: removes what merged
//! jobs left behind and the worktrees of killed and failed jobs past
//! `keep_failed`, and lists what it removed (or would).

use std::process::ExitCode;

use super::Context;
use super::output::{DIM, GREEN, YELLOW, paint, visible};
use crate::engine::cleanup;
use crate::model::Timestamp;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Say what would be removed, remove nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Remove worktrees even when they hold uncommitted changes
    #[arg(long)]
    pub force: bool,
    /// Print JSON only
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?;
    let journal = ctx.journal()?;
    let cleanup::Plan {
        removals: mut plan,
        unreached,
    } = cleanup::plan(&journal, &config, &ctx.home, Timestamp::now())?;
    if !args.dry_run {
        cleanup::carry_out(&journal, &mut plan, args.force)?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&plan)?);
        for (host, why) in &unreached {
            eprintln!("host {} was not cleaned: {}", visible(host), visible(why));
        }
        return Ok(ExitCode::SUCCESS);
    }
    for (host, why) in &unreached {
        anstream::println!(
            "{} host {}: nothing there was looked at ({})",
            paint(YELLOW, "skipped"),
            visible(host),
            visible(why)
        );
    }
    if plan.is_empty() && unreached.is_empty() {
        println!(
            "Nothing to clean: no merged job left a worktree or branch, no killed or failed job is past keep_failed."
        );
        return Ok(ExitCode::SUCCESS);
    }
    for r in &plan {
        let on = if r.host == crate::model::HostName::local().as_str() {
            String::new()
        } else {
            format!(" on host {}", r.host)
        };
        let what: Vec<String> = r
            .worktree
            .iter()
            .map(|w| format!("worktree {}{on}", w.display()))
            .chain(r.branch.iter().map(|b| format!("branch {b}")))
            .collect();
        let (mark, outcome) = if args.dry_run {
            (paint(DIM, "would remove"), String::new())
        } else if r.outcome.contains("stays") {
            (paint(YELLOW, "kept"), format!(": {}", r.outcome))
        } else {
            (paint(GREEN, "removed"), String::new())
        };
        anstream::println!(
            "#{:<5} {mark} {} ({}){}",
            r.job,
            visible(&what.join(", ")),
            visible(&r.why),
            visible(&outcome)
        );
    }
    Ok(ExitCode::SUCCESS)
}
