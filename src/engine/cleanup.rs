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
    if !git.has_branch(branch) {
        return Ok(());
    }
    git.run(&["branch", "-D", "--quiet", branch]).map(|_| ())
}

/// One thing `clean` removes (or would).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Removal {
    pub job: i64,
    pub project: String,
    /// The machine the worktree and branch are on (`local`: this one).
    pub host: String,
    /// How that machine is reached.
    #[serde(skip)]
    pub place: Place,
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
/// What `clean` found to remove, and the hosts it could not look at.
#[derive(Debug, Default)]
pub struct Plan {
    pub removals: Vec<Removal>,
    /// Each host that could not be reached, and why: nothing there was
    /// looked at or removed.
    pub unreached: Vec<(String, String)>,
}

/// A job whose worktree and branch on a host may go, before the host is
/// asked what is there.
struct Candidate {
    job: i64,
    project: crate::model::Project,
    why: String,
    keep_branches: bool,
}

pub fn plan(
    journal: &Journal,
    config: &Config,
    home: &Home,
    now: Timestamp,
) -> anyhow::Result<Plan> {
    let mut out = Vec::new();
    let mut on_hosts: std::collections::BTreeMap<String, Vec<Candidate>> = Default::default();
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
            if !project.host.is_local() {
                on_hosts
                    .entry(project.host.as_str().to_string())
                    .or_default()
                    .push(Candidate {
                        job: job.id,
                        project,
                        why,
                        keep_branches: settings.keep_branches,
                    });
                continue;
            }
            let has_branch = Git::at(&project.path).has_branch(&branch);
            let branch_goes = has_branch && !settings.keep_branches;
            if !worktree.exists() && !branch_goes {
                continue;
            }
            out.push(Removal {
                job: job.id,
                project: project_name,
                host: crate::model::HostName::local().as_str().to_string(),
                place: Place::Local,
                worktree: worktree.exists().then_some(worktree),
                branch: branch_goes.then_some(branch),
                why,
                outcome: String::new(),
            });
        }
    }
    let mut unreached = Vec::new();
    if !on_hosts.is_empty() {
        let hosts = config.hosts_with(journal.hosts()?);
        for (name, candidates) in on_hosts {
            match plan_on_host(home, config, &hosts, &name, candidates) {
                Ok(removals) => out.extend(removals),
                Err(e) => unreached.push((name, e)),
            }
        }
    }
    out.sort_by_key(|r| r.job);
    Ok(Plan {
        removals: out,
        unreached,
    })
}

/// The removals of `candidates` on host `name`: what is there is asked
/// in one round trip ([`crate::remote::commands::clean_inventory`]).
fn plan_on_host(
    home: &Home,
    config: &Config,
    hosts: &[crate::model::Host],
    name: &str,
    candidates: Vec<Candidate>,
) -> Result<Vec<Removal>, String> {
    let host = hosts
        .iter()
        .find(|h| h.name.as_str() == name)
        .ok_or_else(|| format!("host {name} is not known (switchboard host list)"))?;
    let ssh = crate::remote::Ssh::for_host(home, host).map_err(|e| e.to_string())?;
    let remote =
        crate::runtime::RemoteTmux::new(home, name, ssh.clone(), config.tmux.history_limit);
    let worktrees = remote.dir().map_err(|e| e.to_string())?.join("worktrees");
    let mut repos: Vec<PathBuf> = Vec::new();
    for c in &candidates {
        if !repos.contains(&c.project.path) {
            repos.push(c.project.path.clone());
        }
    }
    let repo_refs: Vec<&Path> = repos.iter().map(PathBuf::as_path).collect();
    let out = ssh
        .run(&crate::remote::commands::clean_inventory(
            &worktrees, &repo_refs,
        ))
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut have_worktree = std::collections::HashSet::new();
    let mut have_branch = std::collections::HashSet::new();
    for line in text.lines() {
        let mut words = line.splitn(3, ' ');
        match (words.next(), words.next(), words.next()) {
            (Some("W"), Some(dir), None) => {
                have_worktree.insert(dir.to_string());
            }
            (Some("B"), Some(index), Some(branch)) => {
                have_branch.insert((index.to_string(), branch.to_string()));
            }
            _ => {}
        }
    }
    let place = Place::Host(std::sync::Arc::new(ssh));
    let mut removals = Vec::new();
    for c in candidates {
        let index = repos
            .iter()
            .position(|r| *r == c.project.path)
            .unwrap_or(usize::MAX)
            .to_string();
        let branch = format!("switchboard/{}", c.job);
        let dir = format!("job-{}", c.job);
        let has_worktree = have_worktree.contains(&dir);
        let branch_goes = !c.keep_branches && have_branch.contains(&(index, branch.clone()));
        if !has_worktree && !branch_goes {
            continue;
        }
        removals.push(Removal {
            job: c.job,
            project: c.project.name.clone(),
            host: name.to_string(),
            place: place.clone(),
            worktree: has_worktree.then(|| worktrees.join(&dir)),
            branch: branch_goes.then_some(branch),
            why: c.why,
            outcome: String::new(),
        });
    }
    Ok(removals)
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
            let (removed, words) = remove_if_clean(&removal.place, &project.path, worktree, force);
            gone = removed;
            said.push(words);
        }
        if let Some(branch) = &removal.branch {
            if gone {
                said.push(match delete_branch(&removal.place, &project.path, branch) {
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
