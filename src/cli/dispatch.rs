//! `switchboard dispatch PROJECT PROMPT…`: journal a task and return.

use std::path::Path;
use std::process::ExitCode;

use anyhow::bail;
use serde_json::json;

use super::Context;
use super::output::{BOLD, paint, visible};
use super::project::{check_agent, register};
use crate::config::Config;
use crate::intake::limits;
use crate::journal::{Journal, NewJob};
use crate::model::{Project, Timestamp};
use crate::workspace;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A registered project name, or the path of a git repository (registered
    /// on first use, named after its directory)
    pub project: String,
    /// What the agent should do; several words are joined with spaces
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
    let prompt = args.prompt.join(" ");
    if prompt.trim().is_empty() {
        bail!("the prompt is empty; say what the agent should do");
    }
    // The same limits as every other intake.
    limits::task(&prompt, args.title.as_deref(), args.priority).map_err(anyhow::Error::msg)?;
    limits::after(&args.after).map_err(anyhow::Error::msg)?;
    let config = ctx.config()?;
    if let Some(agent) = &args.agent {
        check_agent(&config, agent)?;
    }
    let mut journal = ctx.journal()?;
    let (project, registered) = resolve_project(&mut journal, &config, &args.project)?;
    let mut job = NewJob::task(
        Some(project.name.clone()),
        prompt,
        args.priority.unwrap_or(config.priorities.task),
    );
    job.agent = args.agent;
    job.after = args.after;
    job.after.sort_unstable();
    job.after.dedup();
    if let Some(title) = args.title {
        job.title = title;
    }
    let id = journal.dispatch(&job, Timestamp::now())?;
    // Which agent it gets as things stand; `auto` with nothing installed
    // is the demo agent, and the operator is told so.
    let fallback = crate::engine::falls_back_to_demo(job.agent.as_deref(), &project, &config);
    let runs = if fallback {
        crate::engine::DEMO_FALLBACK.to_string()
    } else {
        crate::engine::resolved_profile(job.agent.as_deref(), &project, &config)
    };
    if args.json {
        let out = json!({
            "id": id,
            "state": "queued",
            "kind": "task",
            "project": project.name,
            "title": job.title,
            "priority": job.priority,
            "agent": job.agent,
            "runs": runs,
            "after": job.after,
            "registered_project": registered,
        });
        println!("{out}");
    } else {
        if registered {
            anstream::eprintln!(
                "Registered {} as project {} (base {}).",
                visible(&project.path.display().to_string()),
                paint(BOLD, visible(&project.name)),
                visible(&project.base_branch)
            );
        }
        anstream::println!(
            "Queued job {} for {}: {}",
            paint(BOLD, format!("#{id}")),
            visible(&project.name),
            visible(&job.title)
        );
        if fallback {
            anstream::println!(
                "Agent: {} (none of claude, codex, aider is on PATH; `switchboard doctor` says how to install one).",
                crate::engine::DEMO_FALLBACK
            );
        }
        if !job.after.is_empty() {
            let ids: Vec<String> = job.after.iter().map(|a| format!("#{a}")).collect();
            anstream::println!("It starts after {} merged.", ids.join(", "));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A registered name, or a repository path (registered now if it is new).
/// Returns the project and whether it was registered by this call.
pub(crate) fn resolve_project(
    journal: &mut Journal,
    config: &Config,
    given: &str,
) -> anyhow::Result<(Project, bool)> {
    if let Some(project) = journal.project(given)? {
        return Ok((project, false));
    }
    let path = Path::new(given);
    if !path.exists() {
        bail!(
            "no project named {given:?} and no directory at that path; \
             register one with `switchboard project add NAME PATH` or give a repository path"
        );
    }
    // A registered repository, or a directory in it, is found without
    // starting git: the nearest directory holding `.git` is the root git
    // would name. Git is asked only for a path not registered yet.
    if path.is_dir()
        && let Some(root) = workspace::enclosing_repository(&path.canonicalize()?)
        && let Some(project) = journal.project_at(&root)?
    {
        return Ok((project, false));
    }
    let root = workspace::repository_root(path).map_err(anyhow::Error::msg)?;
    let root = root.canonicalize()?;
    if let Some(project) = journal.project_at(&root)? {
        return Ok((project, false));
    }
    let base = root
        .file_name()
        .map(|n| sanitize(&n.to_string_lossy()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "project".to_string());
    let mut name = base.clone();
    let mut n = 2;
    while journal.project(&name)?.is_some() {
        name = format!("{base}-{n}");
        n += 1;
    }
    let project = register(journal, config, &name, &root, None, None, 1)?;
    Ok((project, true))
}

/// A directory name made into a project name.
fn sanitize(dir: &str) -> String {
    let cleaned: String = dir
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    cleaned
        .trim_start_matches(['.', '-'])
        .chars()
        .take(64)
        .collect()
}
