//! `switchboard project add|list|remove`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Subcommand;

use super::Context;
use super::output::{BOLD, paint, visible};
use super::remote_repository::{self, InspectRemote};
use crate::config::Config;
use crate::journal::Journal;
use crate::model::{HostName, Project, Timestamp, check_project_name};
use crate::workspace;

#[derive(Debug, Subcommand)]
#[command(defer = true)]
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
        /// The host the repository is on (PATH is a path there); `host
        /// list` shows the hosts [default: local, this machine]
        #[arg(long, value_name = "HOST")]
        host: Option<String>,
    },
    /// List the registered projects
    List {
        /// Print JSON only
        #[arg(long)]
        json: bool,
    },
    /// Remove a project (refused while it has active jobs or work in
    /// review); its finished jobs keep its name in history
    Remove { name: String },
}

pub fn run(ctx: &Context, cmd: ProjectCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ProjectCommand::Add {
            name,
            path,
            base,
            agent,
            max_agents,
            host,
        } => {
            let config = ctx.config()?;
            let mut journal = ctx.journal()?;
            let host = match host {
                Some(h) => HostName::parse(&h).map_err(anyhow::Error::msg)?,
                None => HostName::local(),
            };
            let (project, checked) = if host.is_local() {
                let p = register(&mut journal, &config, &name, &path, base, agent, max_agents)?;
                (p, true)
            } else {
                let inspector = remote_repository::inspector(&ctx.home);
                let new = NewProject {
                    name: &name,
                    path: &path,
                    base,
                    agent,
                    max_agents,
                };
                register_remote(&mut journal, &config, &host, new, inspector.as_ref())?
            };
            let place = if project.host.is_local() {
                String::new()
            } else {
                format!(" on host {}", project.host)
            };
            anstream::println!(
                "Registered project {} at {}{place} (base {}, agent {}, {} agent{} at a time).",
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
            if !checked {
                anstream::println!(
                    "Not checked on host {}: the path and base branch were taken as given.",
                    project.host
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        ProjectCommand::Remove { name } => {
            ctx.journal()?.remove_project(&name, Timestamp::now())?;
            anstream::println!("Removed project {}.", paint(BOLD, visible(&name)));
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
                            "{:width$}  {:8}  {:6}  {:4}  {:8}  PATH",
                            "NAME", "BASE", "AGENT", "MAX", "HOST"
                        )
                    )
                );
                for p in projects {
                    println!(
                        "{:width$}  {:8}  {:6}  {:4}  {:8}  {}",
                        visible(&p.name),
                        visible(&p.base_branch),
                        visible(p.agent.as_deref().unwrap_or("-")),
                        p.max_agents,
                        p.host,
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
    // An unborn branch (`git init`, nothing committed) has no commit to
    // cut an agent's worktree from.
    if !workspace::has_branch(&root, &base_branch) {
        bail!(
            "{} has no commit yet (its branch {base_branch:?} is empty), and an agent's worktree starts from one; make a first commit (`git -C {} commit --allow-empty -m init`) and run this again",
            root.display(),
            root.display()
        );
    }
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

/// What `project add` was given, for a project on another host.
pub struct NewProject<'a> {
    pub name: &'a str,
    pub path: &'a Path,
    pub base: Option<String>,
    pub agent: Option<String>,
    pub max_agents: u32,
}

/// Checks and registers a project on a remote host: the host must be
/// known, and `inspector` looks at the repository there. Returns the
/// project and whether the host was actually asked.
pub fn register_remote(
    journal: &mut Journal,
    config: &Config,
    host: &HostName,
    new: NewProject,
    inspector: &dyn InspectRemote,
) -> anyhow::Result<(Project, bool)> {
    check_project_name(new.name).map_err(anyhow::Error::msg)?;
    let hosts = config.hosts_with(journal.hosts()?);
    let Some(known) = hosts.iter().find(|h| &h.name == host) else {
        let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
        bail!(
            "no host {host}; known: local{}{} (register one with `switchboard host add NAME [USER@]HOST[:PORT]`)",
            if names.is_empty() { "" } else { ", " },
            names.join(", ")
        );
    };
    if let Some(agent) = &new.agent {
        check_agent(config, agent)?;
    }
    let repo = inspector
        .inspect(known, new.path, new.base.as_deref())
        .map_err(anyhow::Error::msg)?;
    let project = Project {
        name: new.name.to_string(),
        path: repo.root,
        base_branch: repo.base_branch,
        agent: new.agent,
        max_agents: new.max_agents,
        host: host.clone(),
        created_at: Timestamp::now(),
    };
    journal.add_project(&project)?;
    Ok((project, repo.checked))
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
