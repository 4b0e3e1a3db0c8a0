//! The engine: one per home. Each pass is level-triggered: it reads the
//! journal and makes the world match it, so a lost wake-up or a restart
//! loses nothing.
//!
//! A pass: carry out operator commands; take in the inbox; decide and
//! apply (the scheduler);
//! start the agents of attempts that have no session yet; patrol every
//! active agent; check the drain gate.

mod agent;
pub mod cleanup;
mod commands;
mod commit;
pub mod config_watch;
mod deliver;
pub mod door;
pub mod fault;
pub mod health;
mod inbox;
mod late;
mod lock;
mod network;
mod pane_reports;
mod patrol;
mod places;
pub mod pr_body;
pub mod pull_request;
mod schedule_gate;
pub mod setup;
mod setup_host;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use agent::{
    AutoMemo, DEMO_FALLBACK, Installed, MAX_ARGV_PROMPT_BYTES, PROMPT_FILE, argv, asks_for_auto,
    falls_back_to_demo, install_hint, installed, no_agent_installed, profile_name, resolve_program,
    resolved_profile, runs_as, runs_as_picked, session_name,
};
pub use lock::EngineLock;

use crate::config::Config;
use crate::home::Home;
use crate::journal::{Attempt, JobFilter, Journal};
use crate::model::{JobState, StateName, Timestamp};
use crate::runtime::{ControlClient, TmuxServer};
use crate::workspace::{foreign_branch_on, open_worktree_on};

/// The shortest time between the starts of two passes when a pass is for
/// an agent's pane output (a streaming agent draws all the time): 0.1 s,
/// the sampling of the real agents' status figures in the README.
const OUTPUT_SPACING: Duration = Duration::from_millis(100);

/// How long after an answer's keys the agent's drawing is looked at
/// without [`OUTPUT_SPACING`] (Claude Code takes its menu down about
/// 0.1 s after the key, after a first redraw).
const ANSWER_WATCH: Duration = Duration::from_secs(1);

/// The least time between the starts of two passes woken by news.
const NEWS_FLOOR: Duration = Duration::from_millis(20);

/// The most of the engine's time that passes for pane output may take
/// (with 200 agents a pass is tens of milliseconds).
const OUTPUT_PASS_SHARE: f64 = 0.2;

/// The processor time this thread has used.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec, which lives on this stack.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// An answer whose keys the engine sent.
struct AnswerSent {
    sent_at: Timestamp,
    command: i64,
    choice: String,
}

/// A running engine.
pub struct Engine {
    pub home: Home,
    pub config: Config,
    pub journal: Journal,
    pub server: TmuxServer,
    pub control: std::sync::Arc<ControlClient>,
    /// A watch on each active local agent's pane: the engine's rest ends
    /// when one draws (see [`crate::runtime::PaneWatch`]).
    pane_watch: crate::runtime::PaneWatch,
    /// When the latest pass began and the processor time it took (not the
    /// wall clock's: on a loaded machine a pass waits for a core): a pass
    /// for a pane's output waits for [`OUTPUT_SPACING`] and for
    /// [`OUTPUT_PASS_SHARE`] of the time.
    pass_began: Instant,
    pass_took: Duration,
    /// Until when an answer's keys sent lately make the agent's drawing
    /// (its question going) looked at without waiting for
    /// [`OUTPUT_SPACING`], so the job is not shown asking after the
    /// answer: [`ANSWER_WATCH`] after the keys, whatever passes came
    /// between (an agent draws its answer's effect in steps).
    answered_until: Option<Instant>,
    /// Per job: the latest answer whose keys were sent. An answer asked
    /// for before it, to the same question, is refused (two answers to one
    /// question: the second lands on whatever the agent shows next).
    answers_sent: HashMap<i64, AnswerSent>,
    /// The remote hosts, each with its runtime.
    places: places::Places,
    /// Per session on a host: what was taken from its pane (the newest
    /// report's number, or its text for a switchboard on the host from
    /// before numbering), so that only those after it are journaled.
    pane_reports: HashMap<String, pane_reports::Taken>,
    /// Per session (here or on a host): its last screen and the second its
    /// capture began by its server's clock (a pane with no output since is
    /// not captured again).
    screens: HashMap<String, patrol::Captured>,
    me: PathBuf,
    /// Per job: what the patrol knows of its agent between passes.
    quiet: HashMap<i64, patrol::Watch>,
    /// Jobs whose turn ended and whose work is still to be committed
    /// (their review item `committing`), taken after the patrol.
    to_commit: std::collections::BTreeSet<i64>,
    /// The journal's data version (other processes' commits) when the
    /// `committing` review items were last looked for.
    committing_seen: Option<i64>,
    /// Per job: when its agent may be restarted again (restarts back off).
    restart_due: HashMap<i64, Instant>,
    /// Per job: passes in a row whose patrol of it failed.
    patrol_faults: HashMap<i64, u32>,
    /// Sessions the journal does not know, already reported.
    orphans: std::collections::HashSet<String>,
    /// The projects as the patrol read them at its start (one read a
    /// pass, not one per agent); `None` outside the patrol.
    projects_now: Option<HashMap<String, crate::model::Project>>,
    /// Set when a file lands in the inbox (watched with notify).
    inbox_news: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Keeps the inbox watched; `None` where the platform cannot watch
    /// (the engine then looks at the inbox on every wake-up).
    watcher: Option<notify::RecommendedWatcher>,
    /// Keeps the journal's write-ahead log watched: a report written by
    /// an agent's hook ends the rest at once (`None`: the journal is
    /// looked at every 50 ms, as it is anyway).
    journal_watch: Option<notify::RecommendedWatcher>,
    /// The last pass ended an agent: the next pass comes at once, so
    /// queued work takes the freed place without waiting a whole interval.
    freed: bool,
    /// What the engine tells other processes about itself.
    health: health::Health,
    /// When old worktrees were last cleaned up (once an hour).
    cleaned_at: Option<Instant>,
    /// When delivered work was last looked at on its remote (at the idle
    /// interval).
    followed_at: Option<Instant>,
    /// Per job: the last reason its delivery could not be looked at
    /// (told once as an event).
    follow_faults: HashMap<i64, String>,
    /// The journal's last event when the latest pass began: news that
    /// arrives during a pass (an agent's report) wakes the next sleep.
    news_mark: i64,
    /// The journal's data version (other connections' commits) when the
    /// latest pass began: an alarm or a ticket journaled elsewhere writes
    /// no event, yet it is new work for the scheduler.
    news_version: i64,
    /// HTTP and SQS intake, when configured.
    network: Option<crate::net::NetIntake>,
    /// The operator's config.toml, read again when it changes.
    config_watch: config_watch::ConfigWatch,
    /// How the journal stood at the last schedule: a pass with nothing
    /// new skips the scheduler.
    scheduled: Option<schedule_gate::Scheduled>,
    /// Scheduler runs and skips, for tests and benches.
    pub schedule_counts: (u64, u64),
    /// Screens the patrol read with the profiles' rules (a new or changed
    /// pane each); an unchanged pane costs only its hash.
    pub screen_reads: u64,
    /// Panes the patrol captured; a local pane with no output since its
    /// last capture is not captured again.
    pub screen_captures: u64,
    /// Where `dispatch` hands this engine its tasks (closed before the
    /// lock is let go).
    _door: Option<door::Door>,
    _lock: EngineLock,
}

