//! Carrying out operator commands from the journal; each result is an
//! event the operator can read.

use super::{Engine, session_name};
use crate::config::MergeStrategy;
use crate::journal::{CommandKind, OperatorCommand};
use crate::model::{StateName, Timestamp};
use crate::workspace::{MergeOutcome, UpdateOutcome, bring_up_to_date, merge_on};

impl Engine {
    pub(super) fn carry_out_commands(&mut self) -> anyhow::Result<()> {
        for command in self.journal.pending_commands()? {
            let (ok, result) = match self.carry_out(&command) {
                Ok(result) => (true, result),
                Err(e) => (false, format!("{} failed: {e:#}", command.kind_text())),
            };
            tracing::info!(command = command.id, ok, "{result}");
            self.journal.complete_command(
                command.id,
                command.job,
                ok,
                &result,
                Timestamp::now(),
            )?;
        }
        Ok(())
    }

    fn carry_out(&mut self, command: &OperatorCommand) -> anyhow::Result<String> {
        let now = Timestamp::now();
        let kind = match &command.kind {
            Ok(kind) => *kind,
            Err(other) => anyhow::bail!(
                "unknown command {other:?} (journaled by a newer switchboard?); nothing was done"
            ),
        };
        match (kind, command.job) {
            (CommandKind::Drain, _) => {
                std::fs::write(self.home.drain_file(), format!("drain asked at {now}\n"))?;
                Ok("draining: no new agents start; READY_FOR_SHUTDOWN follows the last one".into())
            }
            (CommandKind::Pause, _) => {
                if self.paused() {
                    return Ok("already paused: no new agents start".into());
                }
                std::fs::write(
                    self.home.paused_file(),
                    format!("paused at {now} (command {})\n", command.id),
                )?;
                Ok("paused: no new agents start; running agents go on (switchboard resume)".into())
            }
            (CommandKind::Resume, _) => {
                for file in [
                    self.home.drain_file(),
                    self.home.ready_file(),
                    self.home.paused_file(),
                ] {
                    if file.exists() {
                        std::fs::remove_file(file)?;
                    }
                }
                Ok("resumed: agents start again".into())
            }
            (kind, Some(id)) => {
                let job = self
                    .journal
                    .job(id)?
                    .ok_or_else(|| anyhow::anyhow!("no job #{id}"))?;
                let session = job.state.attempt().map(|a| session_name(id, a));
                let runtime = self.runtime_of(&job)?;
                match kind {
                    CommandKind::Kill => {
                        if let Some(a) = job.state.attempt() {
                            let _ = self.end_session(id, a);
                        }
                        self.journal.change_state(
                            id,
                            now,
                            |s| s.kill("killed by the operator", now),
                            "killed by the operator",
                        )?;
                        Ok(format!("job #{id} killed"))
                    }
                    CommandKind::Nudge if job.state.name() == StateName::Waiting => anyhow::bail!(
                        "job #{id}'s agent is asking a question; a nudge is not typed into it (answer with `switchboard answer {id} CHOICE`)"
                    ),
                    CommandKind::Answer => {
                        let s = session.ok_or_else(|| anyhow::anyhow!("job #{id} has no agent"))?;
                        if job.state.name() != StateName::Waiting {
                            anyhow::bail!(
                                "job #{id} is {}; its agent asks nothing now, so no key was pressed",
                                job.state.name()
                            );
                        }
                        let key = command.text.clone().unwrap_or_default();
                        use crate::agents::answer::Choice;
                        let choice = Choice::parse(&key).map_err(anyhow::Error::msg)?;
                        // Asked for before another answer to this question
                        // was carried out: whoever asked had not seen it.
                        if let Some(earlier) = self.answers_sent.get(&id)
                            && command.at <= earlier.sent_at
                            && job.state.since() <= earlier.sent_at
                        {
                            anyhow::bail!(
                                "job #{id}'s question was answered with {} (command {}) after this answer was asked for; no key was pressed, so its agent does not get two answers (answer again if it still asks)",
                                earlier.choice,
                                earlier.command
                            );
                        }
                        runtime.control.send_key(&s, &choice.key())?;
                        // An agent that reads its answer as a line gets
                        // the Enter that ends it.
                        if self.profile_of(&job)?.answer_enter
                            && !matches!(choice, Choice::Enter | Choice::Esc)
                        {
                            runtime.control.send_key(&s, "Enter")?;
                        }
                        self.answered_until = Some(std::time::Instant::now() + super::ANSWER_WATCH);
                        self.given_input(id, Timestamp::now());
                        self.answers_sent.insert(
                            id,
                            super::AnswerSent {
                                sent_at: Timestamp::now(),
                                command: command.id,
                                choice: choice.to_string(),
                            },
                        );
                        Ok(format!("answered job #{id}'s question with {choice}"))
                    }
                    CommandKind::Nudge => {
                        let s = session.ok_or_else(|| anyhow::anyhow!("job #{id} has no agent"))?;
                        let text = command.text.clone().unwrap_or_default();
                        let empty = text.trim().is_empty();
                        if empty {
                            // A nudge with nothing to say is Enter, pressed
                            // once (not retried until the pane changes: a
                            // second Enter would go to whatever it shows next).
                            runtime.control.send_key(&s, "Enter")?;
                        } else {
                            runtime.control.send_text(
                                &s,
                                &text,
                                self.config.tmux.delay_enter,
                                self.config.tmux.enter_retries,
                            )?;
                        }
                        if matches!(job.state.name(), StateName::Waiting | StateName::Stalled) {
                            self.journal.change_state(
                                id,
                                now,
                                |s| s.run(now),
                                "the operator answered",
                            )?;
                        }
                        Ok(if empty {
                            format!("pressed Enter in job #{id}'s agent (a nudge without text)")
                        } else {
                            format!("nudge delivered to job #{id}")
                        })
                    }
                    CommandKind::Retry => {
                        self.journal.change_state(
                            id,
                            now,
                            |s| s.requeue(None, now),
                            "retried by the operator",
                        )?;
                        Ok(format!("job #{id} queued again"))
                    }
                    CommandKind::Approve => self.approve(id, command.text.as_deref()),
                    CommandKind::Reject => self.reject(id, session, command.text.as_deref()),
                    // Carried out above, whatever the job.
                    CommandKind::Drain | CommandKind::Pause | CommandKind::Resume => {
                        anyhow::bail!("{kind} takes no job")
                    }
                }
            }
            (other, None) => anyhow::bail!("{other} needs a job"),
        }
    }

