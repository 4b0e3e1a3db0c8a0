//! `switchboard review [--json]`.

use std::process::ExitCode;

use serde::Serialize;

use super::Context;
use super::output::{BOLD, GREEN, RED, fit, paint, visible};
use crate::journal::ReviewView;
use crate::model::KeptComment;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON only
    #[arg(long)]
    pub json: bool,
}

/// One item of `review --json`: the review item and its comments.
#[derive(Serialize)]
struct ItemJson<'a> {
    #[serde(flatten)]
    item: &'a ReviewView,
    /// Every comment on it, oldest first; `sent_at` null for those the
    /// next rejection sends.
    comments: &'a [KeptComment],
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let journal = ctx.journal()?;
    let items = journal.review_items()?;
    if args.json {
        let comments = journal.kept_review_comments()?;
        let out: Vec<ItemJson> = items
            .iter()
            .map(|item| ItemJson {
                item,
                comments: comments.get(&item.job).map_or(&[], Vec::as_slice),
            })
            .collect();
        println!("{}", serde_json::to_string(&out)?);
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
        if let Some(d) = &item.delivery {
            // Where it went, on a line of its own: a URL is never cut.
            anstream::println!(
                "{:>5}  {} to {}{}{}",
                "",
                d.summary(),
                visible(&d.remote),
                d.url
                    .as_deref()
                    .map(|u| format!(": {}", visible(u)))
                    .unwrap_or_default(),
                d.checked_at
                    .map(|t| format!(" (looked at {})", t.rfc3339()))
                    .unwrap_or_default(),
            );
        }
    }
    println!(
        "Approve with `switchboard approve ID`, send back with `switchboard reject ID --reason TEXT`."
    );
    Ok(ExitCode::SUCCESS)
}
