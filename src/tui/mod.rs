//! The control room: the full-screen terminal UI.
//!
//! Keys and clicks become actions (`keymap`, `update::handle_key`),
//! `update` changes the state and returns intents, `draw` is a pure
//! function of the state. The room loop (`room.rs`) is the only place
//! that does I/O for the room: it reads the journal, carries out intents,
//! and hands the state new snapshots and captures. The engine runs on its
//! own thread when this room holds the home; otherwise the room is a
//! viewer. The terminal is restored on quit, on error, on panic and on
//! SIGTERM/SIGHUP; agents keep running when the room closes.

pub mod action;
pub mod app;
pub mod capture;
pub mod draw;
pub mod events;
pub mod form;
pub mod grid;
pub mod keymap;
pub mod layout;
pub mod notice;
mod room;
pub mod update;
pub mod watch;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use app::{App, EngineState, Snapshot};

use crate::config::Config;
use crate::engine::Engine;
use crate::home::Home;
use crate::journal::{JobFilter, Journal};
use crate::model::{Project, Reachability, Timestamp};

/// Reads what the room shows from the journal; also the projects, which
/// the room needs to know each job's agent profile.
pub fn snapshot(
    journal: &Journal,
    config: &Config,
    now: Timestamp,
) -> anyhow::Result<(Snapshot, Vec<Project>)> {
    let projects = journal.projects()?;
    let jobs = journal.jobs(&JobFilter::default())?;
    // One look at PATH a snapshot, not one a job.
    let demo_fallback = if crate::engine::no_agent_installed() {
        jobs.iter()
            .filter(|j| {
                projects
                    .iter()
                    .find(|p| Some(&p.name) == j.project.as_ref())
                    .is_some_and(|p| crate::engine::asks_for_auto(j.agent.as_deref(), p, config))
            })
            .map(|j| j.id)
            .collect()
    } else {
        Default::default()
    };
    let missing_agents = config
        .agents
        .iter()
        .filter(|(_, p)| {
            matches!(
                crate::engine::installed(p),
                crate::engine::Installed::Missing(_)
            )
        })
        .map(|(name, _)| name.clone())
        .collect();
    Ok((
        Snapshot {
            jobs,
            chains: journal.chains()?,
            reviews: journal.review_items()?,
            projects: projects.iter().map(|p| p.name.clone()).collect(),
            bases: projects
                .iter()
                .map(|p| (p.name.clone(), p.base_branch.clone()))
                .collect(),
            delivers: projects
                .iter()
                .map(|p| (p.name.clone(), config.project(&p.name).deliver))
                .filter(|(_, d)| *d != crate::config::Deliver::Merge)
                .collect(),
            max_agents: config.scheduler.max_agents,
            task_priority: config.priorities.task,
            chain_window: config.scheduler.chain_window,
            now: Some(now),
            demo_fallback,
            missing_agents,
            hosts: projects
                .iter()
                .filter(|p| !p.host.is_local())
                .map(|p| (p.name.clone(), p.host.clone()))
                .collect(),
            // Only hosts still known: a host removed from the config
            // leaves its last state behind.
            unreachable: {
                let known = config.hosts_with(journal.hosts()?);
                journal
                    .host_health()?
                    .into_iter()
                    .filter(|h| known.iter().any(|k| k.name == h.host))
                    .filter_map(|h| match h.reachability {
                        Reachability::Unreachable { since, .. } => Some((h.host, since)),
                        _ => None,
                    })
                    .collect()
            },
        },
        projects,
    ))
}

/// How the control room ended, for what the command line says after it.
#[derive(Debug, Clone, Default)]
pub struct Closed {
    /// The signal that closed it, if one did.
    pub signal: Option<i32>,
    /// The agents' sessions left running, when this room ran the engine.
    pub agents: Vec<String>,
    /// This room ran the engine, no agent was left, and the home's tmux
    /// server was stopped with it.
    pub server_stopped: bool,
    /// Another process runs this home's engine (this room was a viewer).
    pub viewer: bool,
}

/// Opens the control room on `home` until the operator quits.
pub fn run(home: Home, config: Config) -> anyhow::Result<Closed> {
    let stop = Arc::new(AtomicBool::new(false));
    let (engine_state, engine) = match Engine::try_start(home.clone(), config.clone())? {
        Some(mut engine) => {
            // The room's engine takes network intake as `run` does.
            engine.start_network(None)?;
            let stop = Arc::clone(&stop);
            let handle = std::thread::Builder::new()
                .name("engine".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        if let Err(e) = engine.run_until(&stop) {
                            tracing::error!("engine: {e:#}");
                            std::thread::sleep(Duration::from_secs(1));
                        }
                    }
                })?;
            (EngineState::Running, Some(handle))
        }
        None => (EngineState::Viewer, None),
    };
    let mut app = App::new(engine_state);
    app.take_config(&config);
    app.no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    // Read from the file system, not asked of git: git (slow, or hung
    // on a network file system) never stands between the operator and
    // the room.
    app.here = std::env::current_dir()
        .and_then(|d| d.canonicalize())
        .ok()
        .and_then(|d| crate::workspace::enclosing_repository(&d))
        .map(|p| p.display().to_string());
    let result =
        room::Room::open(&home, &config, engine.as_ref()).and_then(|mut room| room.run(&mut app));
    stop.store(true, Ordering::Relaxed);
    if let Some(handle) = engine {
        let _ = handle.join();
    }
    let signal = result?;
    if let Some(signal) = signal {
        println!("switchboard: the control room closed on signal {signal}.");
    }
    let mut closed = Closed {
        signal,
        viewer: engine_state == EngineState::Viewer,
        ..Closed::default()
    };
    if !closed.viewer {
        // With no agent left (not even an exited one, whose status the
        // next engine reads), the private tmux server goes too.
        let server = crate::runtime::TmuxServer::for_home(&home, config.tmux.history_limit)?;
        closed.agents = server
            .sessions()
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.name)
            .filter(|n| n != crate::runtime::CONTROL_SESSION)
            .collect();
        closed.agents.dedup();
        if closed.agents.is_empty() {
            closed.server_stopped = server.kill_server().is_ok();
        }
    }
    Ok(closed)
}

#[cfg(test)]
mod tests;
