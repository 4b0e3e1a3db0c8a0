//! The patrol: every active agent's status, from its signals, and what
//! follows from it.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::{Engine, session_name};
use crate::agents::status::{
    AgentStatus, CurrentReport, Reading, ScreenRules, Signal, Signals, read_screen, read_status,
};
use crate::journal::JobFilter;
use crate::model::{Job, JobState, StateName, Timestamp};
use crate::runtime::content_hash;

/// Passes in a row in which one job's patrol fails before its attempt fails.
const JOB_FAULTS: u32 = 3;

/// Restarts of one attempt's agent before the job fails as a crash loop.
const MAX_RESTARTS: u32 = 3;

/// How long a turn's end read from the title, the screen or quiet must
/// hold before the job is done (a hook's word is taken at once). Claude
/// Code and Codex redraw between a tool's run and their next request;
/// see the README's figures.
const IDLE_DEBOUNCE: Duration = Duration::from_millis(400);

/// What the patrol read of one agent this pass, before judging it.
struct Seen<'a> {
    /// Its session on its server (`None`: gone).
    session: Option<&'a crate::runtime::SessionInfo>,
    screen: &'a str,
    /// Its latest report that carries a status, if any.
    report: Option<crate::journal::Report>,
}

/// What the patrol knows of one job's agent between passes.
#[derive(Debug, Clone)]
pub(super) struct Watch {
    hash: u64,
    changed_at: Instant,
    /// The screen changed since the agent started.
    has_output: bool,
    /// The agent was seen working on its task (not merely drawing its
    /// start-up screen): only then can a prompt on screen mean "done".
    took_up: bool,
    /// Since when the agent has looked idle, by a signal weaker than a hook.
    idle_since: Option<Instant>,
    /// Since when the agent has looked busy by its screen alone.
    busy_since: Option<Instant>,
    /// The last status and signal journaled.
    last: Option<(AgentStatus, Signal)>,
    /// When the agent last got input from the operator (an answer), after
    /// which earlier reports are history.
    input_at: Option<Timestamp>,
    /// What the profile's screen rules found on the screen of `hash`.
    rules: ScreenRules,
}

impl Engine {
    /// Looks at every active agent; returns how many are active after.
    ///
    /// What it needs from the journal is read for all agents at once (the
    /// projects, each agent's latest report): a pass costs the journal
    /// the same few statements with 200 agents as with one, and the
    /// per-agent work is done in memory, writing only what changed.
    pub(super) fn patrol(
        &mut self,
        sessions: &[crate::runtime::SessionInfo],
    ) -> anyhow::Result<usize> {
        let projects = self.journal.projects()?;
        self.projects_now = Some(projects.into_iter().map(|p| (p.name.clone(), p)).collect());
        let result = self.patrol_all(sessions);
        self.projects_now = None;
        result
    }

    /// Project `name`: from the patrol's read of the projects while it
    /// runs, else from the journal.
    pub(super) fn project_named(
        &self,
        name: &str,
    ) -> anyhow::Result<Option<crate::model::Project>> {
        Ok(match &self.projects_now {
            Some(projects) => projects.get(name).cloned(),
            None => self.journal.project(name)?,
        })
    }

