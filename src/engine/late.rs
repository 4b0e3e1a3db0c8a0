//! Work after "done". An operator may attach to a done job and give its
//! agent more to do; the agent edits the worktree and reports done again.
//! That work is committed on the job's branch and the review item
//! refreshed (its diff stat, back to ready), so approve merges it too.

use super::Engine;
use crate::model::Timestamp;
use crate::workspace::{commit_all_on, diff_stat_on};

impl Engine {
    /// Commits the late work of every done job whose agent reported done
    /// again since its review item was last refreshed.
    pub(super) fn commit_late_work(&mut self) -> anyhow::Result<()> {
        for id in self.journal.late_done_reports()? {
            let committed = self.commit_left_over(id, "the agent reported done again")?;
            if committed.is_none() {
                // Nothing new: the report is answered all the same, so it
                // is not looked at again.
                let (item, _) = self
                    .journal
                    .review_with_project(id)?
                    .ok_or_else(|| anyhow::anyhow!("job #{id} has nothing in review"))?;
                let state = crate::model::ReviewState::parse(&item.state).ok_or_else(|| {
                    anyhow::anyhow!(
                        "job #{id}'s review item is in a state this version does not know: {}",
                        crate::untrusted::visible(&item.state)
                    )
                })?;
                self.journal.set_review_state(
                    id,
                    state,
                    "the agent reported done again; nothing new to commit",
                    Timestamp::now(),
                )?;
            }
        }
        Ok(())
    }

    /// Commits what is left uncommitted in job `id`'s worktree and, when
    /// there was something, refreshes its review item (diff stat, ready).
    /// Returns the new commit, if one was made.
    pub(super) fn commit_left_over(
        &mut self,
        id: i64,
        why: &str,
    ) -> anyhow::Result<Option<String>> {
        let (item, project) = self
            .journal
            .review_with_project(id)?
            .ok_or_else(|| anyhow::anyhow!("job #{id} has nothing in review"))?;
        // On a host, the worktree is the attempt's there, and git runs there.
        let runtime = self.runtime_for(Some(&project.host))?;
        let worktree = self.worktrees_of(&runtime)?.join(format!("job-{id}"));
        if !runtime.place.exists(&worktree)? {
            return Ok(None);
        }
        let job = self
            .journal
            .job(id)?
            .ok_or_else(|| anyhow::anyhow!("no job #{id}"))?;
        let message = format!("switchboard: job #{id}: {} (after done)", job.title);
        let Some(commit) = commit_all_on(&runtime.place, &worktree, &message).map_err(|e| {
            anyhow::anyhow!("cannot commit the work left in {}: {e}", worktree.display())
        })?
        else {
            return Ok(None);
        };
        let attempt = self
            .journal
            .attempts(id)?
            .into_iter()
            .rev()
            .find(|a| a.branch.as_deref() == Some(item.branch.as_str()));
        let base = attempt
            .as_ref()
            .and_then(|a| a.base_commit.clone())
            .unwrap_or_else(|| project.base_branch.clone());
        let number = attempt.map_or(1, |a| a.number);
        let stat = diff_stat_on(&runtime.place, &project.path, &base, &item.branch)?;
        self.journal.add_review_item(
            id,
            number,
            &project.name,
            &item.branch,
            stat,
            Some(&commit),
            Timestamp::now(),
        )?;
        tracing::info!(job = id, "{why}: committed {commit} on {}", item.branch);
        Ok(Some(commit))
    }
}
