//! `switchboard chains [--json]`.

use std::process::ExitCode;

use serde_json::json;

use super::Context;
use super::output::{BOLD, DIM, GREEN, YELLOW, fit, paint};
use crate::model::Timestamp;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON only
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let window = ctx.config()?.scheduler.chain_window;
    let chains = ctx.journal()?.chains()?;
    let now = Timestamp::now();
    if args.json {
        let out: Vec<_> = chains
            .iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "account": c.account,
                    "state": c.state(now, window),
                    "alarms": c.alarms,
                    "first_at": c.first_at,
                    "latest_at": c.latest_at,
                    "job": c.job,
                })
            })
            .collect();
        println!("{}", serde_json::to_string(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    if chains.is_empty() {
        println!("No alarm chains yet. Alarms arrive with `switchboard ingest` or in the inbox.");
        return Ok(ExitCode::SUCCESS);
    }
    anstream::println!(
        "{}",
        paint(
            BOLD,
            format!(
                "{:>5}  {:14}  {:8}  {:>6}  {:24}  {:24}  JOB",
                "CHAIN", "ACCOUNT", "STATE", "ALARMS", "FIRST", "LATEST"
            )
        )
    );
    for c in chains {
        let state = c.state(now, window);
        let style = match state {
            "open" => YELLOW,
            "resolved" => GREEN,
            _ => DIM,
        };
        anstream::println!(
            "{:>5}  {:14}  {}  {:>6}  {:24}  {:24}  {}",
            c.id,
            fit(&c.account, 14),
            paint(style, format!("{state:8}")),
            c.alarms,
            c.first_at.to_string(),
            c.latest_at.to_string(),
            c.job.map(|j| format!("#{j}")).unwrap_or_else(|| "-".into())
        );
    }
    Ok(ExitCode::SUCCESS)
}