    fn patrol_all(&mut self, sessions: &[crate::runtime::SessionInfo]) -> anyhow::Result<usize> {
        let mut jobs = Vec::new();
        for state in [StateName::Running, StateName::Waiting, StateName::Stalled] {
            jobs.extend(self.journal.jobs(&JobFilter { state: Some(state) })?);
        }
        // Jobs that left the patrol (killed, finished elsewhere) leave no
        // watch behind to hold the engine awake.
        let ids: HashSet<i64> = jobs.iter().map(|j| j.id).collect();
        self.quiet.retain(|id, _| ids.contains(id));
        // The agents of a host out of reach are left as they are: active,
        // not looked at, not restarted.
        let mut active = 0;
        let mut reachable = Vec::with_capacity(jobs.len());
        for job in jobs {
            if self.out_of_reach(&job)? {
                active += 1;
            } else {
                reachable.push(job);
            }
        }
        let jobs = reachable;
        let names: Vec<String> = jobs
            .iter()
            .map(|j| session_name(j.id, j.state.attempt().unwrap_or(0)))
            .collect();
        let screens = self.capture_by_host(&jobs, &names, sessions)?;
        let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
        let mut reports = self.journal.latest_status_reports(&ids)?;
        let by_name: HashMap<&str, &crate::runtime::SessionInfo> =
            sessions.iter().map(|s| (s.name.as_str(), s)).collect();
        for ((job, name), screen) in jobs.iter().zip(&names).zip(screens.iter()) {
            let Some(screen) = screen else {
                // Its host went out of reach during this pass.
                active += 1;
                continue;
            };
            let seen = Seen {
                session: by_name.get(name.as_str()).copied(),
                screen,
                report: reports.remove(&job.id),
            };
            match self.patrol_one(job, name, seen) {
                Ok(is_active) => {
                    self.patrol_faults.remove(&job.id);
                    active += usize::from(is_active);
                }
                // The surroundings (the disk, the journal, tmux): the pass
                // stops and is tried again.
                Err(e) if super::fault::is_environmental(&e) => return Err(e),
                // The job moved on since this pass read it (its agent's
                // done report finished it): nothing to do, and no fault.
                Err(e)
                    if moved_on(&e)
                        && self
                            .journal
                            .job(job.id)?
                            .is_none_or(|now| now.state.name() != job.state.name()) =>
                {
                    tracing::debug!(job = job.id, "moved on during the patrol: {e:#}");
                    self.quiet.remove(&job.id);
                }
                // This job's own trouble: the others go on.
                Err(e) => {
                    active += 1;
                    self.job_fault(job, name, &e)?;
                }
            }
        }
        Ok(active)
    }

