//! Approve for projects that deliver to a remote (`deliver = "push"` or
//! `"pr"`): the branch is brought up to date with the remote's base in its
//! worktree, pushed, and (for `pr`) a pull request is opened. Then the
//! engine follows it at the idle interval until it is merged there (the
//! job ends: its session, worktree and both branches go) or closed (the
//! operator decides).

use std::time::Instant;

use super::pull_request::{self, NewRequest, Tool};
use super::{Engine, pr_body};
use crate::config::{Deliver, ProjectSettings};
use crate::journal::ReviewView;
use crate::model::{
    DeliveryKind, DeliveryState, Job, Project, RemoteDelivery, ReviewState, Timestamp,
};
use crate::workspace::forge::ForgeRepo;
use crate::workspace::remote::{
    contains, delete_remote_branch, fetch_base, push_branch, remote_url, resolve_remote,
};
use crate::workspace::{Git, UpdateOutcome, bring_up_to_date, fast_forward_base};

impl Engine {
    /// Approve of a project that delivers to its remote.
    pub(super) fn deliver(
        &mut self,
        job: &Job,
        item: &ReviewView,
        project: &Project,
        settings: &ProjectSettings,
    ) -> anyhow::Result<String> {
        let id = job.id;
        // The repository's place: on a host, fetch, push and the forge's
        // tool run there, with its remotes and credentials.
        let runtime = self.runtime_for(Some(&project.host))?;
        let place = &runtime.place;
        let repo = &project.path;
        let base = &project.base_branch;
        let remote =
            resolve_remote(place, repo, settings.remote.as_deref()).map_err(anyhow::Error::msg)?;
        let forge = remote_url(place, repo, &remote)
            .ok()
            .and_then(|u| ForgeRepo::parse(&u));
        let onto = fetch_base(place, repo, &remote, base)?;
        let worktree = self.worktrees_of(&runtime)?.join(format!("job-{id}"));
        if !place.exists(&worktree)? {
            anyhow::bail!(
                "job #{id}'s worktree {} is gone; nothing was pushed",
                worktree.display()
            );
        }
        let squash_message = format!(
            "switchboard job #{id}: {}\n\nTask: {}",
            job.title,
            job.prompt.lines().take(20).collect::<Vec<_>>().join("\n")
        );
        let now = Timestamp::now();
        let mut notes = Vec::new();
        match bring_up_to_date(
            place,
            &worktree,
            &onto,
            settings.merge_strategy,
            &squash_message,
        )? {
            UpdateOutcome::Conflict { files } => {
                let why = format!(
                    "{} conflicts with {remote}/{base} in {}; nothing was pushed and the base is unchanged",
                    item.branch,
                    files.join(", ")
                );
                self.journal.set_review_state(
                    id,
                    crate::model::ReviewState::Conflict,
                    &why,
                    now,
                )?;
                return Ok(why);
            }
            UpdateOutcome::Updated { how } => notes.push(how),
            UpdateOutcome::AlreadyUpToDate => {}
        }
        push_branch(place, repo, &remote, &item.branch)?;
        let compare = forge
            .as_ref()
            .and_then(|f| f.compare_url(base, &item.branch));
        let pushed = |url: Option<String>| RemoteDelivery {
            kind: DeliveryKind::Push,
            remote: remote.clone(),
            url,
            state: DeliveryState::Open,
            checked_at: Some(now),
        };
        let delivery = match settings.deliver {
            Deliver::Pr => {
                let tool = Tool::for_remote(forge.as_ref());
                let open = item
                    .delivery
                    .clone()
                    .filter(|d| d.kind == tool.kind() && d.state == DeliveryState::Open)
                    .filter(|d| d.url.is_some());
                if !tool.installed(place)? {
                    notes.push(format!(
                        "{} is not on PATH{}, so no pull request was opened: pushed instead; {}",
                        tool.program(),
                        if runtime.is_remote() {
                            format!(" on host {}", project.host)
                        } else {
                            String::new()
                        },
                        match &compare {
                            Some(url) => format!("open one at {url}"),
                            None => format!("open one for {} on {remote}'s forge", item.branch),
                        }
                    ));
                    pushed(compare)
                } else if let Some(existing) = open {
                    notes.push("its open pull request now shows the new push".to_string());
                    RemoteDelivery {
                        checked_at: Some(now),
                        ..existing
                    }
                } else {
                    let url = self.open_request(
                        &runtime,
                        tool,
                        job,
                        item,
                        project,
                        &onto,
                        forge.as_ref(),
                    )?;
                    RemoteDelivery {
                        kind: tool.kind(),
                        remote: remote.clone(),
                        url: Some(url),
                        state: DeliveryState::Open,
                        checked_at: Some(now),
                    }
                }
            }
            Deliver::Push | Deliver::Merge => pushed(compare),
        };
        let mut why = format!("{} pushed to {remote}", item.branch);
        if let Some(url) = &delivery.url {
            why.push_str(&format!(" ({} {url})", delivery.kind.as_str()));
        }
        for note in notes {
            why.push_str("; ");
            why.push_str(&note);
        }
        why.push_str(&format!(
            "; the job ends once it is merged into {remote}/{base}"
        ));
        self.journal
            .set_delivery(id, &delivery, ReviewState::Delivered, &why, now)?;
        Ok(why)
    }

