//! `switchboard ingest FILE|- [--json]`: journal every readable line, report
//! every unreadable one by number, exit non-zero if any was rejected.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::json;

use super::Context;
use super::output::{BOLD, RED, paint, visible};
use crate::intake::ingest_lines;
use crate::model::Source;

/// The exit status when some lines were rejected and the rest journaled.
pub const SOME_REJECTED: u8 = 3;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A file of JSON lines, or - for standard input
    pub file: PathBuf,
    /// Print JSON only
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let (input, source): (Box<dyn BufRead>, String) = if args.file.as_os_str() == "-" {
        (
            Box::new(BufReader::with_capacity(1 << 16, io::stdin().lock())),
            "stdin".into(),
        )
    } else {
        let file = File::open(&args.file)
            .with_context(|| format!("cannot read {}", args.file.display()))?;
        (
            Box::new(BufReader::with_capacity(1 << 16, file)),
            args.file.display().to_string(),
        )
    };
    let priorities = ctx.config()?.priorities;
    let mut journal = ctx.journal()?;
    let report = ingest_lines(
        &mut journal,
        input,
        &Source::cli(source.as_str()),
        &priorities,
    )?;
    if args.json {
        let rejected: Vec<_> = report
            .rejected
            .iter()
            .map(|(line, reason)| json!({"line": line, "reason": reason}))
            .collect();
        println!(
            "{}",
            json!({
                "accepted": report.accepted,
                "rejected": rejected,
                "jobs": report.jobs,
                "duplicates": report.duplicates,
            })
        );
    } else {
        let n = report.accepted;
        anstream::println!(
            "Journaled {} message{} from {}.",
            paint(BOLD, n),
            if n == 1 { "" } else { "s" },
            visible(&source)
        );
        if report.duplicates > 0 {
            let d = report.duplicates;
            println!(
                "Skipped {d} message{} delivered before (an SNS MessageId already journaled).",
                if d == 1 { "" } else { "s" }
            );
        }
        if !report.rejected.is_empty() {
            let r = report.rejected.len();
            anstream::eprintln!(
                "{} line{} rejected (kept in the journal with the reason):",
                paint(RED, r),
                if r == 1 { "" } else { "s" }
            );
            for (line, reason) in &report.rejected {
                anstream::eprintln!("  line {line}: {}", visible(reason));
            }
        }
    }
    Ok(if report.rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(SOME_REJECTED)
    })
}