    /// Each job's screen, captured over its host's control client (one
    /// round trip per host); `None` for the jobs of a host that went out
    /// of reach meanwhile (it is marked so).
    fn capture_by_host(
        &mut self,
        jobs: &[Job],
        names: &[String],
        sessions: &[crate::runtime::SessionInfo],
    ) -> anyhow::Result<Vec<Option<String>>> {
        // Sessions with no output since their last capture began keep that
        // screen: 200 quiet agents cost no capture at all. On a host too:
        // its panes' activity is compared with its own clock, read in the
        // same round trip as the captures, never with ours.
        let wanted: HashSet<&str> = names.iter().map(String::as_str).collect();
        self.screens
            .retain(|name, _| wanted.contains(name.as_str()));
        let activity: HashMap<&str, Option<u64>> = sessions
            .iter()
            .map(|s| (s.name.as_str(), s.activity))
            .collect();
        let mut groups: std::collections::BTreeMap<Option<crate::model::HostName>, Vec<usize>> =
            Default::default();
        for (i, job) in jobs.iter().enumerate() {
            groups.entry(self.host_of(job)?).or_default().push(i);
        }
        let mut screens = vec![None; jobs.len()];
        for (host, indices) in groups {
            let runtime = match self.runtime_for(host.as_ref()) {
                Ok(runtime) => runtime,
                // A host no longer known: its agents are left as they are.
                Err(e) if host.is_some() => {
                    tracing::warn!("{e}");
                    continue;
                }
                Err(e) => return Err(e),
            };
            let indices: Vec<usize> = indices
                .into_iter()
                .filter(|&i| match self.screens.get(&names[i]) {
                    Some(kept)
                        if unchanged_since(
                            kept,
                            activity.get(names[i].as_str()).copied().flatten(),
                        ) =>
                    {
                        screens[i] = Some(kept.screen.clone());
                        false
                    }
                    _ => true,
                })
                .collect();
            if indices.is_empty() {
                continue;
            }
            let refs: Vec<&str> = indices.iter().map(|&i| names[i].as_str()).collect();
            self.screen_captures += refs.len() as u64;
            match runtime.control.capture_many_timed(&refs, false, 0) {
                Ok((second, captured)) => {
                    for (i, screen) in indices.into_iter().zip(captured) {
                        // Without the server's clock, the pane is captured
                        // again next pass.
                        match second {
                            Some(second) => {
                                self.screens.insert(
                                    names[i].clone(),
                                    Captured {
                                        second,
                                        screen: screen.clone(),
                                    },
                                );
                            }
                            None => {
                                self.screens.remove(&names[i]);
                            }
                        }
                        screens[i] = Some(screen);
                    }
                }
                // A host's own trouble (out of reach, or its tmux failing)
                // sets that host aside for the pass, not the whole patrol.
                Err(e) if host.is_some() => {
                    if let Some(h) = host {
                        tracing::warn!("host {h} set aside during the patrol: {e}");
                        self.places.unreachable.insert(h);
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(screens)
    }

    /// Looks at one active agent and acts on what it shows; whether it is
    /// still active.
    fn patrol_one(&mut self, job: &Job, name: &str, seen: Seen<'_>) -> anyhow::Result<bool> {
        let Seen {
            session,
            screen,
            report: latest,
        } = seen;
        let mut is_active = false;
        let since = self.input_at(job)?;
        let latest = latest.filter(|r| r.at >= since);
        let report = latest.as_ref().and_then(|r| {
            Some(CurrentReport {
                status: r.status?,
                signal: Signal::of_report_source(&r.source),
                what: r.message.as_deref().unwrap_or(""),
            })
        });
        let profile = self.profile_of(job)?;
        let (quiet_for, has_output, rules) = self.watch_screen(job.id, screen, &profile);
        let signals = Signals {
            report,
            session,
            screen,
            quiet_for,
            has_output,
            rules: Some(&rules),
        };
        let idle_after = self
            .config
            .scheduler
            .active_interval
            .max(Duration::from_secs(5));
        let reading = read_status(&signals, &profile, idle_after);
        if !matches!(job.state.name(), StateName::Waiting | StateName::Stalled)
            && let Some(w) = self.quiet.get_mut(&job.id)
        {
            w.busy_since = None;
        }
        let step = self.judge(job.id, &reading);
        self.note_status(job.id, &reading, step)?;
        let now = Timestamp::now();
        match step {
            AgentStatus::Exited(Some(0)) => self.finish(job, "the agent exited 0")?,
            AgentStatus::Errored => {
                let why = format!(
                    "the agent's turn ended on an error ({}: {})",
                    reading.signal, reading.detail
                );
                self.fail(job, name, &why)?
            }
            AgentStatus::Idle => {
                let why = format!(
                    "the agent ended its turn ({}: {})",
                    reading.signal, reading.detail
                );
                self.finish(job, &why)?
            }
            AgentStatus::Exited(Some(code)) if self.ran_its_resume(job)? => {
                // The resume did not take (a conversation not saved yet,
                // say): the checkpoint prompt is the fallback.
                self.restart(job, name, &format!("its resume exited {code}"))?;
                is_active = true;
            }
            AgentStatus::Exited(Some(code)) => {
                self.fail(job, name, &format!("the agent exited {code}"))?
            }
            AgentStatus::Exited(None) | AgentStatus::Gone => {
                // Restarts back off: 0.5 s, 1 s, 2 s … after the last one.
                let due = self
                    .restart_due
                    .get(&job.id)
                    .is_none_or(|t| Instant::now() >= *t);
                if due {
                    let why = if step == AgentStatus::Gone {
                        "its session is gone"
                    } else {
                        "it crashed"
                    };
                    let restarts = self.restart(job, name, why)?;
                    let wait = Duration::from_millis(500 << restarts.saturating_sub(1).min(6));
                    self.restart_due.insert(job.id, Instant::now() + wait);
                }
                is_active = true;
            }
            AgentStatus::Asking => {
                if job.state.name() != StateName::Waiting {
                    let question = reading.question().to_string();
                    self.journal.change_state(
                        job.id,
                        now,
                        |s| s.wait(&question, now),
                        &format!("the agent asks ({}: {})", reading.signal, reading.detail),
                    )?;
                    // Waiting is no input: the report that asked stays
                    // current until the agent is answered.
                    if let Some(w) = self.quiet.get_mut(&job.id) {
                        w.input_at = Some(since);
                    }
                }
                is_active = true;
            }
            AgentStatus::Busy | AgentStatus::Starting => {
                if matches!(job.state.name(), StateName::Waiting | StateName::Stalled)
                    && step == AgentStatus::Busy
                    && self.works_again(job.id, &reading)
                {
                    self.journal.change_state(
                        job.id,
                        now,
                        |s| s.run(now),
                        &format!("the agent works again ({})", reading.signal),
                    )?;
                    if let Some(w) = self.quiet.get_mut(&job.id) {
                        w.input_at = Some(now);
                    }
                } else if job.state.name() == StateName::Running
                    && quiet_for >= self.config.scheduler.stall_after
                {
                    self.stall(job, name, quiet_for)?;
                }
                is_active = true;
            }
        }
        Ok(is_active)
    }

    /// A fault that met one job in the patrol: journaled against it; after
    /// [`JOB_FAULTS`] passes in a row its attempt fails with the reason,
    /// so one job never holds up the others or the engine.
    fn job_fault(&mut self, job: &Job, name: &str, error: &anyhow::Error) -> anyhow::Result<()> {
        let count = self.patrol_faults.entry(job.id).or_insert(0);
        *count += 1;
        let why = format!("the patrol could not handle this job: {error:#}");
        tracing::warn!(job = job.id, "{why} ({count} in a row)");
        if *count >= JOB_FAULTS {
            self.patrol_faults.remove(&job.id);
            // The job may have moved meanwhile (killed, say): then there is
            // nothing to fail.
            if let Err(e) = self.fail(job, name, &why) {
                tracing::warn!(job = job.id, "could not fail it either: {e:#}");
            }
        } else if *count == 1 {
            self.journal
                .record_event(job.id, "fault", &why, Timestamp::now())?;
        }
        Ok(())
    }

    /// What a reading means for the job now: `Idle` only once the agent
    /// took up its task and then ended its turn (a hook at once, a weaker
    /// signal after holding for [`IDLE_DEBOUNCE`]); an idle agent that
    /// never took up its task is still `Starting`, and a turn end not yet
    /// confirmed counts as `Busy`.
    fn judge(&mut self, job: i64, reading: &Reading) -> AgentStatus {
        let Some(watch) = self.quiet.get_mut(&job) else {
            return reading.status;
        };
        if reading.takes_up_task() {
            watch.took_up = true;
        }
        judge(watch, reading, Instant::now())
    }

    /// Whether the agent now running is its profile's `resume` (the first
    /// restart of the attempt), so that its failure falls back to the
    /// checkpoint prompt rather than failing the attempt.
    fn ran_its_resume(&self, job: &Job) -> anyhow::Result<bool> {
        let restarts = self
            .journal
            .attempt(job.id, job.state.attempt().unwrap_or(0))?
            .map_or(0, |a| a.restarts);
        Ok(restarts == 1 && self.profile_of(job)?.resume.is_some())
    }

    /// Since when the agent's reports are current: since the job's last
    /// change of state (for a fresh start, when its attempt began), or
    /// since it last got an answer, whichever is earlier. A job that
    /// waits keeps the reports of the turn that asked (the question may
    /// be nowhere but in a report) until it gets an answer.
    fn input_at(&self, job: &Job) -> anyhow::Result<Timestamp> {
        let since = job.state.since();
        let given = self.quiet.get(&job.id).and_then(|w| w.input_at);
        if job.state.name() == StateName::Waiting {
            return Ok(given.unwrap_or(since));
        }
        if job.state.name() != StateName::Running {
            return Ok(since);
        }
        // A fresh start is journaled running since its attempt began (the
        // engine records it so), so a quick agent's early report counts; a
        // job sent back to work (a reject) runs since then, so the report
        // of its previous turn does not.
        Ok(self
            .quiet
            .get(&job.id)
            .and_then(|w| w.input_at)
            .map_or(since, |at| at.min(since)))
    }

    /// The agent got input from the operator (an answer): its earlier
    /// reports, the question among them, are history.
    pub(super) fn given_input(&mut self, job: i64, at: Timestamp) {
        if let Some(w) = self.quiet.get_mut(&job) {
            w.input_at = Some(at);
        }
    }

    /// How soon a status that waits for its confirmation (a turn end or a
    /// return to work read from the screen) is due to be looked at again.
    pub(super) fn hold_pending(&self) -> Option<Duration> {
        let now = Instant::now();
        self.quiet
            .values()
            .flat_map(|w| [w.idle_since, w.busy_since])
            .flatten()
            .map(|since| {
                IDLE_DEBOUNCE.saturating_sub(now.duration_since(since)) + Duration::from_millis(20)
            })
            .min()
    }

    /// Whether an agent that asked works again: its title or a hook says
    /// so, or its screen has said so for [`IDLE_DEBOUNCE`] (Claude Code
    /// redraws its spinner for a moment after its PermissionRequest hook,
    /// before the question is drawn).
    fn works_again(&mut self, job: i64, reading: &Reading) -> bool {
        let Some(watch) = self.quiet.get_mut(&job) else {
            return true;
        };
        works_again(watch, reading, Instant::now())
    }

    /// Journals the agent's status when it changes in kind, with the signal
    /// that said so (for `switchboard explain`).
    fn note_status(
        &mut self,
        job: i64,
        reading: &Reading,
        step: AgentStatus,
    ) -> anyhow::Result<()> {
        let Some(watch) = self.quiet.get_mut(&job) else {
            return Ok(());
        };
        let now = (step, reading.signal);
        if watch.last == Some(now) {
            return Ok(());
        }
        watch.last = Some(now);
        let text = crate::agents::status::status_note(step, reading.signal, &reading.detail);
        self.journal
            .record_job_note(job, "status", &text, Timestamp::now())?;
        Ok(())
    }

    /// Tracks a job's screen: how long it has not changed, and whether it
    /// changed at all while this engine watched (the agent did something).
    ///
    /// The screen is hashed first; the profile's rules read it only when
    /// the hash changed (what they found is kept with the watch), so a
    /// quiet agent's pane costs a hash a pass.
    fn watch_screen(
        &mut self,
        job: i64,
        screen: &str,
        profile: &crate::config::AgentProfile,
    ) -> (Duration, bool, ScreenRules) {
        let hash = content_hash(screen);
        let now = Instant::now();
        let reads = &mut self.screen_reads;
        let entry = self.quiet.entry(job).or_insert_with(|| {
            *reads += 1;
            Watch {
                hash,
                changed_at: now,
                has_output: false,
                took_up: false,
                idle_since: None,
                busy_since: None,
                last: None,
                input_at: None,
                rules: read_screen(screen, profile),
            }
        });
        if entry.hash != hash {
            *reads += 1;
            entry.hash = hash;
            entry.changed_at = now;
            entry.has_output = true;
            entry.rules = read_screen(screen, profile);
        }
        (
            now.duration_since(entry.changed_at),
            entry.has_output,
            entry.rules.clone(),
        )
    }

    pub(super) fn profile_of(&self, job: &Job) -> anyhow::Result<crate::config::AgentProfile> {
        let project = match job.project.as_deref() {
            Some(p) => self.project_named(p)?,
            None => None,
        };
        let name = match &project {
            Some(p) => super::profile_name(job, p, &self.config),
            None => job.agent.clone().unwrap_or_else(|| "demo".into()),
        };
        self.config
            .agents
            .get(&name)
            .or_else(|| self.config.agents.get("demo"))
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no agent profile {name}"))
    }

    /// The agent finished its turn: the job is done and its branch in
    /// review at once; its work is committed after the patrol
    /// ([`Engine::commit_finished_work`]), so the job shows done without
    /// waiting for git.
    fn finish(&mut self, job: &Job, why: &str) -> anyhow::Result<()> {
        let attempt_no = job.state.attempt().unwrap_or(0);
        let attempt = self
            .journal
            .attempt(job.id, attempt_no)?
            .ok_or_else(|| anyhow::anyhow!("job #{} has no attempt {attempt_no}", job.id))?;
        let project = job.project.clone().unwrap_or_default();
        let branch = attempt.branch.clone().unwrap_or_default();
        // `false`: the agent's done report finished it since this pass
        // read the job (and the commit is found as the report's).
        let finished = self.journal.finish_attempt(
            job.id,
            attempt_no,
            &project,
            &branch,
            why,
            Timestamp::now(),
        )?;
        if finished {
            self.to_commit.insert(job.id);
        }
        self.quiet.remove(&job.id);
        Ok(())
    }

    /// The attempt failed: the scheduler retries it (or gives up).
    fn fail(&mut self, job: &Job, _session: &str, why: &str) -> anyhow::Result<()> {
        let now = Timestamp::now();
        self.journal
            .change_state(job.id, now, |s| s.fail(why, now), why)?;
        self.journal
            .end_attempt(job.id, job.state.attempt().unwrap_or(0), None, now)?;
        let _ = self.end_session(job.id, job.state.attempt().unwrap_or(0));
        self.quiet.remove(&job.id);
        Ok(())
    }

    /// The agent went away while it should run: start it again in the same
    /// worktree with a checkpoint, until the restarts run out.
    /// Returns how many restarts the attempt has had.
    fn restart(&mut self, job: &Job, session: &str, why: &str) -> anyhow::Result<u32> {
        let attempt_no = job.state.attempt().unwrap_or(0);
        let now = Timestamp::now();
        let restarts = self.journal.count_restart(
            job.id,
            attempt_no,
            &format!("{why}; restarting the agent"),
            now,
        )?;
        if restarts > MAX_RESTARTS {
            self.restart_due.remove(&job.id);
            self.fail(
                job,
                session,
                &format!("crash loop: {why}, {MAX_RESTARTS} restarts used"),
            )?;
            return Ok(restarts);
        }
        let runtime = self.runtime_of(job)?;
        let _ = self.end_session(job.id, attempt_no);
        let attempt = self
            .journal
            .attempt(job.id, attempt_no)?
            .ok_or_else(|| anyhow::anyhow!("no attempt"))?;
        let note = self
            .journal
            .job(job.id)?
            .and_then(|j| j.progress.note)
            .unwrap_or_default();
        let checkpoint = format!(
            "{}\n\n(switchboard: your previous run stopped ({why}); this is restart {restarts}. Your work so far is in this worktree. Last progress note: {})",
            job.prompt,
            if note.is_empty() { "none" } else { &note }
        );
        let project = self
            .journal
            .project(job.project.as_deref().unwrap_or_default())?
            .ok_or_else(|| anyhow::anyhow!("no project"))?;
        let profile_name = super::profile_name(job, &project, &self.config);
        let profile = self
            .config
            .agents
            .get(&profile_name)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no profile"))?;
        let cwd = std::path::PathBuf::from(attempt.worktree.unwrap_or_default());
        // The first restart goes back into the agent's own conversation
        // when the profile says how; later ones start afresh with the
        // checkpoint.
        let back = format!(
            "(switchboard: your previous run stopped ({why}). Carry on with the task where you left off.)"
        );
        let me = self.switchboard_for(&runtime);
        let argv = match super::agent::resume_argv(&profile, &back, &me, job.id) {
            Some(resume) if restarts == 1 => resume,
            _ => super::agent::argv_on(&runtime.place, &profile, &checkpoint, &me, &cwd, job.id)?,
        };
        let spec = super::agent::spawn_spec_for(
            &runtime,
            session.to_string(),
            &cwd,
            argv,
            self.home.root(),
            job.id,
            attempt_no,
        );
        runtime.server.spawn(&spec)?;
        self.quiet.remove(&job.id);
        Ok(restarts)
    }

    /// No activity for `stall_after`: one nudge, and the job shows stalled.
    fn stall(&mut self, job: &Job, session: &str, quiet: Duration) -> anyhow::Result<()> {
        let minutes = quiet.as_secs() / 60;
        let text = format!(
            "You have had work for {minutes} minutes with no activity. Are you stuck? If so, say what you need."
        );
        let _ = self.runtime_of(job)?.control.send_text(
            session,
            &text,
            self.config.tmux.delay_enter,
            self.config.tmux.enter_retries,
        );
        let now = Timestamp::now();
        if matches!(job.state, JobState::Running { .. }) {
            self.journal.change_state(
                job.id,
                now,
                |s| s.stall(now),
                &format!(
                    "no activity for {}; nudged",
                    humantime::format_duration(Duration::from_secs(quiet.as_secs()))
                ),
            )?;
        }
        Ok(())
    }
}

/// Whether a patrol's error is a change of state the job no longer
/// allows: another process (an agent's done report) moved it meanwhile.
fn moved_on(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        matches!(
            e.downcast_ref(),
            Some(crate::journal::JournalError::Transition(_))
        )
    })
}

/// The pure part of [`Engine::works_again`].
fn works_again(watch: &mut Watch, reading: &Reading, now: Instant) -> bool {
    if matches!(
        reading.signal,
        Signal::Title | Signal::Hook | Signal::Report
    ) {
        return true;
    }
    let since = *watch.busy_since.get_or_insert(now);
    now.duration_since(since) >= IDLE_DEBOUNCE
}

/// The pure part of [`Engine::judge`].
fn judge(watch: &mut Watch, reading: &Reading, now: Instant) -> AgentStatus {
    if reading.status != AgentStatus::Busy
        || !matches!(reading.signal, Signal::Screen | Signal::Quiet)
    {
        watch.busy_since = None;
    }
    if !matches!(reading.status, AgentStatus::Idle | AgentStatus::Errored) {
        watch.idle_since = None;
        return reading.status;
    }
    if !watch.took_up {
        return AgentStatus::Starting;
    }
    if matches!(reading.signal, Signal::Hook | Signal::Report) {
        return reading.status;
    }
    let since = *watch.idle_since.get_or_insert(now);
    if now.duration_since(since) >= IDLE_DEBOUNCE {
        reading.status
    } else {
        AgentStatus::Busy
    }
}

/// A pane's last screen and the second its capture began, by the clock of
/// the pane's own tmux server (a host's clock may differ from ours).
pub(super) struct Captured {
    second: u64,
    screen: String,
}

/// Whether a window whose last output was at `activity` (None: not known,
/// or its session gone) had no output since `kept` was captured: its last
/// output (whole seconds, tmux's `window_activity`) came in a second before
/// the capture began, both by its server's clock. Output in the same second
/// counts as new, so nothing is missed for the clock's coarseness.
fn unchanged_since(kept: &Captured, activity: Option<u64>) -> bool {
    crate::runtime::quiet_since(kept.second, activity)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_pane_is_unchanged_only_without_output_since_the_second_before_its_capture() {
        let kept = Captured {
            second: 100,
            screen: "demo> ".into(),
        };
        assert!(unchanged_since(&kept, Some(99)));
        // Output in the second the capture began may have come after it.
        assert!(!unchanged_since(&kept, Some(100)));
        assert!(!unchanged_since(&kept, Some(101)));
        // No activity known, or the session gone: captured again.
        assert!(!unchanged_since(&kept, None));
    }

    use super::*;

    fn watch(took_up: bool) -> Watch {
        Watch {
            hash: 0,
            changed_at: Instant::now(),
            has_output: true,
            took_up,
            idle_since: None,
            busy_since: None,
            last: None,
            input_at: None,
            rules: ScreenRules::default(),
        }
    }

    fn reading(status: AgentStatus, signal: Signal) -> Reading {
        Reading {
            status,
            signal,
            detail: String::new(),
            said: String::new(),
        }
    }

    #[test]
    fn a_prompt_before_the_task_was_taken_up_is_starting() {
        let mut w = watch(false);
        let idle = reading(AgentStatus::Idle, Signal::Screen);
        let t = Instant::now();
        assert_eq!(judge(&mut w, &idle, t), AgentStatus::Starting);
        assert_eq!(
            judge(&mut w, &idle, t + Duration::from_secs(60)),
            AgentStatus::Starting
        );
    }

    #[test]
    fn a_turn_end_holds_before_done_unless_a_hook_says_so() {
        let t = Instant::now();
        let mut w = watch(true);
        let idle = reading(AgentStatus::Idle, Signal::Screen);
        assert_eq!(judge(&mut w, &idle, t), AgentStatus::Busy);
        assert_eq!(judge(&mut w, &idle, t + IDLE_DEBOUNCE), AgentStatus::Idle);
        // A busy reading in between starts the hold again.
        let mut w = watch(true);
        judge(&mut w, &idle, t);
        judge(
            &mut w,
            &reading(AgentStatus::Busy, Signal::Title),
            t + IDLE_DEBOUNCE / 2,
        );
        assert_eq!(judge(&mut w, &idle, t + IDLE_DEBOUNCE), AgentStatus::Busy);
        let mut w = watch(true);
        let hook = reading(AgentStatus::Idle, Signal::Hook);
        assert_eq!(judge(&mut w, &hook, t), AgentStatus::Idle);
    }

    #[test]
    fn an_asking_agent_works_again_by_its_title_at_once_by_its_screen_after_a_hold() {
        let t = Instant::now();
        let mut w = watch(true);
        assert!(works_again(
            &mut w,
            &reading(AgentStatus::Busy, Signal::Title),
            t
        ));
        let screen = reading(AgentStatus::Busy, Signal::Screen);
        judge(&mut w, &screen, t);
        assert!(!works_again(&mut w, &screen, t));
        judge(&mut w, &screen, t + IDLE_DEBOUNCE);
        assert!(works_again(&mut w, &screen, t + IDLE_DEBOUNCE));
        // The question came back in between: the hold starts again.
        judge(
            &mut w,
            &reading(AgentStatus::Asking, Signal::Screen),
            t + IDLE_DEBOUNCE,
        );
        assert!(!works_again(&mut w, &screen, t + IDLE_DEBOUNCE * 2));
    }
}
