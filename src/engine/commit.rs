//! Committing a finished turn's work. The patrol journals the turn's end
//! (the job `done`, its review item `committing`) as soon as it knows it;
//! the work is committed after the patrol, so the operator never waits
//! for git to see that an agent finished. A commit that fails leaves the
//! job done and its item `uncommitted`, with the reason as its event:
//! approve tries the commit again, reject sends the work back.

use super::Engine;
use crate::model::{ReviewState, Timestamp};
use crate::workspace::{commit_work_on, diff_stat_on};

impl Engine {
    /// Commits the work of every job whose turn ended and whose review
    /// item is still `committing`: those the patrol finished this pass,
    /// those an agent's done report finished, and, on an engine's first
    /// pass, those a previous engine left so.
    pub(super) fn commit_finished_work(&mut self) -> anyhow::Result<()> {
        // Items finished outside this engine's patrol (an agent's done
        // report finishes its job where it is journaled; a previous engine
        // cut short) are looked for when another process has committed
        // since the last look: a pass with no news costs no query.
        let others = self.journal.data_version()?;
        if self.committing_seen != Some(others) {
            self.to_commit
                .extend(self.journal.committing_review_items()?);
            self.committing_seen = Some(others);
        }
        while let Some(id) = self.to_commit.pop_first() {
            if let Err(e) = self.commit_finished(id) {
                if super::fault::is_environmental(&e) {
                    // The journal or the disk: the pass stops, and the
                    // item is committed by a later one.
                    self.to_commit.insert(id);
                    return Err(e);
                }
                let why = format!(
                    "the work could not be committed: {e:#}; approve tries again, reject sends it back to the agent"
                );
                tracing::warn!(job = id, "{why}");
                self.journal.set_review_state(
                    id,
                    ReviewState::Uncommitted,
                    &why,
                    Timestamp::now(),
                )?;
            }
        }
        Ok(())
    }

    /// Commits everything in job `id`'s worktree on its branch and makes
    /// its review item ready with the diff stat against the attempt's base.
    pub(super) fn commit_finished(&mut self, id: i64) -> anyhow::Result<()> {
        let Some(item) = self.journal.review_item(id)? else {
            return Ok(());
        };
        let project = self
            .journal
            .project(&item.project)?
            .ok_or_else(|| anyhow::anyhow!("no project {}", item.project))?;
        let job = self
            .journal
            .job(id)?
            .ok_or_else(|| anyhow::anyhow!("no job #{id}"))?;
        let attempt = self
            .journal
            .attempts(id)?
            .into_iter()
            .rev()
            .find(|a| a.branch.as_deref() == Some(item.branch.as_str()))
            .ok_or_else(|| anyhow::anyhow!("job #{id} has no attempt on {}", item.branch))?;
        let worktree = attempt.worktree.clone().unwrap_or_default();
        let message = format!("switchboard: job #{id}: {}", job.title);
        let place = self.runtime_for(Some(&project.host))?.place;
        let began = std::time::Instant::now();
        commit_work_on(&place, std::path::Path::new(&worktree), &message)?;
        let stat = diff_stat_on(
            &place,
            &project.path,
            attempt.base_commit.as_deref().unwrap_or("HEAD"),
            &item.branch,
        )?;
        let head = crate::workspace::Git::on(&place, &project.path).run(&[
            "rev-parse",
            "--verify",
            &format!("refs/heads/{}^{{commit}}", item.branch),
        ])?;
        tracing::debug!(
            job = id,
            git_ms = began.elapsed().as_secs_f64() * 1e3,
            "committed"
        );
        self.journal.add_review_item(
            id,
            attempt.number,
            &project.name,
            &item.branch,
            stat,
            Some(&head),
            Timestamp::now(),
        )?;
        Ok(())
    }
}
