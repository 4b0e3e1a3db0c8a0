//! The patrol: every active agent's status, from its signals, and what
//! follows from it.

use std::time::{Duration, Instant};

use super::{Engine, session_name};
use crate::agents::status::{AgentStatus, Signals, agent_status};
use crate::journal::{JobFilter, ReportStatus};
use crate::model::{Job, JobState, StateName, Timestamp};
use crate::runtime::content_hash;
use crate::workspace::{commit_all, diff_stat};

/// Restarts of one attempt's agent before the job fails as a crash loop.
const MAX_RESTARTS: u32 = 3;

impl Engine {
    /// Looks at every active agent; returns how many are active after.
    pub(super) fn patrol(
        &mut self,
        sessions: &[crate::runtime::SessionInfo],
    ) -> anyhow::Result<usize> {
        let mut jobs = Vec::new();
        for state in [StateName::Running, StateName::Waiting, StateName::Stalled] {
            jobs.extend(self.journal.jobs(&JobFilter { state: Some(state) })?);
        }
        let names: Vec<String> = jobs
            .iter()
            .map(|j| session_name(j.id, j.state.attempt().unwrap_or(0)))
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let screens = if refs.is_empty() {
            Vec::new()
        } else {
            self.control.capture_many(&refs)?
        };
        let mut active = 0;
        for ((job, name), screen) in jobs.iter().zip(&names).zip(screens.iter()) {
            let session = sessions.iter().find(|s| &s.name == name);
            let since = job.state.since();
            let report = self
                .journal
                .latest_status_report(job.id)?
                .filter(|r| r.at >= since)
                .and_then(|r| r.status);
            let (quiet_for, has_output, seen_busy) = self.watch_screen(job.id, screen);
            let profile = self.profile_of(job)?;
            let signals = Signals {
                report,
                session,
                screen,
                quiet_for,
                has_output,
            };
            let idle_after = self
                .config
                .scheduler
                .active_interval
                .max(Duration::from_secs(5));
            let (status, by) = agent_status(&signals, &profile, idle_after);
            let now = Timestamp::now();
            match status {
                AgentStatus::Exited(Some(0)) => self.finish(job, "the agent exited 0")?,
                AgentStatus::Idle if report == Some(ReportStatus::Done) => {
                    self.finish(job, "the agent reported done")?
                }
                AgentStatus::Idle if by == "screen" && seen_busy => {
                    self.finish(job, "the agent is back at its prompt")?
                }
                AgentStatus::Idle if report == Some(ReportStatus::Failed) => {
                    self.fail(job, name, "the agent reported it failed")?
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
                        let why = if status == AgentStatus::Gone {
                            "its session is gone"
                        } else {
                            "it crashed"
                        };
                        let restarts = self.restart(job, name, why)?;
                        let wait = Duration::from_millis(500 << restarts.saturating_sub(1).min(6));
                        self.restart_due.insert(job.id, Instant::now() + wait);
                    }
                    active += 1;
                }
                AgentStatus::Asking => {
                    if job.state.name() != StateName::Waiting {
                        let question = screen
                            .lines()
                            .rev()
                            .find(|l| !l.trim().is_empty())
                            .unwrap_or("")
                            .trim()
                            .to_string();
                        self.journal.change_state(
                            job.id,
                            now,
                            |s| s.wait(&question, now),
                            &format!("the agent asks ({by})"),
                        )?;
                    }
                    active += 1;
                }
                AgentStatus::Busy | AgentStatus::Starting | AgentStatus::Idle => {
                    if matches!(job.state.name(), StateName::Waiting | StateName::Stalled)
                        && status == AgentStatus::Busy
                    {
                        self.journal.change_state(
                            job.id,
                            now,
                            |s| s.run(now),
                            "the agent works again",
                        )?;
                    } else if job.state.name() == StateName::Running
                        && quiet_for >= self.config.scheduler.stall_after
                    {
                        self.stall(job, name, quiet_for)?;
                    }
                    active += 1;
                }
            }
        }
        Ok(active)
    }

    /// Tracks a job's screen: how long it has not changed, and whether it
    /// changed at all while this engine watched (the agent did something).
    fn watch_screen(&mut self, job: i64, screen: &str) -> (Duration, bool, bool) {
        let hash = content_hash(screen);
        let now = Instant::now();
        let entry = self.quiet.entry(job).or_insert((hash, now, false));
        if entry.0 != hash {
            *entry = (hash, now, true);
        }
        (now.duration_since(entry.1), entry.2, entry.2)
    }

    fn profile_of(&self, job: &Job) -> anyhow::Result<crate::config::AgentProfile> {
        let project = match job.project.as_deref() {
            Some(p) => self.journal.project(p)?,
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

    /// The agent finished: commit everything in its worktree, put the branch
    /// in review, and the job is done.
    fn finish(&mut self, job: &Job, why: &str) -> anyhow::Result<()> {
        let attempt_no = job.state.attempt().unwrap_or(0);
        let attempt = self
            .journal
            .attempt(job.id, attempt_no)?
            .ok_or_else(|| anyhow::anyhow!("job #{} has no attempt {attempt_no}", job.id))?;
        let project_name = job.project.clone().unwrap_or_default();
        let project = self
            .journal
            .project(&project_name)?
            .ok_or_else(|| anyhow::anyhow!("no project {project_name}"))?;
        let worktree = attempt.worktree.clone().unwrap_or_default();
        let branch = attempt.branch.clone().unwrap_or_default();
        let message = format!("switchboard: job #{}: {}", job.id, job.title);
        commit_all(std::path::Path::new(&worktree), &message)?;
        let stat = diff_stat(
            &project.path,
            attempt.base_commit.as_deref().unwrap_or("HEAD"),
            &branch,
        )?;
        let now = Timestamp::now();
        self.journal
            .add_review_item(job.id, attempt_no, &project.name, &branch, stat, now)?;
        self.journal.change_state(
            job.id,
            now,
            |s| s.finish(now),
            &format!("{why}; work committed on {branch}"),
        )?;
        self.journal.end_attempt(job.id, attempt_no, Some(0), now)?;
        self.quiet.remove(&job.id);
        Ok(())
    }

    /// The attempt failed: the scheduler retries it (or gives up).
    fn fail(&mut self, job: &Job, session: &str, why: &str) -> anyhow::Result<()> {
        let now = Timestamp::now();
        self.journal
            .change_state(job.id, now, |s| s.fail(why, now), why)?;
        self.journal
            .end_attempt(job.id, job.state.attempt().unwrap_or(0), None, now)?;
        let _ = self.server.kill(session);
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
        let _ = self.server.kill(session);
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
        let argv = super::argv(&profile, &checkpoint, &self.me, &cwd)?;
        let spec =
            super::agent::spawn_spec(session.to_string(), &cwd, argv, self.home.root(), job.id);
        self.server.spawn(&spec)?;
        self.quiet.remove(&job.id);
        Ok(restarts)
    }

    /// No activity for `stall_after`: one nudge, and the job shows stalled.
    fn stall(&mut self, job: &Job, session: &str, quiet: Duration) -> anyhow::Result<()> {
        let minutes = quiet.as_secs() / 60;
        let text = format!(
            "You have had work for {minutes} minutes with no activity. Are you stuck? If so, say what you need."
        );
        let _ = self.control.send_text(
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
