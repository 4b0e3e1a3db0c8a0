//! The room loop: the one place the control room does I/O. It waits on
//! one channel (keys, captures, signals), reads the journal when it
//! changed, carries out intents, and draws only when something on screen
//! changed.

use std::collections::HashMap;
use std::io::Write;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind};
use ratatui::crossterm::execute;
use ratatui::layout::Rect;
use ratatui::text::Text;

use super::app::{App, DiffView, EngineState, GridCell, Mode};
use super::capture::{live_status, plain, read_capture};
use super::events::{Input, RoomEvent, watch_signals};
use super::form::{DispatchRefused, DispatchRequest};
use super::update::{Intent, dispatched, handle_key, handle_mouse};
use super::watch::{Request, Watcher};
use super::{draw, notice, snapshot};
use crate::agents::question::read_question;
use crate::cli::queue_task::{TaskRequest, hand_over_or_queue};
use crate::config::Config;
use crate::engine::config_watch::{ConfigWatch, Reload};
use crate::engine::{profile_name, session_name};
use crate::home::Home;
use crate::journal::Journal;
use crate::model::{Freshness, Project, StateName, Timestamp};
use crate::runtime::{ControlClient, TmuxServer};
use crate::workspace::diff_text_on;

/// Lines of an agent's scrollback the Live pane reads once the operator
/// scrolls back.
const SCROLLBACK: u32 = 2000;

/// How long a message stays in the status bar.
const MESSAGE_FOR: Duration = Duration::from_secs(15);

/// Lines of a diff the diff view shows at most.
const DIFF_LINES: usize = 20_000;

pub struct Room<'a> {
    home: &'a Home,
    /// The operator's settings: those the room opened with, then each
    /// edit of config.toml that loads (the last good one stays when an
    /// edit does not).
    config: Config,
    config_watch: ConfigWatch,
    engine: Option<&'a JoinHandle<()>>,
    journal: Journal,
    server: TmuxServer,
    /// The tmux server of each remote host, by name.
    hosts: HashMap<String, TmuxServer>,
    projects: Vec<Project>,
    /// The latest capture of each watched session.
    screens: HashMap<String, Text<'static>>,
    events: Receiver<RoomEvent>,
    /// For work done off the room's thread (a dispatch) to report back.
    report: Sender<RoomEvent>,
    input: Input,
    watcher: Watcher,
    /// Frames drawn, logged when the room closes.
    frames: u64,
}