    /// Merges (or delivers) job `id`'s review item. `approved` is the
    /// commit the operator looked at (the room passes the head it showed,
    /// `approve --commit` the one given): if the branch's head is another
    /// by now, nothing is merged and the reason says so.
    fn approve(&mut self, id: i64, approved: Option<&str>) -> anyhow::Result<String> {
        if let Some(approved) = approved {
            self.still_the_approved_commit(id, approved)?;
        }
        // Work whose commit failed at the turn's end is committed now (its
        // diff stat with it); if it still cannot be, nothing merges.
        let uncommitted = self
            .journal
            .review_item(id)?
            .is_some_and(|item| item.state == crate::model::ReviewState::Uncommitted.as_str());
        if uncommitted {
            self.commit_finished(id).map_err(|e| {
                anyhow::anyhow!("the work could not be committed: {e:#}; nothing was merged")
            })?;
        }
        // What the agent left uncommitted (work after "done") is committed
        // first and merged with the rest; if it cannot be, nothing merges.
        self.commit_left_over(id, "approved")
            .map_err(|e| anyhow::anyhow!("{e:#}; nothing was merged"))?;
        let (item, project) = self
            .journal
            .review_with_project(id)?
            .ok_or_else(|| anyhow::anyhow!("job #{id} has nothing in review"))?;
        let job = self
            .journal
            .job(id)?
            .ok_or_else(|| anyhow::anyhow!("no job #{id}"))?;
        let settings = self.config.project(&project.name);
        if settings.deliver != crate::config::Deliver::Merge {
            return self.deliver(&job, &item, &project, &settings);
        }
        let message = match settings.merge_strategy {
            MergeStrategy::Squash => format!(
                "switchboard job #{id}: {}\n\nTask: {}",
                job.title,
                job.prompt.lines().take(20).collect::<Vec<_>>().join("\n")
            ),
            _ => format!(
                "Merge {} (switchboard job #{id}: {})",
                item.branch, job.title
            ),
        };
        let now = Timestamp::now();
        let runtime = self.runtime_for(Some(&project.host))?;
        // A base that moved since the agent started: the branch is brought
        // up to date in its own worktree first (a conflict there is undone
        // and shown; nothing merges).
        // On a host, that worktree is there and git runs there.
        let worktree = self.worktrees_of(&runtime)?.join(format!("job-{id}"));
        let mut updated = None;
        if runtime.place.exists(&worktree)? {
            let squash_message = format!(
                "switchboard job #{id}: {}\n\nTask: {}",
                job.title,
                job.prompt.lines().take(20).collect::<Vec<_>>().join("\n")
            );
            match bring_up_to_date(
                &runtime.place,
                &worktree,
                &format!("refs/heads/{}", project.base_branch),
                settings.merge_strategy,
                &squash_message,
            )? {
                UpdateOutcome::Conflict { files } => {
                    return self.conflicted(id, &item.branch, &project.base_branch, &files, now);
                }
                UpdateOutcome::Updated { how } => updated = Some(how),
                UpdateOutcome::AlreadyUpToDate => {}
            }
        }
        match merge_on(
            &runtime.place,
            &project.path,
            &project.base_branch,
            &item.branch,
            &message,
            settings.merge_strategy,
        )? {
            MergeOutcome::Merged { commit } => {
                if let Some(a) = job.state.attempt() {
                    let _ = self.end_session(id, a);
                }
                // On a host, its worktree and branch are there.
                let worktree = self.worktrees_of(&runtime)?.join(format!("job-{id}"));
                let fate = super::cleanup::after_merge_on(
                    &runtime.place,
                    &project.path,
                    &worktree,
                    &item.branch,
                    settings.keep_branches,
                );
                let why = format!(
                    "{}{} merged into {} ({}) as {}; {fate}",
                    updated.map(|how| format!("{how}; ")).unwrap_or_default(),
                    item.branch,
                    project.base_branch,
                    settings.merge_strategy.as_str(),
                    &commit[..commit.len().min(12)],
                );
                self.journal
                    .set_review_state(id, crate::model::ReviewState::Merged, &why, now)?;
                Ok(why)
            }
            // Nothing of its own to merge (the agent changed no file, or
            // it went in before): the item is closed as approved, the base
            // untouched, and the words say so.
            MergeOutcome::AlreadyIn => {
                if let Some(a) = job.state.attempt() {
                    let _ = self.end_session(id, a);
                }
                let worktree = self.worktrees_of(&runtime)?.join(format!("job-{id}"));
                let fate = super::cleanup::after_merge_on(
                    &runtime.place,
                    &project.path,
                    &worktree,
                    &item.branch,
                    settings.keep_branches,
                );
                let why = format!(
                    "nothing to merge: {} brings no change to {}; approved and closed; {fate}",
                    item.branch, project.base_branch,
                );
                self.journal
                    .set_review_state(id, crate::model::ReviewState::Merged, &why, now)?;
                Ok(why)
            }
            MergeOutcome::Conflict { files } => {
                self.conflicted(id, &item.branch, &project.base_branch, &files, now)
            }
            MergeOutcome::Refused { reason } => anyhow::bail!("{reason}"),
        }
    }

