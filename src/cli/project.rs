//! `switchboard project add|list`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Subcommand;

use super::Context;
use super::output::{BOLD, paint, visible};
use crate::config::Config;
use crate::journal::Journal;
use crate::model::{Project, Timestamp, check_project_name};
use crate::workspace;

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Register a git repository as a project
    Add {
        /// The name jobs and messages use for it
        name: String,
        /// The repository (any directory inside its work tree)
        path: PathBuf,
        /// The branch worktrees start from and approved work merges into
        /// [default: the branch checked out now]
        #[arg(long, value_name = "BRANCH")]
        base: Option<String>,
        /// The agent profile for its jobs [default: routing.default_agent]
        #[arg(long, value_name = "NAME")]
        agent: Option<String>,
        /// Agents at once in this repository; 1 means one agent claims it
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        max_agents: u32,
    },
    /// List the registered projects
    List {
        /// Print JSON only
        #[arg(long)]
        json: bool,
    },
}

pub fn run(ctx: &Context, cmd: ProjectCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ProjectCommand::Add {
            name,
            path,
            base,
            agent,
            max_agents,
        } => {
            let config = ctx.config()?;
            let mut journal = ctx.journal()?;
            let project = register(&mut journal, &config, &name, &path, base, agent, max_agents)?;
            anstream::println!(
                "Registered project {} at {} (base {}, agent {}, {} agent{} at a time).",
                paint(BOLD, visible(&project.name)),
                visible(&project.path.display().to_string()),
                visible(&project.base_branch),
                visible(
                    project
                        .agent
                        .as_deref()
                        .unwrap_or(&config.routing.default_agent)
                ),
                project.max_agents,
                if project.max_agents == 1 { "" } else { "s" },
            );
            Ok(ExitCode::SUCCESS)
        }
        ProjectCommand::List { json } => {
            let projects = ctx.journal()?.projects()?;
            if json {
                println!("{}", serde_json::to_string(&projects)?);
            } else if projects.is_empty() {
                println!("No projects yet. Register one with `switchboard project add NAME PATH`.");
            } else {
                let width = projects
                    .iter()
                    .map(|p| p.name.len())
                    .max()
                    .unwrap_or(4)
                    .max(4);
                anstream::println!(
                    "{}",
                    paint(
                        BOLD,
                        format!(
                            "{:width$}  {:8}  {:6}  {:4}  PATH",
                            "NAME", "BASE", "AGENT", "MAX"
                        )
                    )
                );
                for p in projects {
                    println!(
                        "{:width$}  {:8}  {:6}  {:4}  {}",
                        visible(&p.name),
                        visible(&p.base_branch),
                        visible(p.agent.as_deref().unwrap_or("-")),
                        p.max_agents,
                        visible(&p.path.display().to_string())
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Checks and registers a project.
pub fn register(
    journal: &mut Journal,
    config: &Config,
    name: &str,
    path: &Path,
    base: Option<String>,
    agent: Option<String>,
    max_agents: u32,
) -> anyhow::Result<Project> {
    check_project_name(name).map_err(anyhow::Error::msg)?;
    let root = workspace::repository_root(path).map_err(anyhow::Error::msg)?;
    let root = root
        .canonicalize()
        .with_context(|| format!("cannot resolve {}", root.display()))?;
    let base_branch = match base {
        Some(b) if workspace::has_branch(&root, &b) => b,
        Some(b) => bail!(
            "{} has no branch {b:?}; pass an existing branch with --base",
            root.display()
        ),
        None => workspace::current_branch(&root).map_err(anyhow::Error::msg)?,
    };
    if let Some(agent) = &agent {
        check_agent(config, agent)?;
    }
    let project = Project {
        name: name.to_string(),
        path: root,
        base_branch,
        agent,
        max_agents,
        host: crate::model::HostName::local(),
        created_at: Timestamp::now(),
    };
    journal.add_project(&project)?;
    Ok(project)
}

/// Refuses an agent profile the config does not have.
pub fn check_agent(config: &Config, agent: &str) -> anyhow::Result<()> {
    if agent != "auto" && !config.agents.contains_key(agent) {
        bail!(
            "no agent profile {agent:?}; known profiles: {} (add one under [agents.{agent}] in config.toml)",
            config.agent_names().join(", ")
        );
    }
    Ok(())
}
