//! Where agents run: the engine's own machine (`local`) and every remote
//! host, each with its tmux server, its control client and its place for
//! git. A job runs where its project lives.
//!
//! Each pass lists the sessions of every host; a host that cannot be
//! reached is marked unreachable (since when, in the journal) and its
//! jobs are left as they are: not patrolled, not restarted, not counted
//! dead, nothing new started there. When it answers again its sessions
//! are listed like any others, and the patrol re-adopts them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::Engine;
use crate::model::{Host, HostName, Job, Reachability, Timestamp};
use crate::remote::Ssh;
use crate::runtime::{ControlClient, RemoteTmux, SessionInfo, TmuxServer};
use crate::workspace::Place;

/// How an agent is reached: its server, control client and git place.
#[derive(Clone)]
pub(super) struct Runtime {
    pub server: TmuxServer,
    pub control: Arc<ControlClient>,
    pub place: Place,
    /// `None` for the engine's own machine.
    pub host: Option<HostName>,
}

impl Runtime {
    pub fn is_remote(&self) -> bool {
        self.host.is_some()
    }

    /// Switchboard's private directory on the host (worktrees live there).
    pub fn remote_dir(&self) -> anyhow::Result<Option<std::path::PathBuf>> {
        Ok(match self.server.remote() {
            Some(remote) => Some(remote.dir()?),
            None => None,
        })
    }
}

/// A remote host the engine talks to.
pub(super) struct HostPlace {
    pub host: Host,
    pub runtime: Runtime,
}

/// The engine's remote hosts, and which could not be reached this pass.
#[derive(Default)]
pub(super) struct Places {
    pub hosts: HashMap<HostName, HostPlace>,
    pub unreachable: HashSet<HostName>,
    /// What the journal was last told of each host (reachable or not), so
    /// that it is written only on a change.
    pub told: HashMap<HostName, bool>,
    /// When a host out of reach is tried again: trying costs up to the
    /// connect timeout, which every pass would otherwise wait out.
    pub retry_at: HashMap<HostName, std::time::Instant>,
}

/// How long a host out of reach is left before it is tried again.
const RETRY_UNREACHABLE: std::time::Duration = std::time::Duration::from_secs(10);

impl Engine {
    /// Brings the hosts in line with the journal and the config (a host
    /// added while the engine runs is taken up; a changed address or key
    /// gets a new transport).
    pub(super) fn refresh_hosts(&mut self) -> anyhow::Result<()> {
        let known = self.config.hosts_with(self.journal.hosts()?);
        let names: HashSet<HostName> = known.iter().map(|h| h.name.clone()).collect();
        self.places.hosts.retain(|name, _| names.contains(name));
        for host in known {
            if self
                .places
                .hosts
                .get(&host.name)
                .is_some_and(|p| p.host == host)
            {
                continue;
            }
            let ssh = Ssh::for_host(&self.home, &host)?;
            let server = TmuxServer::on_host(RemoteTmux::new(
                &self.home,
                host.name.as_str(),
                ssh.clone(),
                self.config.tmux.history_limit,
            ));
            let runtime = Runtime {
                control: Arc::new(ControlClient::new(server.clone())),
                server,
                place: Place::Host(Arc::new(ssh)),
                host: Some(host.name.clone()),
            };
            self.places
                .hosts
                .insert(host.name.clone(), HostPlace { host, runtime });
        }
        Ok(())
    }

    /// The runtime of `host` (`local` or `None`: this machine).
    pub(super) fn runtime_for(&self, host: Option<&HostName>) -> anyhow::Result<Runtime> {
        match host {
            None => Ok(self.local_runtime()),
            Some(h) if h.is_local() => Ok(self.local_runtime()),
            Some(h) => self
                .places
                .hosts
                .get(h)
                .map(|p| p.runtime.clone())
                .ok_or_else(|| anyhow::anyhow!("host {h} is not known (switchboard host list)")),
        }
    }

    fn local_runtime(&self) -> Runtime {
        Runtime {
            server: self.server.clone(),
            control: Arc::clone(&self.control),
            place: Place::Local,
            host: None,
        }
    }

    /// The switchboard program agents of `runtime` run (`{switchboard}`
    /// in a profile): this very binary here, `switchboard` on the host's
    /// PATH there (installed as the README says).
    pub(super) fn switchboard_for(&self, runtime: &Runtime) -> std::path::PathBuf {
        if runtime.is_remote() {
            std::path::PathBuf::from("switchboard")
        } else {
            self.me.clone()
        }
    }

