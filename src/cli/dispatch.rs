//! `switchboard dispatch PROJECT PROMPT…`: journal a task and return. With
//! an engine running on the home, the task is handed to it over the home's
//! local socket (its journal is open already); without one, it is journaled
//! here. Either way through [`hand_over_or_queue`], with the same words,
//! as the control room's dispatch form.

use std::process::ExitCode;

use serde_json::json;

use super::Context;
use super::output::{BOLD, paint, visible};
use super::queue_task::{Queued, TaskRequest, hand_over_or_queue};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A registered project name, or the path of a git repository (registered
    /// on first use, named after its directory)
    pub project: String,
    /// What the agent should do; several words are joined with spaces.
    /// `-` reads it from stdin (for a prompt longer than one argument may
    /// be: 128 KiB on Linux)
    #[arg(required = true, num_args = 1.., value_name = "PROMPT")]
    pub prompt: Vec<String>,
    /// The agent profile [default: the project's]
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// Higher starts first [default: priorities.task from the config]
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub priority: Option<i64>,
    /// A short title for lists [default: the prompt's first line]
    #[arg(long)]
    pub title: Option<String>,
    /// Start only after job ID is merged (or done, where nothing is
    /// reviewed); repeat it or give a comma list to wait for several
    #[arg(long, value_name = "ID", value_delimiter = ',', value_parser = crate::scheduler::parse_job_id)]
    pub after: Vec<i64>,
    /// Print JSON only
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let prompt = if args.prompt == ["-"] {
        prompt_from_stdin()?
    } else {
        args.prompt.join(" ")
    };
    let task = TaskRequest {
        project: args.project,
        prompt,
        agent: args.agent,
        priority: args.priority,
        title: args.title,
        after: args.after,
        cwd: std::env::current_dir().unwrap_or_default(),
    };
    let queued = hand_over_or_queue(&ctx.home, &task)?;
    show(&queued, args.json);
    Ok(ExitCode::SUCCESS)
}

/// The prompt given on stdin (`dispatch PROJECT -`), read up to one byte
/// past a prompt's limit, so that an endless pipe is refused by that
/// limit rather than read to its end.
fn prompt_from_stdin() -> anyhow::Result<String> {
    use std::io::Read;
    let most = crate::intake::limits::MAX_PROMPT_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    std::io::stdin().lock().take(most).read_to_end(&mut bytes)?;
    if bytes.len() as u64 == most {
        anyhow::bail!(
            "the prompt on stdin is over the {}-byte limit of a prompt",
            crate::intake::limits::MAX_PROMPT_BYTES
        );
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "the prompt on stdin is not UTF-8 text (at byte {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    if text.trim().is_empty() {
        anyhow::bail!("no prompt on stdin: `dispatch PROJECT -` reads the task from it");
    }
    Ok(text)
}

fn show(queued: &Queued, as_json: bool) {
    if as_json {
        let out = json!({
            "id": queued.id,
            "state": "queued",
            "kind": "task",
            "project": queued.project,
            "title": queued.title,
            "priority": queued.priority,
            "agent": queued.agent,
            "runs": queued.runs,
            "after": queued.after,
            "registered_project": queued.registered,
        });
        println!("{out}");
        return;
    }
    if queued.registered {
        anstream::eprintln!(
            "Registered {} as project {} (base {}).",
            visible(&queued.project_path.display().to_string()),
            paint(BOLD, visible(&queued.project)),
            visible(&queued.base_branch)
        );
    }
    anstream::println!(
        "Queued job {} for {}: {}",
        paint(BOLD, format!("#{}", queued.id)),
        visible(&queued.project),
        visible(&queued.title)
    );
    if queued.falls_back {
        anstream::println!(
            "Agent: demo (no agent installed: none of claude, codex, aider is on PATH; `switchboard doctor` says how to install one)."
        );
    }
    if !queued.after.is_empty() {
        let ids: Vec<String> = queued.after.iter().map(|a| format!("#{a}")).collect();
        anstream::println!("It starts after {} merged.", ids.join(", "));
    }
}
