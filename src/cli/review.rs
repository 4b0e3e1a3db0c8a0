//! `switchboard review [--json]`.

use std::process::ExitCode;

use super::Context;
use super::output::{BOLD, GREEN, RED, fit, paint, visible};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON only
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let items = ctx.journal()?.review_items()?;
    if args.json {
        println!("{}", serde_json::to_string(&items)?);
        return Ok(ExitCode::SUCCESS);
    }
    if items.is_empty() {
        println!("Nothing to review. Finished agents' work appears here.");
        return Ok(ExitCode::SUCCESS);
    }
    anstream::println!(
        "{}",
        paint(
            BOLD,
            format!(
                "{:>5}  {:10}  {:24}  {:8}  CHANGES",
                "JOB", "PROJECT", "BRANCH", "STATE"
            )
        )
    );
    for item in items {
        anstream::println!(
            "{:>5}  {:10}  {:24}  {:8}  {}, {} {}",
            item.job,
            fit(&item.project, 10),
            fit(&item.branch, 24),
            visible(&item.state),
            crate::workspace::files_changed(item.files),
            paint(GREEN, format!("+{}", item.insertions)),
            paint(RED, format!("-{}", item.deletions)),
        );
    }
    println!(
        "Approve with `switchboard approve ID`, send back with `switchboard reject ID --reason TEXT`."
    );
    Ok(ExitCode::SUCCESS)
}