impl Engine {
    /// Starts the engine of `home`, or says another holds it. A lock that
    /// is let go within a few seconds (an engine that was just killed, its
    /// last child still leaving) is waited for.
    pub fn start(home: Home, config: Config) -> anyhow::Result<Engine> {
        let root = home.root().to_path_buf();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(engine) = Self::try_start(home.clone(), config.clone())? {
                return Ok(engine);
            }
            if Instant::now() >= deadline {
                let holder = std::fs::read_to_string(root.join("engine.lock")).unwrap_or_default();
                anyhow::bail!(
                    "another engine (pid {}) runs on {}; stop it first, or open the control room to view it",
                    holder.trim(),
                    root.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Starts the engine of `home`; `None` when another engine holds it
    /// (a control room then views).
    pub fn try_start(home: Home, config: Config) -> anyhow::Result<Option<Engine>> {
        home.ensure()?;
        let Some(lock) = EngineLock::acquire(&home)? else {
            return Ok(None);
        };
        let mut journal = Journal::open(&home.journal_file())?;
        let server = TmuxServer::for_home(&home, config.tmux.history_limit)?;
        // What a crash may have left: control clients of an engine that is
        // gone keep the server from taking new ones.
        let recovered: Vec<String> = crate::runtime::recover::end_stale_clients(server.socket())
            .iter()
            .map(|c| format!("ended {c}"))
            .collect();
        for line in &recovered {
            tracing::warn!("start-up: {line}");
            journal.record_note("recovered", line, Timestamp::now())?;
        }
        let health = health::Health {
            pid: std::process::id(),
            fault: None,
            recovered,
        };
        health::write(&health::file(&home), &health);
        let control = std::sync::Arc::new(ControlClient::new(server.clone()));
        let me = std::env::current_exe()?;
        let inbox_news = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let pane_watch = crate::runtime::PaneWatch::new(server.clone());
        let watcher = watch_inbox(
            &home.inbox(),
            std::sync::Arc::clone(&inbox_news),
            pane_watch.output_handle(),
        );
        let journal_watch = watch_journal(&home.journal_file(), pane_watch.output_handle());
        let config_watch = config_watch::ConfigWatch::new(&home.config_file(), &config);
        let door = door::Door::open(&home, pane_watch.output_handle());
        let news_version = journal.data_version()?;
        Ok(Some(Engine {
            home,
            config,
            journal,
            pane_watch,
            journal_watch,
            pass_began: Instant::now(),
            pass_took: Duration::ZERO,
            answered_until: None,
            answers_sent: HashMap::new(),
            server,
            control,
            places: places::Places::default(),
            pane_reports: HashMap::new(),
            screens: HashMap::new(),
            me,
            quiet: HashMap::new(),
            to_commit: Default::default(),
            committing_seen: None,
            restart_due: HashMap::new(),
            patrol_faults: HashMap::new(),
            orphans: Default::default(),
            projects_now: None,
            inbox_news,
            watcher,
            freed: false,
            health,
            news_mark: 0,
            news_version,
            network: None,
            config_watch,
            cleaned_at: None,
            followed_at: None,
            scheduled: None,
            schedule_counts: (0, 0),
            screen_reads: 0,
            screen_captures: 0,
            follow_faults: HashMap::new(),
            _door: door,
            _lock: lock,
        }))
    }

    /// Whether a drain is asked for (by command or by a DRAIN file).
    pub fn draining(&self) -> bool {
        self.home.drain_file().exists()
    }

    /// Whether the operator has paused the queue (`switchboard pause`).
    /// Unlike a drain, a pause never ends the engine.
    pub fn paused(&self) -> bool {
        self.home.paused_file().exists()
    }

    /// What the operator holds back now, as the scheduler takes it.
    fn holds(&self) -> crate::scheduler::Holds {
        crate::scheduler::Holds {
            draining: self.draining(),
            paused: self.paused(),
        }
    }

    /// Runs passes until a drain completes (then returns) or forever.
    /// Returns an error only when the journal cannot be trusted.
    pub fn run(&mut self) -> anyhow::Result<()> {
        loop {
            let rest = match self.guarded_pass()? {
                Some(active) => {
                    if self.draining() && active == 0 && self.home.ready_file().exists() {
                        return Ok(());
                    }
                    self.rest(active)
                }
                None => self.retry_wait(),
            };
            self.sleep_until_news(rest)?;
        }
    }

    /// Runs passes (with the engine's usual waits between them) for about
    /// `how_long`: for measuring an engine at rest.
    pub fn run_for(&mut self, how_long: Duration) -> anyhow::Result<()> {
        let until = Instant::now() + how_long;
        while Instant::now() < until {
            let wait = match self.guarded_pass()? {
                Some(active) => self.rest(active),
                None => self.retry_wait(),
            };
            self.sleep_until_news(wait.min(until.saturating_duration_since(Instant::now())))?;
        }
        Ok(())
    }

    /// Runs passes with the engine's usual waits until `stop` is set (the
    /// control room's engine thread).
    pub fn run_until(&mut self, stop: &std::sync::atomic::AtomicBool) -> anyhow::Result<()> {
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let wait = match self.guarded_pass()? {
                Some(active) => self.rest(active),
                None => self.retry_wait(),
            };
            self.sleep_until(wait, Some(stop))?;
        }
        Ok(())
    }

    /// One pass that never ends the engine over a passing fault: the
    /// number of active agents, or `None` when the pass met a fault that
    /// is waited out (recorded in the health file). An error only when
    /// the journal cannot be trusted.
    pub fn guarded_pass(&mut self) -> anyhow::Result<Option<usize>> {
        match fault::contained(|| self.pass()) {
            Ok(active) => {
                if let Some(fault) = self.health.fault.take() {
                    tracing::info!(
                        "engine: {} cleared after {} tries",
                        fault.kind.as_str(),
                        fault.tries
                    );
                    let _ = self.journal.record_note(
                        "recovered",
                        &format!(
                            "{} since {} cleared after {} tries",
                            fault.kind.as_str(),
                            fault.since,
                            fault.tries
                        ),
                        Timestamp::now(),
                    );
                    health::write(&health::file(&self.home), &self.health);
                }
                Ok(Some(active))
            }
            Err(e) => match fault::judge(&e) {
                fault::Verdict::Stop(why) => Err(e.context(why)),
                fault::Verdict::Retry(kind) => {
                    let now = Timestamp::now();
                    let message = format!("{e:#}");
                    let (since, tries) = match &self.health.fault {
                        Some(f) if f.kind == kind => (f.since, f.tries + 1),
                        _ => (now, 1),
                    };
                    if tries == 1 {
                        tracing::warn!("engine: {}: {message}", kind.as_str());
                    }
                    self.health.fault = Some(health::FaultReport {
                        kind,
                        message,
                        since,
                        tries,
                        next_try: now.plus(health::backoff(tries)),
                    });
                    health::write(&health::file(&self.home), &self.health);
                    Ok(None)
                }
            },
        }
    }

    /// The fault the engine is waiting out now, if any.
    pub fn fault(&self) -> Option<&health::FaultReport> {
        self.health.fault.as_ref()
    }

    /// How long to wait before passing again after a fault.
    fn retry_wait(&self) -> Duration {
        health::backoff(self.health.fault.as_ref().map_or(0, |f| f.tries))
    }

    /// How long to wait after a pass that left `active` agents.
    fn rest(&self, active: usize) -> Duration {
        let settle = if self.config_watch.settling() {
            // A config.toml being saved: read it once it has settled.
            config_watch::SETTLE
        } else {
            Duration::MAX
        };
        let rest = if self.freed {
            Duration::ZERO
        } else if let Some(hold) = self.hold_pending() {
            // An agent's turn end (or return to work) waits for its
            // confirmation: look again when it is due.
            hold.min(self.config.scheduler.active_interval)
        } else if active > 0 {
            self.config.scheduler.active_interval
        } else {
            self.config.scheduler.idle_interval
        };
        rest.min(settle)
    }

    /// Sleeps up to `wait`, waking early when the journal has news (new
    /// work, a command, a report) or the inbox has a file.
    fn sleep_until_news(&self, wait: Duration) -> anyhow::Result<()> {
        self.sleep_until(wait, None)
    }

    /// As `sleep_until_news`, also waking when `stop` is set.
    fn sleep_until(
        &self,
        wait: Duration,
        stop: Option<&std::sync::atomic::AtomicBool>,
    ) -> anyhow::Result<()> {
        let start = self.news_mark;
        let deadline = Instant::now() + wait;
        // Where the journal and the inbox are watched, their news ends the
        // wait at once and looking is only the safety net (every 500 ms);
        // otherwise, at rest the journal is looked at less often: new work
        // starts within 150 ms, an active agent's news within 50 ms.
        let watched = self.journal_watch.is_some() && self.watcher.is_some();
        let look_every = if watched {
            Duration::from_millis(500)
        } else if wait >= self.config.scheduler.idle_interval {
            Duration::from_millis(150)
        } else {
            Duration::from_millis(50)
        };
        // A control room that closes waits for this thread: it hears so
        // within 100 ms.
        let step = match stop {
            Some(_) => look_every.min(Duration::from_millis(100)),
            None => look_every,
        };
        let rested = Instant::now();
        let mut looked = rested;
        while Instant::now() < deadline {
            if stop.is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed)) {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let mut woken = self.pane_watch.output().wait(step.min(left));
            // An agent's pane drew: look at once, but not more often than
            // the spacing allows (a streaming agent draws all the time),
            // unless its title changed in kind or the journal has news
            // (an agent's hook reported) meanwhile: status signals are
            // not held up by the spacing.
            if woken.drawn && !woken.title {
                // Waited out in steps, so that a stop is heard within one
                // step even when slow passes put the next one far off.
                let due = self.output_pass_due();
                let until = due.min(deadline);
                while Instant::now() < until {
                    if stop.is_some_and(|s| s.load(std::sync::atomic::Ordering::Relaxed)) {
                        return Ok(());
                    }
                    let wait = until.saturating_duration_since(Instant::now()).min(step);
                    let signal = self.pane_watch.output().wait_for_signal(wait);
                    if signal.title {
                        self.news_floor(rested);
                        return Ok(());
                    }
                    if signal.news && self.has_news(start) {
                        self.news_floor(rested);
                        return Ok(());
                    }
                }
                if Instant::now() >= due {
                    return Ok(());
                }
                woken.news = false;
            }
            // Not held by the output's spacing, but kept to the floor of
            // news: an agent whose title changes in kind at every frame
            // (a counter, a spinner of other glyphs) must not run passes
            // back to back.
            if woken.title {
                self.news_floor(rested);
                return Ok(());
            }
            if !woken.news && looked.elapsed() < look_every {
                continue;
            }
            looked = Instant::now();
            if self.has_news(start) {
                self.news_floor(rested);
                return Ok(());
            }
        }
        Ok(())
    }

    /// Whether the journal has events since event `mark` or another
    /// process's commit since the pass began (an alarm, a ticket), or the
    /// inbox a file.
    fn has_news(&self, mark: i64) -> bool {
        let inbox_has_mail = match &self.watcher {
            Some(_) => self.inbox_news.load(std::sync::atomic::Ordering::Relaxed),
            None => std::fs::read_dir(self.home.inbox())
                .map(|mut d| d.any(|e| e.is_ok_and(|e| e.path().is_file())))
                .unwrap_or(false),
        };
        self.journal.last_event_id().unwrap_or(mark) != mark
            || self
                .journal
                .data_version()
                .is_ok_and(|v| v != self.news_version)
            || inbox_has_mail
    }

    /// The pass's own events are news too: passes that each write one
    /// follow each other at most 50 times a second (20 ms after the rest
    /// that began at `rested`).
    fn news_floor(&self, rested: Instant) {
        std::thread::sleep((rested + NEWS_FLOOR).saturating_duration_since(Instant::now()));
    }

    /// The earliest a pass for a pane's output may begin: [`OUTPUT_SPACING`]
    /// after the last began, and late enough that passes take at most
    /// [`OUTPUT_PASS_SHARE`] of a core (200 agents' passes are longer).
    fn output_pass_due(&self) -> Instant {
        if self
            .answered_until
            .is_some_and(|until| Instant::now() < until)
        {
            return self.pass_began + NEWS_FLOOR;
        }
        let share = self.pass_took.mul_f64(1.0 / OUTPUT_PASS_SHARE);
        self.pass_began + OUTPUT_SPACING.max(share)
    }

    /// Watches the panes of the patrolled agents of the local server
    /// (`local`: its sessions, as listed this pass).
    fn follow_panes(&mut self, local: &[crate::runtime::SessionInfo]) {
        let names = local
            .iter()
            .filter(|s| !s.dead)
            .filter(|s| {
                s.name
                    .strip_prefix("sb-")
                    .and_then(|rest| rest.split('-').next())
                    .and_then(|id| id.parse::<i64>().ok())
                    .is_some_and(|id| self.quiet.contains_key(&id))
            })
            .map(|s| s.name.as_str());
        self.pane_watch.follow(names);
    }

    /// One pass; returns how many agents are active after it.
    pub fn pass(&mut self) -> anyhow::Result<usize> {
        let began = Instant::now();
        let cpu = thread_cpu_time();
        let active = self.pass_inner();
        self.pass_began = began;
        self.pass_took = thread_cpu_time().saturating_sub(cpu);
        tracing::debug!(
            wall_ms = began.elapsed().as_secs_f64() * 1e3,
            cpu_ms = self.pass_took.as_secs_f64() * 1e3,
            "pass"
        );
        active
    }

    fn pass_inner(&mut self) -> anyhow::Result<usize> {
        self.news_mark = self.journal.last_event_id()?;
        self.news_version = self.journal.data_version()?;
        // Output from here on is for the next pass.
        self.pane_watch.output().take();
        self.reload_config()?;
        self.carry_out_commands()?;
        if self
            .inbox_news
            .swap(false, std::sync::atomic::Ordering::Relaxed)
            || self.watcher.is_none()
        {
            // A pass that could not take the inbox (the journal busy, the
            // disk full) leaves it for the next one: its files are still
            // there, and no new file may come to say so.
            if let Err(e) = self.take_inbox() {
                self.inbox_news
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                return Err(e);
            }
        }
        // A config.toml being saved is read once it has settled (within
        // config_watch::SETTLE): no agent starts on the settings it
        // replaces (a profile added just before the task that names it).
        let settled = !self.config_watch.settling();
        if settled {
            self.schedule_if_due()?;
        }
        // One look at each server a pass (over the control clients), and
        // another only if agents were started.
        self.refresh_hosts()?;
        let mut sessions = self.control.sessions()?;
        let mut local = sessions.len();
        sessions.extend(self.remote_sessions()?);
        if settled && self.start_agents(&sessions)? {
            sessions = self.control.sessions()?;
            local = sessions.len();
            sessions.extend(self.remote_sessions()?);
        }
        let before = self.active_jobs()?;
        let active = self.patrol(&sessions)?;
        self.follow_panes(&sessions[..local]);
        self.commit_finished_work()?;
        self.commit_late_work()?;
        self.freed = active < before;
        self.end_stale_sessions(&sessions)?;
        self.report_orphans(&sessions)?;
        self.drain_gate(active)?;
        self.follow_deliveries();
        self.clean_up_hourly();
        Ok(active)
    }

    /// Takes the operator's config.toml again when it changed, so that
    /// the engine carries out what the command line (which reads it anew)
    /// accepted; journals what happened as a `config` note. A note the
    /// journal could not take is kept and journaled at a later pass,
    /// before any newer one.
    fn reload_config(&mut self) -> anyhow::Result<()> {
        let path = self.config_watch.path().display().to_string();
        match self.config_watch.look() {
            config_watch::Reload::Unchanged => {}
            config_watch::Reload::Applied {
                config,
                at_next_start,
            } => {
                self.config = *config;
                // The settings the last schedule ran with are gone.
                self.scheduled = None;
                let mut note = format!("{path} read again; its settings apply from now on");
                if !at_next_start.is_empty() {
                    note.push_str(&format!(
                        ", except {}: they take effect when the engine starts again",
                        at_next_start.join(", ")
                    ));
                }
                tracing::info!("{note}");
                self.config_watch.keep_note(note);
            }
            config_watch::Reload::Refused(why) => {
                let note = format!("{why}; the engine keeps the settings it had");
                tracing::warn!("{note}");
                self.config_watch.keep_note(note);
            }
        }
        while let Some(note) = self.config_watch.unsaid() {
            self.journal.record_note("config", note, Timestamp::now())?;
            self.config_watch.said();
        }
        Ok(())
    }

    /// Runs the scheduler when the journal changed since it last ran (or a
    /// retry or timeout is due); a pass at rest reads no queue.
    fn schedule_if_due(&mut self) -> anyhow::Result<()> {
        let now = Timestamp::now();
        let holds = self.holds();
        let mark = schedule_gate::JournalMark {
            others: self.journal.data_version()?,
            own: self.journal.total_changes(),
        };
        if !schedule_gate::due(self.scheduled.as_ref(), mark, holds, now, Instant::now()) {
            self.schedule_counts.1 += 1;
            return Ok(());
        }
        self.schedule_counts.0 += 1;
        let (decisions, wake) = self.journal.schedule_held(&self.config, now, holds)?;
        for d in &decisions {
            tracing::info!(decision = d.kind(), reason = %d.reason, "scheduler");
        }
        // Others' commits are counted from before the schedule read the
        // journal (one landing meanwhile makes the next pass schedule);
        // this engine's own, after what the schedule wrote.
        self.scheduled = Some(schedule_gate::Scheduled {
            mark: schedule_gate::JournalMark {
                others: mark.others,
                own: self.journal.total_changes(),
            },
            wake,
            holds,
            at: Instant::now(),
        });
        Ok(())
    }

    /// Once an hour: worktrees and branches that merged jobs left, and
    /// those of killed and failed jobs past `keep_failed` (never one with
    /// uncommitted changes). A failure is logged; it is tried next hour.
    fn clean_up_hourly(&mut self) {
        if self
            .cleaned_at
            .is_some_and(|t| t.elapsed() < Duration::from_secs(3600))
        {
            return;
        }
        self.cleaned_at = Some(Instant::now());
        let result = cleanup::plan(&self.journal, &self.config, &self.home, Timestamp::now())
            .and_then(|mut plan| {
                cleanup::carry_out(&self.journal, &mut plan.removals, false)?;
                Ok(plan)
            });
        match result {
            Ok(plan) => {
                for (host, why) in plan.unreached {
                    tracing::warn!("clean-up: host {host} was not looked at: {why}");
                }
                for r in plan.removals {
                    tracing::info!(job = r.job, "clean-up ({}): {}", r.why, r.outcome);
                }
            }
            Err(e) => tracing::warn!("clean-up: {e:#}"),
        }
    }

    /// Jobs the journal has in an active state.
    fn active_jobs(&self) -> anyhow::Result<usize> {
        Ok(self.journal.active_job_count()? as usize)
    }

    /// Starts the agent of every job in `starting` whose session does not
    /// exist: its attempt is journaled first, then its worktree and session.
    /// Returns whether it started any.
    fn start_agents(&mut self, sessions: &[crate::runtime::SessionInfo]) -> anyhow::Result<bool> {
        let starting = self.journal.jobs(&JobFilter {
            state: Some(StateName::Starting),
        })?;
        let mut started = false;
        for job in starting {
            let JobState::Starting { attempt, .. } = job.state else {
                continue;
            };
            panic_on_prompt(&job);
            let name = session_name(job.id, attempt);
            // A job of a host out of reach waits for it. If its attempt
            // was journaled, its agent may run there already: the job
            // keeps it, to be adopted when the host returns. If not,
            // nothing of it runs there: back to the queue, where it waits
            // for the host without holding a slot.
            if self.out_of_reach(&job)? {
                if self.journal.attempt(job.id, attempt)?.is_none() {
                    self.hold_back_for_host(&job, None)?;
                }
                continue;
            }
            if sessions.iter().any(|s| s.name == name) {
                // Running since the attempt began: what its agent reported
                // before this engine took it over (done, even) still counts.
                let now = Timestamp::now();
                let began = self
                    .journal
                    .attempt(job.id, attempt)?
                    .map_or(now, |a| a.started_at);
                self.journal.change_state(
                    job.id,
                    now,
                    |s| s.run(began),
                    &format!("agent in session {name} adopted"),
                )?;
                continue;
            }
            started = true;
            if let Err(e) = self.start_agent(&job, attempt, &name) {
                if fault::is_environmental(&e) {
                    // Not the job's fault (a full disk, tmux away): the
                    // pass stops and the start is tried again later.
                    return Err(e);
                }
                let now = Timestamp::now();
                // Its host dropped while the worktree or setup was made:
                // the host's fault, not the job's. Back to the queue, to
                // wait for the host like any job of a host out of reach.
                if let Some(host) = self.host_of(&job)?
                    && self.host_dropped(&host)?
                {
                    self.hold_back_for_host(&job, Some(&e))?;
                    continue;
                }
                let why = format!("could not start the agent: {e:#}");
                tracing::warn!(job = job.id, "{why}");
                self.journal
                    .change_state(job.id, now, |s| s.fail(&why, now), &why)?;
            }
        }
        Ok(started)
    }

    /// Sends `job`, in `starting`, back to the queue because its host is
    /// out of reach (`e`: what the start met, when it was tried): never
    /// the job's fault, so no attempt is spent; the scheduler keeps it
    /// waiting (`host_unreachable`) until the host answers.
    fn hold_back_for_host(
        &mut self,
        job: &crate::model::Job,
        e: Option<&anyhow::Error>,
    ) -> anyhow::Result<()> {
        let host = self
            .host_of(job)?
            .map_or_else(|| "?".to_string(), |h| h.to_string());
        let why = match e {
            Some(e) => format!(
                "host {host} could not be reached while the agent was starting ({e:#}); the job waits for it in the queue"
            ),
            None => format!(
                "host {host} is out of reach: the agent was not started; the job waits for the host in the queue"
            ),
        };
        tracing::warn!(job = job.id, "{why}");
        let now = Timestamp::now();
        self.journal
            .change_state(job.id, now, |s| s.hold_back(now), &why)?;
        Ok(())
    }

    fn start_agent(
        &mut self,
        job: &crate::model::Job,
        attempt: u32,
        name: &str,
    ) -> anyhow::Result<()> {
        let project_name = job
            .project
            .as_deref()
            .ok_or_else(|| anyhow::anyhow!("no project"))?;
        let project = self
            .journal
            .project(project_name)?
            .ok_or_else(|| anyhow::anyhow!("project {project_name} is not registered"))?;
        let profile_name = profile_name(job, &project, &self.config);
        let profile = self
            .config
            .agents
            .get(&profile_name)
            .ok_or_else(|| anyhow::anyhow!("no agent profile {profile_name:?}"))?
            .clone();
        if profile.operator_tasks_only && job.kind != crate::model::JobKind::Task {
            anyhow::bail!(
                "agent profile {profile_name} runs its input as commands; the text of a {} never goes to it (pick another agent for project {})",
                job.kind,
                project.name
            );
        }
        let runtime = self.runtime_for(Some(&project.host))?;
        if !runtime.is_remote() {
            agent::check_installed(&profile)?;
        }
        let worktrees = self.worktrees_of(&runtime)?;
        let ours = self
            .journal
            .attempts(job.id)?
            .iter()
            .any(|a| a.branch.is_some());
        if let Some(branch) =
            foreign_branch_on(&runtime.place, &project.path, &worktrees, job.id, ours)?
        {
            anyhow::bail!(
                "the branch {branch} already exists in {} and is not this home's job #{}: another switchboard home on this repository (or one removed before) made it, and its commits are not this job's. Delete it or rename it (`git -C {} branch -m {branch} {branch}-old`, after removing its worktree if `git worktree list` shows one), then `switchboard retry {}`",
                project.path.display(),
                job.id,
                project.path.display(),
                job.id
            );
        }
        let worktree = open_worktree_on(
            &runtime.place,
            &project.path,
            &project.base_branch,
            &worktrees,
            job.id,
        )?;
        let settings = self.config.project(&project.name);
        // The setup's processes carry the attempt's mark, as its agent's.
        let marker = match runtime.server.remote() {
            Some(remote) => setup::Marker::Place(remote.place().to_string()),
            None => setup::Marker::Home(self.home.root().to_path_buf()),
        };
        setup::prepare(
            &runtime.place,
            &worktree.path,
            &project.path,
            &settings,
            &setup::log_file(&self.home.logs(), job.id),
            &setup::SetupOf::new(job.id, attempt, marker),
        )?;
        let began = Timestamp::now();
        self.journal.begin_attempt(&Attempt {
            job: job.id,
            number: attempt,
            session: name.to_string(),
            worktree: Some(worktree.path.to_string_lossy().into_owned()),
            branch: Some(worktree.branch.clone()),
            base_commit: Some(worktree.base_commit.clone()),
            started_at: began,
            ended_at: None,
            exit_code: None,
            restarts: 0,
        })?;
        let me = self.switchboard_for(&runtime);
        let argv = agent::argv_on(
            &runtime.place,
            &profile,
            &job.prompt,
            &me,
            &worktree.path,
            job.id,
        )?;
        let spec = agent::spawn_spec_for(
            &runtime,
            name.to_string(),
            &worktree.path,
            argv,
            self.home.root(),
            job.id,
            attempt,
        );
        runtime.server.spawn(&spec)?;
        if profile.prompt == crate::config::PromptDelivery::Paste {
            if let Some(ready) = profile.ready.as_ref().and_then(|p| p.regex().ok()) {
                match crate::runtime::wait_for_prompt(
                    &runtime.server,
                    name,
                    ready,
                    profile.ready_within,
                ) {
                    Ok(_) => {}
                    // The agent's (or its profile's) fault, not tmux's: the
                    // attempt fails with what the screen shows instead.
                    Err(crate::runtime::TmuxError::Timeout(_)) => {
                        let screen = runtime.server.capture(name, false, 0).unwrap_or_default();
                        let _ = runtime.server.kill(name);
                        anyhow::bail!(
                            "agent {profile_name} did not show its `ready` pattern /{}/ within {}, so its task was not typed in; its screen ends with {:?} (check `ready` of [agents.{profile_name}] in config.toml)",
                            ready.as_str(),
                            humantime::format_duration(profile.ready_within),
                            crate::agents::status::last_lines(&screen, 1).trim()
                        );
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            runtime.control.send_text(
                name,
                &job.prompt,
                self.config.tmux.delay_enter,
                self.config.tmux.enter_retries,
            )?;
        }
        let now = Timestamp::now();
        let shown = if agent::falls_back_to_demo(job.agent.as_deref(), &project, &self.config) {
            DEMO_FALLBACK.to_string()
        } else {
            profile_name
        };
        let why = format!(
            "agent {shown} started in session {name}, worktree {}",
            worktree.path.display()
        );
        // Running since it began: a quick agent may report before this
        // line is written, and its report must count.
        self.journal
            .change_state(job.id, now, |s| s.run(began), &why)?;
        Ok(())
    }

    /// Ends the sessions of attempts that are over without a review (the
    /// job failed, timed out, was killed, or moved on to a later attempt).
    /// Ends attempt `attempt` of job `job`: its session, then whatever its
    /// agent left running outside it (a daemon, a background server),
    /// found by the attempt's environment.
    pub(crate) fn end_session(
        &self,
        job: i64,
        attempt: u32,
    ) -> Result<(), crate::runtime::TmuxError> {
        // An agent on a host: its session there is ended, then what it
        // left running there (one ssh command).
        if let Some(runtime) = self
            .journal
            .job(job)
            .ok()
            .flatten()
            .and_then(|j| self.runtime_of(&j).ok())
            .filter(|r| r.is_remote())
        {
            let killed = runtime.server.kill(&session_name(job, attempt));
            if let Some(remote) = runtime.server.remote() {
                match remote.end_attempt_processes(job, attempt, Duration::from_millis(500)) {
                    Ok(0) => {}
                    Ok(left) => tracing::info!(
                        "ended {left} process(es) job #{job}'s attempt {attempt} left behind on host {}",
                        remote.host()
                    ),
                    Err(e) => tracing::warn!(
                        "job #{job}'s attempt {attempt}: its processes on host {} were not ended: {e}",
                        remote.host()
                    ),
                }
            }
            return killed;
        }
        let killed = self.server.kill(&session_name(job, attempt));
        let left = crate::runtime::procs::end_attempt_processes(
            self.home.root(),
            job,
            attempt,
            Duration::from_millis(500),
        );
        if left > 0 {
            tracing::info!("ended {left} process(es) job #{job}'s attempt {attempt} left behind");
        }
        killed
    }

    /// A done job's session stays, for a reject to talk to.
    /// The jobs of all sessions are read at once.
    fn end_stale_sessions(
        &mut self,
        sessions: &[crate::runtime::SessionInfo],
    ) -> anyhow::Result<()> {
        let ids: Vec<i64> = sessions
            .iter()
            .filter_map(|s| parse_session_name(&s.name).map(|(job, _)| job))
            .collect();
        let jobs = self.journal.jobs_by_id(&ids)?;
        for session in sessions {
            let Some((job, attempt)) = parse_session_name(&session.name) else {
                continue;
            };
            let Some(j) = jobs.get(&job) else {
                continue;
            };
            let current = j.state.attempt() == Some(attempt) && j.state.name() != StateName::Failed;
            let stale = match j.state.name() {
                StateName::Failed | StateName::Killed => true,
                StateName::Done => false,
                _ => !current && j.attempts > attempt,
            };
            if stale && self.end_session(job, attempt).is_ok() {
                tracing::info!(
                    "ended session {} of job #{job}: {}",
                    session.name,
                    j.state.name()
                );
            }
        }
        Ok(())
    }

    /// Sessions on the home's server that no attempt in the journal names
    /// are shown (an event each) and never killed: they may be someone's.
    /// The journal is asked about all sessions at once.
    fn report_orphans(&mut self, sessions: &[crate::runtime::SessionInfo]) -> anyhow::Result<()> {
        let named: Vec<(i64, u32)> = sessions
            .iter()
            .filter(|s| !self.orphans.contains(&s.name))
            .filter_map(|s| parse_session_name(&s.name))
            .collect();
        let known = self.journal.known_attempts(&named)?;
        for session in sessions {
            if self.orphans.contains(&session.name) {
                continue;
            }
            let known = parse_session_name(&session.name).is_some_and(|a| known.contains(&a));
            if !known {
                let why = format!(
                    "orphan session {} on this home's tmux server: no attempt in the journal names it; left running (attach with tmux -S {} attach -t {})",
                    session.name,
                    self.server.socket().display(),
                    session.name
                );
                tracing::warn!("{why}");
                self.journal.record_note("orphan", &why, Timestamp::now())?;
                self.orphans.insert(session.name.clone());
            }
        }
        Ok(())
    }

    /// Writes READY_FOR_SHUTDOWN once a drain has no agent left; removes it
    /// when work may run again.
    fn drain_gate(&mut self, active: usize) -> anyhow::Result<()> {
        let ready = self.home.ready_file();
        if self.draining() {
            let starting = self
                .journal
                .jobs(&JobFilter {
                    state: Some(StateName::Starting),
                })?
                .len();
            if active == 0 && starting == 0 && !ready.exists() {
                std::fs::write(&ready, format!("drained at {}\n", Timestamp::now()))?;
                tracing::info!("drained: no agent is running");
            }
        } else if ready.exists() {
            std::fs::remove_file(&ready)?;
        }
        Ok(())
    }
}

/// For tests only: a job whose prompt is this variable's value makes each
/// pass that would start it panic, a stand-in for a bug met on one job's
/// data (the pass contains it, see [`fault::contained`]). Honoured by
/// debug builds alone (the tests' binary): a release binary has no such
/// switch.
pub const PANIC_ON_PROMPT: &str = "SWITCHBOARD_TEST_PANIC_ON_PROMPT";

/// See [`PANIC_ON_PROMPT`].
#[cfg(debug_assertions)]
fn panic_on_prompt(job: &crate::model::Job) {
    if std::env::var_os(PANIC_ON_PROMPT).is_some_and(|p| *p == *job.prompt) {
        panic!("{PANIC_ON_PROMPT}: job #{}", job.id);
    }
}

#[cfg(not(debug_assertions))]
fn panic_on_prompt(_job: &crate::model::Job) {}

/// The job and attempt a session name (`sb-<job>-<attempt>`) stands for.
fn parse_session_name(name: &str) -> Option<(i64, u32)> {
    let (job, attempt) = name.strip_prefix("sb-")?.split_once('-')?;
    Some((job.parse().ok()?, attempt.parse().ok()?))
}

/// Watches the inbox directory: any change there sets `news`.
/// Watches the journal's write-ahead log, where every commit of any
/// process lands: each change wakes the engine's rest, which then looks
/// whether an event came. `None` where it cannot be watched.
fn watch_journal(
    journal: &std::path::Path,
    output: std::sync::Arc<crate::runtime::Output>,
) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let mut wal = journal.as_os_str().to_owned();
    wal.push("-wal");
    let wal = std::path::PathBuf::from(wal);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| matches!(e.kind, notify::EventKind::Modify(_))) {
            output.note_news();
        }
    })
    .map_err(|e| tracing::debug!("cannot watch the journal: {e}"))
    .ok()?;
    watcher
        .watch(&wal, notify::RecursiveMode::NonRecursive)
        .map_err(|e| tracing::debug!("cannot watch {}: {e}", wal.display()))
        .ok()?;
    Some(watcher)
}

fn watch_inbox(
    inbox: &std::path::Path,
    news: std::sync::Arc<std::sync::atomic::AtomicBool>,
    wake: std::sync::Arc<crate::runtime::Output>,
) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Reading the directory is itself an (access) event: only a file
        // arriving, changing or leaving is news.
        if event.is_ok_and(|e| !matches!(e.kind, notify::EventKind::Access(_))) {
            news.store(true, std::sync::atomic::Ordering::Relaxed);
            wake.note_news();
        }
    })
    .map_err(|e| tracing::warn!("cannot watch the inbox, looking at it on every pass instead: {e}"))
    .ok()?;
    watcher
        .watch(inbox, notify::RecursiveMode::NonRecursive)
        .map_err(|e| {
            tracing::warn!("cannot watch the inbox, looking at it on every pass instead: {e}")
        })
        .ok()?;
    Some(watcher)
}

#[cfg(test)]
#[path = "rest_tests.rs"]
mod rest_tests;

#[cfg(test)]
#[path = "config_reload_tests.rs"]
mod config_reload_tests;