    /// Refuses (nothing merged) when job `id`'s branch no longer points at
    /// the commit the operator approved.
    fn still_the_approved_commit(&mut self, id: i64, approved: &str) -> anyhow::Result<()> {
        let approved = crate::model::ApprovedCommit::parse(approved)
            .map_err(|e| anyhow::anyhow!("{e}; nothing was merged"))?;
        let (item, project) = self
            .journal
            .review_with_project(id)?
            .ok_or_else(|| anyhow::anyhow!("job #{id} has nothing in review"))?;
        let place = self.runtime_for(Some(&project.host))?.place;
        let head = crate::workspace::Git::on(&place, &project.path).run(&[
            "rev-parse",
            "--verify",
            &format!("refs/heads/{}^{{commit}}", item.branch),
        ])?;
        if approved.is(&head) {
            return Ok(());
        }
        anyhow::bail!(
            "job #{id}'s branch moved since it was approved (approved {}, now {}); look at it again; nothing was merged",
            crate::model::short_sha(approved.as_str()),
            crate::model::short_sha(&head)
        )
    }

    /// For a review item in conflict: starts merging the base into the
    /// job's branch in its own worktree (the conflicts left there, marked)
    /// and says, in one line for the agent, which files to resolve. `None`
    /// for an item not in conflict.
    fn conflict_brief(&mut self, id: i64) -> anyhow::Result<Option<String>> {
        let Some((item, project)) = self.journal.review_with_project(id)? else {
            return Ok(None);
        };
        if item.state != "conflict" {
            return Ok(None);
        }
        let runtime = self.runtime_for(Some(&project.host))?;
        let worktree = self.worktrees_of(&runtime)?.join(format!("job-{id}"));
        let settings = self.config.project(&project.name);
        let base = super::deliver::conflict_base(&runtime.place, &project, &settings)?;
        let files = crate::workspace::merge_base_into_on(&runtime.place, &worktree, &base)?;
        Ok(Some(format!(
            "The base branch {} moved on and conflicts with your work in {}; it is being merged into your branch in this worktree: resolve the conflicts in those files (keep what both sides meant and remove the conflict markers), then finish.",
            project.base_branch,
            files.join(", ")
        )))
    }

