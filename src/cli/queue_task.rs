//! Queuing an operator's task: the one path `dispatch` takes, whether the
//! CLI journals it itself or hands it to the running engine over the
//! home's local socket (see [`crate::engine::door`]). The same limits, the
//! same project resolution and the same words either way.

use std::path::{Path, PathBuf};

use anyhow::bail;
use serde::{Deserialize, Serialize};

use super::Context;
use super::handover::{Handover, hand_over};
use super::project::register;
use crate::config::Config;
use crate::engine::{AutoMemo, runs_as, runs_as_picked};
use crate::home::Home;
use crate::intake::limits;
use crate::journal::{Journal, NewJob};
use crate::model::{Project, Timestamp};
use crate::workspace;

/// A task as `dispatch` was given it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRequest {
    /// A registered project name, or a repository path (relative to `cwd`).
    pub project: String,
    pub prompt: String,
    pub agent: Option<String>,
    pub priority: Option<i64>,
    pub title: Option<String>,
    pub after: Vec<i64>,
    /// The directory `dispatch` ran in: a relative repository path is
    /// read from there, not from the engine's.
    pub cwd: PathBuf,
}

/// What was queued, for the operator and for `dispatch --json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Queued {
    pub id: i64,
    pub project: String,
    pub project_path: PathBuf,
    pub base_branch: String,
    pub title: String,
    pub priority: i64,
    pub agent: Option<String>,
    /// The agent it gets as things stand (a profile name, or the demo
    /// agent when `auto` finds none installed).
    pub runs: String,
    /// `auto` found no agent installed: the demo agent runs it.
    pub falls_back: bool,
    pub after: Vec<i64>,
    /// The project was registered by this dispatch (a new repository path).
    pub registered: bool,
}

/// Queues `task` as `switchboard dispatch` does: handed to the engine
/// running on `home` when one runs (its door journals it with [`queue`]),
/// else journaled here with [`queue`]. The command line and the control
/// room's form both come this way, so a task is checked once, in one set
/// of words. It may wait on git (a new repository path) and on the
/// engine's answer: the room calls it off its drawing thread.
pub fn hand_over_or_queue(home: &Home, task: &TaskRequest) -> anyhow::Result<Queued> {
    let here = Context { home: home.clone() };
    match hand_over(home, task)? {
        Handover::Taken(queued) => Ok(queued),
        Handover::Refused(why) => bail!(why),
        Handover::NoEngine => queue(&mut here.journal()?, &here.config()?, task, None),
    }
}

/// Checks `task` against the intake's limits, finds (or registers) its
/// project and journals it. What `auto` finds on PATH is taken from
/// `auto` where one is kept (the engine's door), else looked for now.
pub fn queue(
    journal: &mut Journal,
    config: &Config,
    task: &TaskRequest,
    auto: Option<&mut AutoMemo>,
) -> anyhow::Result<Queued> {
    if task.prompt.trim().is_empty() {
        bail!("the prompt is empty; say what the agent should do");
    }
    // The same limits as every other intake.
    limits::task(&task.prompt, task.title.as_deref(), task.priority).map_err(anyhow::Error::msg)?;
    limits::after(&task.after).map_err(anyhow::Error::msg)?;
    if let Some(agent) = &task.agent {
        super::project::check_agent(config, agent)?;
    }
    let (project, registered) = resolve_project_from(journal, config, &task.project, &task.cwd)?;
    let mut job = NewJob::task(
        Some(project.name.clone()),
        task.prompt.clone(),
        task.priority.unwrap_or(config.priorities.task),
    );
    job.agent = task.agent.clone();
    job.after = task.after.clone();
    job.after.sort_unstable();
    job.after.dedup();
    if let Some(title) = &task.title {
        job.title = title.clone();
    }
    let id = journal.dispatch(&job, Timestamp::now())?;
    let agent = job.agent.as_deref();
    let (runs, falls_back) = match auto {
        Some(memo) => runs_as_picked(agent, &project, config, || memo.pick()),
        None => runs_as(agent, &project, config),
    };
    Ok(Queued {
        id,
        project: project.name,
        project_path: project.path,
        base_branch: project.base_branch,
        title: job.title,
        priority: job.priority,
        agent: job.agent,
        runs,
        falls_back,
        after: job.after,
        registered,
    })
}

/// A registered name, or a repository path relative to `cwd` (registered
/// now if it is new). Returns the project and whether it was registered
/// by this call.
fn resolve_project_from(
    journal: &mut Journal,
    config: &Config,
    given: &str,
    cwd: &Path,
) -> anyhow::Result<(Project, bool)> {
    if let Some(project) = journal.project(given)? {
        return Ok((project, false));
    }
    let path = cwd.join(given);
    if given.is_empty() || !path.exists() {
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
    let root = workspace::repository_root(&path).map_err(anyhow::Error::msg)?;
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
