//! What becomes of worktrees and branches: removed after a merge (the
//! branch too, unless `keep_branches`), and, for killed and failed jobs,
//! after `keep_failed`. Nothing with uncommitted changes is removed unless
//! forced. The engine cleans after each merge and once an hour; `switchboard
//! clean` does the same on demand and can say what it would do first.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::config::Config;
use crate::home::Home;
use crate::journal::{JobFilter, Journal};
use crate::model::{StateName, Timestamp};
use crate::workspace::{Git, Place, remove_worktree_on, uncommitted_on};

/// After a merge: the worktree goes when nothing in it is uncommitted,
/// then the branch (unless kept). Says what happened, for the event.
pub fn after_merge(repo: &Path, worktree: &Path, branch: &str, keep_branch: bool) -> String {
    after_merge_on(&Place::Local, repo, worktree, branch, keep_branch)
}

/// [`after_merge`] at `place` (on a host: its worktree and branch there).
pub fn after_merge_on(
    place: &Place,
    repo: &Path,
    worktree: &Path,
    branch: &str,
    keep_branch: bool,
) -> String {
    let (gone, worktree_fate) = remove_if_clean(place, repo, worktree, false);
    let branch_fate = if keep_branch {
        format!("the branch {branch} is kept (keep_branches)")
    } else if !gone {
        format!("the branch {branch} stays with its worktree")
    } else {
        match delete_branch(place, repo, branch) {
            Ok(()) => format!("the branch {branch} was deleted"),
            Err(e) => format!("the branch {branch} stays: {e}"),
        }
    };
    format!("{worktree_fate}; {branch_fate}")
}

/// Removes `worktree` when it holds nothing uncommitted (or `force`):
/// whether it is gone now, and what happened in words.
fn remove_if_clean(place: &Place, repo: &Path, worktree: &Path, force: bool) -> (bool, String) {
    match place.exists(worktree) {
        Ok(false) => return (true, "its worktree was already gone".to_string()),
        Ok(true) => {}
        Err(e) => {
            return (
                false,
                format!("its worktree {} stays: {e}", worktree.display()),
            );
        }
    }
    match uncommitted_on(place, worktree) {
        Ok(left) if !left.is_empty() && !force => (
            false,
            format!(
                "its worktree {} stays: uncommitted {}",
                worktree.display(),
                left.join(", ")
            ),
        ),
        Err(e) if !force => (
            false,
            format!("its worktree {} stays: {e}", worktree.display()),
        ),
        _ => match remove_worktree_on(place, repo, worktree) {
            Ok(()) => (true, "its worktree was removed".to_string()),
            Err(e) => (
                false,
                format!("its worktree {} stays: {e}", worktree.display()),
            ),
        },
    }
}

/// Deletes a branch of the repository (already merged, or given up).
fn delete_branch(
    place: &Place,
    repo: &Path,
    branch: &str,
) -> Result<(), crate::workspace::GitError> {
    let git = Git::on(place, repo);
    if git
        .run(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("refs/heads/{branch}"),
        ])
        .is_err()
    {
        return Ok(());
    }
    git.run(&["branch", "-D", "--quiet", branch]).map(|_| ())
}

/// One thing `clean` removes (or would).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Removal {
    pub job: i64,
    pub project: String,
    /// The worktree, when there is one to remove.
    pub worktree: Option<PathBuf>,
    /// The branch, when it goes too.
    pub branch: Option<String>,
    /// Why it may go.
    pub why: String,
    /// What was done (empty on a dry run): "removed", or why it stays.
    pub outcome: String,
}

/// What may be removed now: worktrees and branches of merged jobs left
/// behind, and worktrees of killed and failed jobs past `keep_failed`.
pub fn plan(
    journal: &Journal,
    config: &Config,
    home: &Home,
    now: Timestamp,
) -> anyhow::Result<Vec<Removal>> {
    let mut out = Vec::new();
    for state in [StateName::Done, StateName::Killed, StateName::Failed] {
        for job in journal.jobs(&JobFilter { state: Some(state) })? {
            let Some(project_name) = job.project.clone() else {
                continue;
            };
            let worktree = home.worktrees().join(format!("job-{}", job.id));
            let branch = format!("switchboard/{}", job.id);
            let settings = config.project(&project_name);
            let why = match state {
                StateName::Done => {
                    let merged = journal
                        .review_with_project(job.id)?
                        .is_some_and(|(item, _)| item.state == "merged");
                    if !merged {
                        continue;
                    }
                    "its work was merged".to_string()
                }
                _ => {
                    // A failed job the scheduler will retry is not over.
                    if state == StateName::Failed && job.reason.is_none() {
                        continue;
                    }
                    let age = now.since(job.state.since());
                    if age < settings.keep_failed {
                        continue;
                    }
                    format!(
                        "{} {} ago (keep_failed {})",
                        state.as_str(),
                        humantime::format_duration(round(age)),
                        humantime::format_duration(settings.keep_failed)
                    )
                }
            };
            let Some(project) = journal.project(&project_name)? else {
                continue;
            };
            let has_branch = Git::at(&project.path)
                .run(&[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    &format!("refs/heads/{branch}"),
                ])
                .is_ok();
            let branch_goes = has_branch && !settings.keep_branches;
            if !worktree.exists() && !branch_goes {
                continue;
            }
            out.push(Removal {
                job: job.id,
                project: project_name,
                worktree: worktree.exists().then_some(worktree),
                branch: branch_goes.then_some(branch),
                why,
                outcome: String::new(),
            });
        }
    }
    Ok(out)
}

/// Carries out `plan`: each removal's outcome filled in.
pub fn carry_out(journal: &Journal, plan: &mut [Removal], force: bool) -> anyhow::Result<()> {
    for removal in plan {
        let Some(project) = journal.project(&removal.project)? else {
            removal.outcome = "its project is no longer registered".into();
            continue;
        };
        let mut gone = true;
        let mut said = Vec::new();
        if let Some(worktree) = &removal.worktree {
            let (removed, words) = remove_if_clean(&Place::Local, &project.path, worktree, force);
            gone = removed;
            said.push(words);
        }
        if let Some(branch) = &removal.branch {
            if gone {
                said.push(match delete_branch(&Place::Local, &project.path, branch) {
                    Ok(()) => format!("the branch {branch} was deleted"),
                    Err(e) => format!("the branch {branch} stays: {e}"),
                });
            } else {
                said.push(format!("the branch {branch} stays with its worktree"));
            }
        }
        removal.outcome = said.join("; ");
    }
    Ok(())
}

/// To the minute, for reading.
fn round(d: Duration) -> Duration {
    Duration::from_secs(d.as_secs() / 60 * 60)
}