    /// Where the worktrees of `runtime`'s agents are: the home's
    /// `worktrees/` here, `…/worktrees` in switchboard's directory on a host.
    pub(super) fn worktrees_of(&self, runtime: &Runtime) -> anyhow::Result<std::path::PathBuf> {
        Ok(match runtime.remote_dir()? {
            Some(dir) => dir.join("worktrees"),
            None => self.home.worktrees(),
        })
    }

    /// The host of a job's project (`None`: this machine).
    pub(super) fn host_of(&self, job: &Job) -> anyhow::Result<Option<HostName>> {
        let Some(project) = job.project.as_deref() else {
            return Ok(None);
        };
        Ok(self
            .project_named(project)?
            .map(|p| p.host)
            .filter(|h| !h.is_local()))
    }

    /// The runtime of the agent of `job`.
    pub(super) fn runtime_of(&self, job: &Job) -> anyhow::Result<Runtime> {
        self.runtime_for(self.host_of(job)?.as_ref())
    }

    /// Whether `job`'s agent is out of the engine's reach this pass: its
    /// host could not be reached, its tmux failed, or the host is no
    /// longer known (its entry removed while the agent ran). Such agents
    /// are left as they are, never counted dead.
    pub(super) fn out_of_reach(&self, job: &Job) -> anyhow::Result<bool> {
        Ok(self.host_of(job)?.is_some_and(|h| {
            self.places.unreachable.contains(&h) || !self.places.hosts.contains_key(&h)
        }))
    }

    /// The sessions of every remote host, over each one's control client;
    /// a host that cannot be reached is marked so (and its reports read
    /// from the panes journaled).
    pub(super) fn remote_sessions(&mut self) -> anyhow::Result<Vec<SessionInfo>> {
        let mut all = Vec::new();
        let mut unreachable = HashSet::new();
        let mut results = Vec::new();
        for (name, place) in &self.places.hosts {
            if self
                .places
                .retry_at
                .get(name)
                .is_some_and(|at| std::time::Instant::now() < *at)
            {
                unreachable.insert(name.clone());
                continue;
            }
            results.push((name.clone(), place.runtime.control.sessions()));
        }
        for (name, result) in results {
            let now = Timestamp::now();
            match result {
                Ok(sessions) => {
                    if self.places.told.get(&name) != Some(&true) {
                        tracing::info!("host {name} reachable");
                        self.journal.set_host_reachability(
                            &name,
                            &Reachability::Reachable { since: now },
                            now,
                        )?;
                        self.places.told.insert(name.clone(), true);
                    }
                    self.places.retry_at.remove(&name);
                    all.extend(sessions);
                }
                // Out of reach, or the host answers but its tmux does not:
                // either way that host's trouble, set aside so the engine
                // goes on with every other place.
                Err(e) => {
                    self.mark_unreachable(&name, &e, now)?;
                    unreachable.insert(name);
                }
            }
        }
        self.places.unreachable = unreachable;
        self.take_pane_reports(&all)?;
        Ok(all)
    }

    /// Sets a host aside after a failure: tried again later when out of
    /// reach, told to the journal once.
    fn mark_unreachable(
        &mut self,
        name: &HostName,
        e: &crate::runtime::TmuxError,
        now: Timestamp,
    ) -> anyhow::Result<()> {
        if e.is_unreachable() {
            self.places
                .retry_at
                .insert(name.clone(), std::time::Instant::now() + RETRY_UNREACHABLE);
        }
        if self.places.told.get(name) != Some(&false) {
            tracing::warn!("host {name} unreachable: {e}");
            self.journal.set_host_reachability(
                name,
                &Reachability::Unreachable {
                    since: now,
                    error: e.to_string(),
                },
                now,
            )?;
            self.places.told.insert(name.clone(), false);
        }
        Ok(())
    }

    /// After a failure met on `host` (a start): whether the host is out of
    /// reach now. If so it is set aside as a pass would.
    pub(super) fn host_dropped(&mut self, host: &HostName) -> anyhow::Result<bool> {
        let Some(place) = self.places.hosts.get(host) else {
            return Ok(false);
        };
        match place.runtime.control.sessions() {
            Err(e) if e.is_unreachable() => {
                self.mark_unreachable(host, &e, Timestamp::now())?;
                self.places.unreachable.insert(host.clone());
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}