    /// Opens the pull request of a pushed branch (the tool run where the
    /// repository is); its URL.
    #[allow(clippy::too_many_arguments)]
    fn open_request(
        &mut self,
        runtime: &super::places::Runtime,
        tool: Tool,
        job: &Job,
        item: &ReviewView,
        project: &Project,
        onto: &str,
        forge: Option<&ForgeRepo>,
    ) -> anyhow::Result<String> {
        let details = self.journal.job_details(job.id)?;
        let (sources, events): (Vec<String>, _) = details
            .map(|d| (d.sources.into_iter().map(|o| o.what).collect(), d.events))
            .unwrap_or_default();
        let place = &runtime.place;
        let stat = Git::on(place, &project.path)
            .run(&[
                "diff",
                "--stat",
                &format!("{onto}...refs/heads/{}", item.branch),
            ])
            .unwrap_or_default();
        let body = pr_body::body(job, &project.name, &sources, &stat, &events);
        let title = pr_body::title(job);
        let worktree = self.worktrees_of(runtime)?.join(format!("job-{}", job.id));
        let body_file = crate::workspace::private_dir_on(place, &worktree)?.join("pull-request.md");
        pull_request::create(
            place,
            tool,
            &NewRequest {
                repo_dir: &project.path,
                repo: forge,
                base: &project.base_branch,
                branch: &item.branch,
                title: &title,
                body: &body,
                body_file: &body_file,
            },
        )
    }

    /// At the idle interval: looks at every delivered item on its remote.
    pub(super) fn follow_deliveries(&mut self) {
        let every = self.config.scheduler.idle_interval;
        if self.followed_at.is_some_and(|t| t.elapsed() < every) {
            return;
        }
        self.followed_at = Some(Instant::now());
        let items = match self.journal.delivered_review_items() {
            Ok(items) => items,
            Err(e) => {
                tracing::warn!("following deliveries: {e}");
                return;
            }
        };
        for item in items {
            if item.state != ReviewState::Delivered.as_str() {
                continue;
            }
            let Some(delivery) = item.delivery.clone() else {
                continue;
            };
            match self.follow(&item, delivery) {
                Ok(()) => {
                    self.follow_faults.remove(&item.job);
                }
                Err(e) => {
                    // Told once per new reason (an expired gh login, a
                    // remote away), not at every look.
                    let why = format!("cannot look at its delivery on the remote: {e:#}");
                    tracing::warn!(job = item.job, "{why}");
                    if self.follow_faults.get(&item.job) != Some(&why) {
                        let _ =
                            self.journal
                                .record_event(item.job, "fault", &why, Timestamp::now());
                        self.follow_faults.insert(item.job, why);
                    }
                }
            }
        }
    }