impl<'a> Room<'a> {
    pub fn open(
        home: &'a Home,
        config: &'a Config,
        engine: Option<&'a JoinHandle<()>>,
    ) -> anyhow::Result<Room<'a>> {
        let journal = Journal::open(&home.journal_file())?;
        let server = TmuxServer::for_home(home, config.tmux.history_limit)?;
        let (tx, events) = mpsc::channel();
        let input = Input::start(tx.clone())?;
        watch_signals(tx.clone())?;
        // A server per remote host, for the Live pane, the grid and attach.
        let hosts: HashMap<String, TmuxServer> = config
            .hosts_with(journal.hosts()?)
            .into_iter()
            .filter_map(|host| {
                let ssh = crate::remote::Ssh::for_host(home, &host).ok()?;
                let name = host.name.as_str().to_string();
                let remote =
                    crate::runtime::RemoteTmux::new(home, &name, ssh, config.tmux.history_limit);
                Some((name, TmuxServer::on_host(remote)))
            })
            .collect();
        let clients = super::watch::Clients {
            local: ControlClient::new(server.clone()),
            hosts: hosts
                .iter()
                .map(|(name, s)| (name.clone(), ControlClient::new(s.clone())))
                .collect(),
        };
        let watcher = Watcher::start(clients, tx.clone())?;
        Ok(Room {
            home,
            config: config.clone(),
            config_watch: ConfigWatch::new(&home.config_file(), config),
            engine,
            journal,
            server,
            hosts,
            projects: Vec::new(),
            screens: HashMap::new(),
            events,
            report: tx,
            input,
            watcher,
            frames: 0,
        })
    }

    /// Runs until the operator quits (or a signal comes: its number is
    /// returned). The terminal is the room's only inside this call.
    pub fn run(&mut self, app: &mut App) -> anyhow::Result<Option<i32>> {
        let mut terminal = ratatui::init();
        let _ = execute!(std::io::stdout(), EnableMouseCapture);
        // ratatui's hook restores the screen; the mouse is ours to give back.
        // A panic on another thread (the engine's, whose pass contains it
        // and goes on; a reader's) leaves the room's screen alone: it is
        // logged, never printed over the room.
        let restore_screen = std::panic::take_hook();
        let room_thread = std::thread::current().id();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() != room_thread {
                tracing::error!("{info}");
                return;
            }
            let _ = execute!(std::io::stdout(), DisableMouseCapture);
            restore_screen(info);
        }));
        let result = self.serve(&mut terminal, app);
        let _ = execute!(std::io::stdout(), DisableMouseCapture);
        ratatui::restore();
        tracing::info!("control room closed after drawing {} frames", self.frames);
        result
    }

    fn serve(
        &mut self,
        terminal: &mut ratatui::DefaultTerminal,
        app: &mut App,
    ) -> anyhow::Result<Option<i32>> {
        let mut last_event = -1;
        let mut dirty = true;
        // Whether what the watched panes depend on may have changed: the
        // journal, a key, a capture. Only then are captures looked at.
        let mut fresh = true;
        let mut shown_clock = String::new();
        // The status bar's message and since when it shows: it goes after
        // MESSAGE_FOR, so nothing stale stays there.
        let mut shown_message: Option<(String, std::time::Instant)> = None;
        loop {
            let now = Timestamp::now();
            // A config read again shows at once: the snapshot carries
            // some of it (the agents' limit, the priority of a task).
            let reread = self.follow_config(app);
            dirty |= reread;
            let news = self.journal.last_event_id()?;
            if news != last_event || reread {
                let (snap, projects) = snapshot(&self.journal, &self.config, now)?;
                // The first snapshot is not news.
                if last_event >= 0 {
                    let calls = notice::news(&app.snapshot, &snap);
                    self.call_operator(&calls);
                    // A merge says what became of the worktree and the branch.
                    for job in notice::review_outcomes(&app.snapshot, &snap) {
                        if let Some(event) = self
                            .journal
                            .events(job)?
                            .into_iter()
                            .rev()
                            .find(|e| e.kind == "review")
                        {
                            app.message = Some(format!("#{job}: {}", event.message));
                        }
                    }
                }
                last_event = news;
                self.projects = projects;
                app.set_snapshot(snap);
                // An open details view follows the job's new events.
                if let Mode::Details(view) = &app.mode {
                    let job = view.job;
                    self.carry_out(terminal, app, Intent::LoadDetails(job))?;
                }
                dirty = true;
                fresh = true;
            }
            match (&app.message, &shown_message) {
                (None, _) => shown_message = None,
                (Some(m), Some((was, since))) if m == was => {
                    if since.elapsed() >= MESSAGE_FOR {
                        app.message = None;
                        shown_message = None;
                        dirty = true;
                    }
                }
                (Some(m), _) => shown_message = Some((m.clone(), std::time::Instant::now())),
            }
            app.engine = self.engine_state(app.engine);
            let paused = self.home.paused_file().exists();
            if paused != app.paused {
                app.paused = paused;
                dirty = true;
            }
            let fault = crate::engine::health::read(self.home)
                .and_then(|h| h.fault)
                .map(|f| format!("{}: {}", f.kind.as_str(), f.kind.advice()));
            if fault != app.engine_fault {
                app.engine_fault = fault;
                dirty = true;
            }
            // Only a running engine looks at hosts (this room's or another
            // process's): without one, their state is the last known.
            let freshness = Freshness::of(crate::engine::health::engine_running(self.home));
            if freshness != app.hosts_freshness {
                app.hosts_freshness = freshness;
                dirty = true;
            }
            let intakes = crate::net::status::read(self.home).and_then(|s| s.bar());
            if intakes != app.intakes {
                app.intakes = intakes;
                dirty = true;
            }
            // The clock and "output … ago" move once a second while an
            // agent is on screen, once a minute otherwise.
            let clock = if app.live.job.is_some() || matches!(app.mode, Mode::Grid) {
                now.rfc3339()[..19].to_string()
            } else {
                now.rfc3339()[..16].to_string()
            };
            if clock != shown_clock {
                shown_clock = clock;
                app.snapshot.now = Some(now);
                dirty = true;
            }
            if fresh {
                self.watch(app);
                dirty |= self.show_captures(app, now);
                fresh = false;
            }
            if dirty {
                let size = terminal.size()?;
                app.area = Rect::new(0, 0, size.width, size.height);
                terminal.draw(|frame| draw::draw(app, frame))?;
                self.frames += 1;
                tracing::debug!(frame = self.frames, "control room frame drawn");
                dirty = false;
            }
            match self.events.recv_timeout(Duration::from_millis(250)) {
                Ok(RoomEvent::Input(event)) => {
                    let intents = match event {
                        Event::Key(key) if key.kind != KeyEventKind::Release => {
                            handle_key(app, key)
                        }
                        Event::Mouse(mouse) => handle_mouse(app, mouse),
                        _ => vec![],
                    };
                    for intent in intents {
                        self.carry_out(terminal, app, intent)?;
                    }
                    dirty = true;
                    fresh = true;
                }
                Ok(RoomEvent::Captures(captures)) => {
                    for (session, raw) in captures {
                        self.screens.insert(session, read_capture(&raw));
                    }
                    fresh = true;
                }
                Ok(RoomEvent::Dispatched(result)) => {
                    if result.is_ok() {
                        // The new job is in the snapshot the form selects.
                        let (snap, projects) =
                            snapshot(&self.journal, &self.config, Timestamp::now())?;
                        self.projects = projects;
                        app.set_snapshot(snap);
                    }
                    dispatched(
                        app,
                        result.map_err(|why| DispatchRefused { why, field: None }),
                    );
                    dirty = true;
                    fresh = true;
                }
                Ok(RoomEvent::Diff { job, lines }) => {
                    let lines =
                        lines.unwrap_or_else(|e| vec![format!("cannot show the diff: {e}")]);
                    let comments = self.journal.open_review_comments(job)?;
                    // Only into the view of that job, if it is still open.
                    if let Mode::Diff(view) = &mut app.mode
                        && view.job == job
                    {
                        view.content = Some(DiffView::new(lines, comments));
                        dirty = true;
                    }
                }
                Ok(RoomEvent::Signal(signal)) => return Ok(Some(signal)),
                Ok(RoomEvent::InputClosed(why)) => {
                    anyhow::bail!("the terminal cannot be read: {why}")
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => anyhow::bail!("the room's inputs stopped"),
            }
            if app.quit {
                return Ok(None);
            }
        }
    }

    fn engine_state(&self, current: EngineState) -> EngineState {
        if current == EngineState::Viewer {
            return current;
        }
        if self.engine.is_some_and(|h| h.is_finished()) {
            EngineState::Stopped
        } else if self.home.drain_file().exists() {
            EngineState::Draining
        } else {
            EngineState::Running
        }
    }

    /// The remote host job `job` runs on (`None`: this machine), from
    /// what the room already holds.
    fn host_of(&self, app: &App, job: i64) -> Option<String> {
        let project = app
            .snapshot
            .jobs
            .iter()
            .find(|j| j.id == job)?
            .project
            .as_deref()?;
        self.projects
            .iter()
            .find(|p| p.name == project)
            .filter(|p| !p.host.is_local())
            .map(|p| p.host.as_str().to_string())
    }

    /// The tmux server job `job`'s agent is on.
    fn server_of(&self, app: &App, job: i64) -> TmuxServer {
        self.host_of(app, job)
            .and_then(|h| self.hosts.get(&h).cloned())
            .unwrap_or_else(|| self.server.clone())
    }

    /// Tells the watcher what is on screen now.
    fn watch(&mut self, app: &App) {
        let watched = app.watched();
        let hosts: Vec<Option<String>> = watched
            .iter()
            .map(|(job, _)| self.host_of(app, *job))
            .collect();
        let sessions: Vec<String> = watched
            .into_iter()
            .map(|(job, attempt)| session_name(job, attempt))
            .collect();
        self.screens.retain(|s, _| sessions.contains(s));
        let history = if app.live.scroll > 0 && !matches!(app.mode, Mode::Grid) {
            SCROLLBACK
        } else {
            0
        };
        self.watcher.want(Request {
            sessions,
            history,
            hosts,
        });
    }

    /// Puts the latest captures into the Live pane and the grid; says
    /// whether anything shown changed.
    fn show_captures(&self, app: &mut App, now: Timestamp) -> bool {
        let mut changed = false;
        if matches!(app.mode, Mode::Grid) {
            let grid: Vec<GridCell> = app
                .watched()
                .into_iter()
                .map(|(job, attempt)| GridCell {
                    job,
                    title: app
                        .snapshot
                        .jobs
                        .iter()
                        .find(|j| j.id == job)
                        .map(|j| j.title.clone())
                        .unwrap_or_default(),
                    text: self
                        .screens
                        .get(&session_name(job, attempt))
                        .cloned()
                        .unwrap_or_default(),
                })
                .collect();
            let same = grid.len() == app.grid.len()
                && grid
                    .iter()
                    .zip(&app.grid)
                    .all(|(a, b)| a.job == b.job && a.text == b.text && a.title == b.title);
            if !same {
                app.grid = grid;
                changed = true;
            }
        }
        let selected = app
            .queue_job()
            .and_then(|j| Some((j.clone(), j.state.attempt()?)));
        let (job, text, status) = match &selected {
            Some((job, attempt)) => match self.screens.get(&session_name(job.id, *attempt)) {
                Some(text) => {
                    let profile = self
                        .projects
                        .iter()
                        .find(|p| Some(&p.name) == job.project.as_ref())
                        .map(|p| profile_name(job, p, &self.config))
                        .and_then(|name| self.config.agents.get(&name));
                    let status = live_status(job, &plain(text), profile);
                    (Some(job.id), text.clone(), status)
                }
                None => (Some(job.id), Text::default(), None),
            },
            None => (None, Text::default(), None),
        };
        if app.live.job != job || app.live.text != text || app.live.status != status {
            app.set_live(job, text, status, now);
            changed = true;
        }
        let asking = app.details_job().and_then(|id| {
            let job = app
                .snapshot
                .jobs
                .iter()
                .find(|j| j.id == id && j.state.name() == StateName::Waiting)?;
            let text = self.screens.get(&session_name(id, job.state.attempt()?))?;
            Some((id, read_question(&plain(text))?))
        });
        if asking != app.asking {
            app.asking = asking;
            changed = true;
        }
        changed
    }

    /// The bell and a desktop notification, as configured.
    fn call_operator(&self, news: &[String]) {
        let in_tmux = std::env::var_os("TMUX").is_some_and(|v| !v.is_empty());
        let bytes = notice::bytes(news, &self.config.notify, in_tmux);
        if !bytes.is_empty() {
            let mut out = std::io::stdout();
            let _ = out.write_all(&bytes);
            let _ = out.flush();
        }
    }

    fn carry_out(
        &mut self,
        terminal: &mut ratatui::DefaultTerminal,
        app: &mut App,
        intent: Intent,
    ) -> anyhow::Result<()> {
        match intent {
            Intent::Command { kind, job, text } => {
                self.journal
                    .record_command(kind, job, text.as_deref(), Timestamp::now())?;
            }
            Intent::Attach { job, attempt } => {
                let server = self.server_of(app, job);
                self.attach(terminal, &server, &session_name(job, attempt), app)?;
            }
            Intent::Dispatch(request) => self.dispatch(request),
            Intent::LoadDetails(job) => {
                let details = self.journal.job_details(job)?;
                if let Mode::Details(view) = &mut app.mode
                    && view.job == job
                {
                    match details {
                        Some(d) => view.content = Some(d),
                        None => app.mode = Mode::Normal,
                    }
                }
            }
            // The view says `reading…` until the diff comes back.
            Intent::LoadDiff(job) => self.diff(job),
            Intent::Comment { job, comment } => {
                // Kept with the review item: it survives a restart of the
                // room and goes to the agent with the next rejection.
                if let Err(e) = self
                    .journal
                    .add_review_comment(job, &comment, Timestamp::now())
                {
                    app.message = Some(format!("comment not kept: {e}"));
                }
            }
        }
        Ok(())
    }

    /// Sends the form's request the one way `switchboard dispatch` does
    /// ([`hand_over_or_queue`]: to the engine's door when an engine runs,
    /// else journaled here), on a thread of its own: a new repository
    /// path asks git, and the engine may take its time to answer, while
    /// the room goes on drawing. The answer comes back as
    /// [`RoomEvent::Dispatched`], with `dispatch`'s words for a refusal.
    fn dispatch(&self, request: DispatchRequest) {
        let task = TaskRequest {
            project: request.project,
            prompt: request.prompt,
            agent: request.agent,
            priority: Some(request.priority),
            title: None,
            after: request.after,
            cwd: std::env::current_dir().unwrap_or_default(),
        };
        let home = self.home.clone();
        let report = self.report.clone();
        let sent = std::thread::Builder::new()
            .name("dispatch".into())
            .spawn(move || {
                let result = hand_over_or_queue(&home, &task)
                    .map(|queued| queued.id)
                    .map_err(|e| format!("{e:#}"));
                // The room may have closed meanwhile: nobody to tell.
                let _ = report.send(RoomEvent::Dispatched(result));
            });
        if let Err(e) = sent {
            let _ = self.report.send(RoomEvent::Dispatched(Err(format!(
                "cannot start the dispatch: {e}"
            ))));
        }
    }

    /// Reads config.toml again when it changed, as the engine does
    /// ([`ConfigWatch`]): the room's keys, form, notifications and status
    /// bar follow an edit that loads; one that does not is shown (its
    /// place stays in the status bar until the file is mended) and the
    /// last good settings stay. Says whether anything changed.
    fn follow_config(&mut self, app: &mut App) -> bool {
        match self.config_watch.look() {
            Reload::Unchanged => false,
            Reload::Applied { config, .. } => {
                self.config = *config;
                app.take_config(&self.config);
                app.config_refused = None;
                app.message = Some(format!("{} read again", self.config_watch.path().display()));
                true
            }
            Reload::Refused(why) => {
                app.config_refused = Some(why.place());
                app.message = Some(format!("{why}; the room keeps the last good settings"));
                true
            }
        }
    }

    /// Reads the review item's changes on a thread of its own (git, and
    /// ssh for a project on a remote host, never hold up the room's
    /// drawing): from the attempt's base commit to its branch (still right
    /// after a merge), else from where the branch left the base. The
    /// lines come back as [`RoomEvent::Diff`].
    fn diff(&self, job: i64) {
        let found = self.journal.review_with_project(job).and_then(|item| {
            let base = self
                .journal
                .attempts(job)?
                .into_iter()
                .rev()
                .find_map(|a| a.base_commit);
            Ok(item.map(|item| (item, base)))
        });
        let (item, project, base) = match found {
            Ok(Some(((item, project), base))) => (item, project, base),
            Ok(None) => {
                let why = format!("#{job} has nothing in review");
                let _ = self.report.send(RoomEvent::Diff {
                    job,
                    lines: Err(why),
                });
                return;
            }
            Err(e) => {
                let _ = self.report.send(RoomEvent::Diff {
                    job,
                    lines: Err(e.to_string()),
                });
                return;
            }
        };
        let place = match self.hosts.get(project.host.as_str()) {
            Some(server) if !project.host.is_local() => match server.remote() {
                Some(remote) => {
                    crate::workspace::Place::Host(std::sync::Arc::new(remote.ssh().clone()))
                }
                None => crate::workspace::Place::Local,
            },
            _ => crate::workspace::Place::Local,
        };
        let report = self.report.clone();
        let read = move || {
            let lines = diff_text_on(
                &place,
                &project.path,
                base.as_deref(),
                &project.base_branch,
                &item.branch,
                DIFF_LINES,
            )
            .map_err(|e| e.to_string());
            // The room may have closed meanwhile: nobody to tell.
            let _ = report.send(RoomEvent::Diff { job, lines });
        };
        if let Err(e) = std::thread::Builder::new().name("diff".into()).spawn(read) {
            let _ = self.report.send(RoomEvent::Diff {
                job,
                lines: Err(format!("cannot start reading it: {e}")),
            });
        }
    }

    /// Steps aside for the operator: input stops, the terminal is
    /// restored, the operator is in the agent's session until they
    /// detach, then the room comes back, redrawn at the current size.
    fn attach(
        &mut self,
        terminal: &mut ratatui::DefaultTerminal,
        server: &TmuxServer,
        session: &str,
        app: &mut App,
    ) -> anyhow::Result<()> {
        let (program, args, unset) = server.attach_command(session);
        let paused = self.input.pause();
        let _ = execute!(std::io::stdout(), DisableMouseCapture);
        ratatui::restore();
        println!("Attached to {session}; detach with the tmux prefix then d (Ctrl-b d).");
        // While the operator is in the session, its status line says how to
        // come back (the server's default is no status line); after, the
        // session takes the server's default again.
        let target = format!("={session}:");
        for (option, value) in [
            ("status", "on"),
            ("status-left", " #S "),
            ("status-right", " C-b d: back to switchboard "),
            ("status-style", "reverse"),
        ] {
            let _ = server.run(&["set-option", "-t", &target, option, value]);
        }
        let status = std::process::Command::new(program)
            .args(&args)
            .env_remove(unset)
            .status();
        for option in ["status", "status-left", "status-right", "status-style"] {
            let _ = server.run(&["set-option", "-u", "-t", &target, option]);
        }
        *terminal = ratatui::init();
        let _ = execute!(std::io::stdout(), EnableMouseCapture);
        terminal.clear()?;
        drop(paused);
        app.message = Some(match status {
            Ok(s) if s.success() => format!("back from {session}"),
            Ok(s) => format!("attach to {session} ended with {s}"),
            Err(e) => format!("cannot attach to {session}: {e}"),
        });
        Ok(())
    }
}