    fn reject(
        &mut self,
        id: i64,
        session: Option<String>,
        reason: Option<&str>,
    ) -> anyhow::Result<String> {
        let conflict = self.conflict_brief(id)?;
        let told;
        let reason = match (&conflict, reason) {
            (Some(brief), Some(r)) => {
                told = format!("{brief} The operator adds: {r}");
                told.as_str()
            }
            (Some(brief), None) => brief.as_str(),
            (None, r) => r.unwrap_or("The operator rejected this work; look at it again."),
        };
        // The operator's comments on lines of the diff go with the reason,
        // each as `path:line: comment`.
        let comments = self.journal.open_review_comments(id)?;
        let with_comments = crate::model::reject_text(Some(reason), &comments);
        let reason = with_comments.as_str();
        let now = Timestamp::now();
        self.journal.set_review_state(
            id,
            crate::model::ReviewState::Rejected,
            &format!("rejected: {reason}"),
            now,
        )?;
        let job = self.journal.job(id)?;
        let runtime = match &job {
            Some(job) => self.runtime_of(job)?,
            None => self.runtime_for(None)?,
        };
        let alive = session
            .as_deref()
            .and_then(|s| runtime.server.session(s).ok().flatten())
            .is_some_and(|info| !info.dead);
        // Its agent taking up the work again is a start like any other:
        // not while another job holds the repository's claim (or the
        // limits, a drain or a pause hold starts back).
        let held = match (&job, alive) {
            (Some(job), true) => self.start_held_back(job)?,
            _ => None,
        };
        match (session, held) {
            (Some(_), Some(why)) => {
                if let Some(attempt) = job.as_ref().and_then(|j| j.state.attempt()) {
                    let _ = self.end_session(id, attempt);
                }
                self.journal.change_state(
                    id,
                    now,
                    |st| st.requeue(None, now),
                    &format!(
                        "rejected while {why}: its agent was ended and the job waits in the queue, to start again in its worktree with the reason: {reason}"
                    ),
                )?;
                self.journal.append_to_prompt(
                    id,
                    &format!("\n\nThe operator rejected the previous attempt: {reason}"),
                )?;
                self.journal.mark_review_comments_sent(id, now)?;
                Ok(format!(
                    "job #{id} rejected; {why}, so it waits in the queue and starts again in its worktree when it may"
                ))
            }
            (Some(s), None) if alive => {
                runtime.control.send_text(
                    &s,
                    reason,
                    self.config.tmux.delay_enter,
                    self.config.tmux.enter_retries,
                )?;
                self.journal.change_state(
                    id,
                    now,
                    |st| st.run(now),
                    &format!("rejected; told the agent: {reason}"),
                )?;
                self.journal.mark_review_comments_sent(id, now)?;
                Ok(format!(
                    "job #{id} rejected; the agent was told and works again"
                ))
            }
            _ => {
                self.journal.change_state(
                    id,
                    now,
                    |st| st.requeue(None, now),
                    &format!("rejected, agent gone: queued again with the reason: {reason}"),
                )?;
                self.journal.append_to_prompt(
                    id,
                    &format!("\n\nThe operator rejected the previous attempt: {reason}"),
                )?;
                self.journal.mark_review_comments_sent(id, now)?;
                Ok(format!("job #{id} rejected; queued again"))
            }
        }
    }
}

impl Engine {
    /// Why an agent of `job` may not start now (the scheduler's rules for
    /// any start: its repository's claim, the limits, a drain or a pause),
    /// or `None` when it may.
    fn start_held_back(&self, job: &crate::model::Job) -> anyhow::Result<Option<String>> {
        let Some(project) = job.project.as_deref() else {
            return Ok(None);
        };
        let mut state = self.journal.scheduler_state_for(&self.config)?;
        let holds = self.holds();
        state.draining = holds.draining;
        state.paused = holds.paused;
        Ok(crate::scheduler::room_to_start(&state, &self.config, project).map(|(_, why)| why))
    }

    /// Marks job `id`'s review item `conflict` (its branch against the
    /// base, in `files`), with an event; what it says.
    fn conflicted(
        &mut self,
        id: i64,
        branch: &str,
        base: &str,
        files: &[String],
        now: Timestamp,
    ) -> anyhow::Result<String> {
        let why = format!(
            "{branch} conflicts with {base} in {}; the base is unchanged",
            files.join(", ")
        );
        self.journal
            .set_review_state(id, crate::model::ReviewState::Conflict, &why, now)?;
        Ok(why)
    }
}
