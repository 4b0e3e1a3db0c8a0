//! The control room: the full-screen terminal UI.
//!
//! Keys become actions (`update::action_for`), `update` changes the state
//! and returns intents (commands for the engine, written to the journal),
//! `draw` is a pure function of the state. The engine runs on its own
//! thread when this room holds the home; otherwise the room is a viewer.
//! The terminal is restored on quit, on error and on panic (ratatui's
//! hook); agents keep running when the room closes.

pub mod app;
pub mod draw;
pub mod update;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyEventKind};

use app::{App, EngineState, Snapshot};
use update::{Intent, action_for, update};

use crate::config::Config;
use crate::engine::{Engine, session_name};
use crate::home::Home;
use crate::journal::{JobFilter, Journal};
use crate::model::Timestamp;
use crate::runtime::{ControlClient, TmuxServer};

/// Reads what the room shows from the journal.
pub fn snapshot(journal: &Journal, config: &Config, now: Timestamp) -> anyhow::Result<Snapshot> {
    Ok(Snapshot {
        jobs: journal.jobs(&JobFilter::default())?,
        chains: journal.chains()?,
        reviews: journal.review_items()?,
        max_agents: config.scheduler.max_agents,
        chain_window: config.scheduler.chain_window,
        now: Some(now),
    })
}

/// Opens the control room on `home` until the operator quits.
pub fn run(home: Home, config: Config) -> anyhow::Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let (engine_state, engine) = match Engine::try_start(home.clone(), config.clone())? {
        Some(mut engine) => {
            let stop = Arc::clone(&stop);
            let handle = std::thread::Builder::new()
                .name("engine".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        if let Err(e) = engine.run_for(Duration::from_millis(300)) {
                            tracing::error!("engine: {e:#}");
                            std::thread::sleep(Duration::from_secs(1));
                        }
                    }
                })?;
            (EngineState::Running, Some(handle))
        }
        None => (EngineState::Viewer, None),
    };
    let mut journal = Journal::open(&home.journal_file())?;
    let server = TmuxServer::for_home(&home, config.tmux.history_limit)?;
    let control = ControlClient::new(server.clone());
    let mut app = App::new(engine_state);
    let mut terminal = ratatui::init();
    let result = room(
        &mut terminal,
        &mut app,
        &mut journal,
        &control,
        &server,
        &home,
        &config,
    );
    ratatui::restore();
    stop.store(true, Ordering::Relaxed);
    if let Some(handle) = engine {
        let _ = handle.join();
    }
    result?;
    println!(
        "Agents keep running; `switchboard` finds them again, `switchboard drain --wait` stops them cleanly."
    );
    Ok(())
}

/// Steps aside for the operator: the terminal is restored, the operator is
/// in the agent's session until they detach, then the room comes back,
/// redrawn at the current size.
fn attach(
    terminal: &mut ratatui::DefaultTerminal,
    server: &TmuxServer,
    session: &str,
    app: &mut App,
) -> anyhow::Result<()> {
    let (program, args, unset) = server.attach_command(session);
    ratatui::restore();
    println!("Attached to {session}; detach with the tmux prefix then d (Ctrl-b d).");
    let status = std::process::Command::new(program)
        .args(&args)
        .env_remove(unset)
        .status();
    *terminal = ratatui::init();
    terminal.clear()?;
    app.message = Some(match status {
        Ok(s) if s.success() => format!("back from {session}"),
        Ok(s) => format!("attach to {session} ended with {s}"),
        Err(e) => format!("cannot attach to {session}: {e}"),
    });
    Ok(())
}

fn room(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    journal: &mut Journal,
    control: &ControlClient,
    server: &TmuxServer,
    home: &Home,
    config: &Config,
) -> anyhow::Result<()> {
    let mut last_event = -1;
    let mut dirty = true;
    loop {
        let news = journal.last_event_id()?;
        if news != last_event {
            last_event = news;
            app.snapshot = snapshot(journal, config, Timestamp::now())?;
            if app.engine != EngineState::Viewer {
                app.engine = if home.drain_file().exists() {
                    EngineState::Draining
                } else {
                    EngineState::Running
                };
            }
            dirty = true;
        }
        let live = match app.queue().get(app.selection(app::Pane::Queue)) {
            Some(job) => match job.state.attempt() {
                Some(a) => control
                    .capture_many(&[&session_name(job.id, a)])
                    .map(|mut v| v.remove(0))
                    .unwrap_or_default(),
                None => String::new(),
            },
            None => String::new(),
        };
        if live != app.live {
            app.live = live;
            dirty = true;
        }
        if dirty {
            terminal.draw(|frame| draw::draw(app, frame))?;
            dirty = false;
        }
        if event::poll(Duration::from_millis(100))? {
            match event::read()? {
                Event::Key(key) if key.kind == KeyEventKind::Press => {
                    if let Some(action) = action_for(app, key) {
                        for intent in update(app, action) {
                            match intent {
                                Intent::Command { kind, job, text } => {
                                    journal.record_command(
                                        kind,
                                        job,
                                        text.as_deref(),
                                        Timestamp::now(),
                                    )?;
                                }
                                Intent::Attach { job, attempt } => {
                                    attach(terminal, server, &session_name(job, attempt), app)?;
                                }
                            }
                        }
                        dirty = true;
                    }
                }
                Event::Resize(..) => dirty = true,
                _ => {}
            }
        }
        if app.quit {
            return Ok(());
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