    fn follow(&mut self, item: &ReviewView, delivery: RemoteDelivery) -> anyhow::Result<()> {
        let id = item.job;
        let project = self
            .journal
            .project(&item.project)?
            .ok_or_else(|| anyhow::anyhow!("project {} is not registered", item.project))?;
        let runtime = self.runtime_for(Some(&project.host))?;
        let place = &runtime.place;
        let repo = &project.path;
        let state = match delivery.kind {
            DeliveryKind::Push => {
                let onto = fetch_base(place, repo, &delivery.remote, &project.base_branch)?;
                let tip = Git::on(place, repo).run(&[
                    "rev-parse",
                    "--verify",
                    &format!("refs/heads/{}", item.branch),
                ])?;
                if contains(place, repo, &onto, &tip) {
                    DeliveryState::Merged
                } else {
                    DeliveryState::Open
                }
            }
            DeliveryKind::Pr | DeliveryKind::Mr => {
                let tool = if delivery.kind == DeliveryKind::Pr {
                    Tool::Gh
                } else {
                    Tool::Glab
                };
                let forge = remote_url(place, repo, &delivery.remote)
                    .ok()
                    .and_then(|u| ForgeRepo::parse(&u));
                let url = delivery.url.clone().unwrap_or_default();
                pull_request::state(place, tool, repo, &url, &item.branch, forge.as_ref())?.0
            }
        };
        let now = Timestamp::now();
        match state {
            DeliveryState::Open => self.journal.delivery_checked(id, now)?,
            DeliveryState::Merged => self.merged_on_remote(item, &project, delivery, now)?,
            DeliveryState::Closed => {
                let why = format!(
                    "the {} {} was closed without a merge; approve delivers it again, reject sends it back to the agent",
                    match delivery.kind {
                        DeliveryKind::Mr => "merge request",
                        _ => "pull request",
                    },
                    delivery.url.as_deref().unwrap_or(&item.branch)
                );
                let closed = RemoteDelivery {
                    state: DeliveryState::Closed,
                    checked_at: Some(now),
                    ..delivery
                };
                self.journal
                    .set_delivery(id, &closed, ReviewState::Closed, &why, now)?;
            }
        }
        Ok(())
    }

    /// The delivered work is merged on the remote: the job ends. Its
    /// session stops, its worktree goes, and its branch goes here and
    /// there (unless `keep_branches`).
    fn merged_on_remote(
        &mut self,
        item: &ReviewView,
        project: &Project,
        delivery: RemoteDelivery,
        now: Timestamp,
    ) -> anyhow::Result<()> {
        let id = item.job;
        if let Some(a) = self.journal.job(id)?.and_then(|j| j.state.attempt()) {
            let _ = self.end_session(id, a);
        }
        let keep = self.config.project(&project.name).keep_branches;
        let runtime = self.runtime_for(Some(&project.host))?;
        let place = &runtime.place;
        let worktree = self.worktrees_of(&runtime)?.join(format!("job-{id}"));
        let local =
            super::cleanup::after_merge_on(place, &project.path, &worktree, &item.branch, keep);
        let there = if keep {
            format!("the branch stays on {} (keep_branches)", delivery.remote)
        } else {
            match delete_remote_branch(place, &project.path, &delivery.remote, &item.branch) {
                Ok(()) => format!("the branch was deleted on {}", delivery.remote),
                Err(e) => format!("the branch stays on {}: {e}", delivery.remote),
            }
        };
        // The local base follows the remote's when it can, so work that
        // starts next (a job waiting `--after` this one) is cut from it.
        let base = &project.base_branch;
        let forward = fetch_base(place, &project.path, &delivery.remote, base)
            .and_then(|onto| fast_forward_base(place, &project.path, base, &onto))
            .unwrap_or_else(|e| format!("the local {base} was left as it is: {e}"));
        let why = format!(
            "{} merged into {}/{base}{}; {forward}; {local}; {there}",
            item.branch,
            delivery.remote,
            delivery
                .url
                .as_deref()
                .map(|u| format!(" ({u})"))
                .unwrap_or_default()
        );
        let merged = RemoteDelivery {
            state: DeliveryState::Merged,
            checked_at: Some(now),
            ..delivery
        };
        self.journal
            .set_delivery(id, &merged, ReviewState::Merged, &why, now)
            .map_err(Into::into)
    }
}

/// The ref a conflict sent back is resolved against: the remote's base
/// for projects that deliver there (fetched now), else the local base.
pub(super) fn conflict_base(
    place: &crate::workspace::Place,
    project: &Project,
    settings: &ProjectSettings,
) -> anyhow::Result<String> {
    if settings.deliver == Deliver::Merge {
        return Ok(project.base_branch.clone());
    }
    let remote = resolve_remote(place, &project.path, settings.remote.as_deref())
        .map_err(anyhow::Error::msg)?;
    Ok(fetch_base(
        place,
        &project.path,
        &remote,
        &project.base_branch,
    )?)
}
