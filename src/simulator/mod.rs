//! `switchboard simulate`: the scheduler replayed on a virtual clock.
//!
//! The same `admit`, `decide` and `apply` as the engine run against a
//! simulated runtime in which agents take the time the scenario says and
//! fail where it says. Input is read a line at a time and finished jobs are
//! forgotten, so memory stays flat however long the scenario is.

mod journal_replay;
mod scenario;
mod summary;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::BufRead;

pub use journal_replay::replay_journal;
pub use scenario::{AgentRule, Line, parse_line};
pub use summary::Summary;

use crate::config::Config;
use crate::model::Timestamp;
use crate::scheduler::{
    Action, AfterError, AfterState, Arrival, Decision, HostLimits, Pending, ProjectLimits, State,
    check_after, pass,
};

/// Why a simulation stopped.
#[derive(Debug, thiserror::Error)]
pub enum SimulateError {
    #[error("scenario line {line}: {reason}")]
    Line { line: u64, reason: String },
    #[error("reading the scenario: {0}")]
    Read(#[from] std::io::Error),
    #[error("{0}")]
    Other(String),
}

/// An agent's end, due at a virtual time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct AgentEnd {
    at: Timestamp,
    seq: u64,
    job: i64,
    attempt: u32,
    fails: bool,
}

/// A simulation in progress.
pub struct Simulation {
    pub state: State,
    config: Config,
    overlay: toml::Table,
    rules: Vec<AgentRule>,
    clock: Option<Timestamp>,
    ends: BinaryHeap<Reverse<AgentEnd>>,
    /// Ends that came while their host was unreachable: seen when it is
    /// back.
    unseen: Vec<AgentEnd>,
    wake: Option<Timestamp>,
    seq: u64,
    pub summary: Summary,
}

impl Simulation {
    pub fn new(seed: u64) -> Result<Simulation, SimulateError> {
        let mut state = State::new();
        state.seed = seed;
        Ok(Simulation {
            state,
            config: Config::builtin().map_err(|e| SimulateError::Other(e.to_string()))?,
            overlay: toml::Table::new(),
            rules: vec![AgentRule::default()],
            clock: None,
            ends: BinaryHeap::new(),
            unseen: Vec::new(),
            wake: None,
            seq: 0,
            summary: Summary::default(),
        })
    }

    /// Starts from the operator's config (the home's config.toml as a
    /// table); scenario config lines are laid over it.
    pub fn with_config(mut self, table: toml::Table) -> Result<Self, SimulateError> {
        self.feed(Line::Config(table), &mut |_| {})
            .map_err(SimulateError::Other)?;
        Ok(self)
    }

    /// Runs a whole scenario, giving every decision to `out`.
    pub fn run(
        &mut self,
        input: impl BufRead,
        out: &mut impl FnMut(&Decision),
    ) -> Result<(), SimulateError> {
        for (i, line) in input.lines().enumerate() {
            let number = i as u64 + 1;
            let line = line?;
            let parsed = parse_line(&line).map_err(|reason| SimulateError::Line {
                line: number,
                reason,
            })?;
            self.feed(parsed, out)
                .map_err(|reason| SimulateError::Line {
                    line: number,
                    reason,
                })?;
        }
        self.finish(out).map_err(SimulateError::Other)
    }

    /// Takes one scenario line.
    pub fn feed(&mut self, line: Line, out: &mut impl FnMut(&Decision)) -> Result<(), String> {
        match line {
            Line::Nothing => Ok(()),
            Line::Config(table) => {
                crate::config::overlay(&mut self.overlay, table);
                self.config =
                    Config::from_table(self.overlay.clone()).map_err(|e| e.to_string())?;
                for project in self
                    .config
                    .routing
                    .accounts
                    .values()
                    .chain(self.config.routing.jira.values())
                {
                    self.state
                        .projects
                        .entry(project.clone())
                        .or_insert(ProjectLimits::local(1));
                }
                // Hosts as the config has them, each keeping whether it
                // was found unreachable.
                let mut hosts = std::collections::BTreeMap::new();
                for host in self.config.hosts() {
                    let unreachable = self
                        .state
                        .hosts
                        .get(&host.name)
                        .is_some_and(|h| h.unreachable);
                    let limits = HostLimits {
                        max_agents: host.max_agents,
                        unreachable,
                    };
                    hosts.insert(host.name, limits);
                }
                self.state.hosts = hosts;
                Ok(())
            }
            Line::Project {
                name,
                max_agents,
                host,
            } => {
                let limits = match host {
                    None => ProjectLimits::local(max_agents),
                    Some(host) => ProjectLimits { max_agents, host },
                };
                self.state.projects.insert(name, limits);
                Ok(())
            }
            Line::Host {
                at,
                host,
                reachable,
            } => {
                if let Some(at) = at {
                    self.advance_to(at, out)?;
                }
                let clock = self.clock.unwrap_or(Timestamp::from_millis(0));
                let now = at.map_or(clock, |at| at.max(clock));
                let Some(limits) = self.state.hosts.get_mut(&host) else {
                    return Err(format!(
                        "no host {host}; give it under \"config\": {{\"hosts\": …}} first"
                    ));
                };
                limits.unreachable = !reachable;
                if reachable {
                    // What ended meanwhile is seen now.
                    for end in std::mem::take(&mut self.unseen) {
                        self.ends.push(Reverse(AgentEnd {
                            at: end.at.max(now),
                            ..end
                        }));
                    }
                    self.advance_to(now, out)?;
                }
                self.pass(now, out)
            }
            Line::Agent(rule) => {
                if rule.matches.is_none() {
                    self.rules[0] = rule;
                } else {
                    self.rules.push(rule);
                }
                Ok(())
            }
            Line::Drain { at, on } => self.hold(at, out, |s| s.draining = on),
            Line::Pause { at, on } => self.hold(at, out, |s| s.paused = on),
            Line::Arrival { arrive, arrival } => self.arrive(arrive, arrival, out),
        }
    }

    /// A drain or a pause that begins or ends at `at` (else now): the
    /// pass that follows is at that time, as a host line's is.
    fn hold(
        &mut self,
        at: Option<Timestamp>,
        out: &mut impl FnMut(&Decision),
        set: impl FnOnce(&mut State),
    ) -> Result<(), String> {
        if let Some(at) = at {
            self.advance_to(at, out)?;
        }
        set(&mut self.state);
        let clock = self.clock.unwrap_or(Timestamp::from_millis(0));
        let now = at.map_or(clock, |at| at.max(clock));
        self.pass(now, out)
    }

    /// One arrival at `arrive` (else now).
    pub fn arrive(
        &mut self,
        arrive: Option<Timestamp>,
        arrival: Arrival,
        out: &mut impl FnMut(&Decision),
    ) -> Result<(), String> {
        let now = match (arrive, self.clock) {
            (Some(t), Some(c)) => t.max(c),
            (Some(t), None) => t,
            (None, Some(c)) => c,
            (None, None) => Timestamp::from_millis(0),
        };
        self.advance_to(now, out)?;
        let mut arrival = arrival;
        if let Arrival::Task { after, .. } = &mut arrival {
            self.check_after(after)?;
            // A job forgotten without being settled landed.
            after.retain(|id| {
                self.state.jobs.contains_key(id) || self.state.settled.contains_key(id)
            });
        }
        let routed = match &arrival {
            Arrival::Task { project, .. } => project.clone(),
            Arrival::Ticket(ticket) => ticket.project.clone(),
            Arrival::Alarm { .. } => None,
        };
        let default = Some(self.config.routing.default_project.clone()).filter(|p| !p.is_empty());
        for project in routed.into_iter().chain(default) {
            // Projects that a scenario names exist, one agent each, unless
            // a project line said otherwise.
            self.state
                .projects
                .entry(project)
                .or_insert(ProjectLimits::local(1));
        }
        self.summary.messages += 1;
        self.state.inbox.push_back(Pending { row: 0, arrival });
        self.pass(now, out)
    }

    /// The same rule as `dispatch --after`: every job waited for was
    /// created before (the simulator numbers jobs from 1 in the order it
    /// creates them), so a job can neither wait for itself nor close a
    /// cycle.
    fn check_after(&self, after: &[i64]) -> Result<(), String> {
        let next = self.state.next_job;
        check_after(None, after, |id| {
            (1..next).contains(&id).then(|| {
                self.state
                    .jobs
                    .get(&id)
                    .map(|j| j.after.clone())
                    .unwrap_or_default()
            })
        })
        .map(|_| ())
        .map_err(|e| match e {
            AfterError::Unknown(id) => format!(
                "there is no job #{id} yet to wait for: a job waits only for jobs created before it, so waits never form a cycle"
            ),
            e => e.to_string(),
        })
    }

    /// Runs the clock on until nothing more can happen.
    pub fn finish(&mut self, out: &mut impl FnMut(&Decision)) -> Result<(), String> {
        self.advance_to(Timestamp::from_millis(i64::MAX / 2), out)
    }

    /// Runs agent ends and wake-ups due up to `until`.
    fn advance_to(
        &mut self,
        until: Timestamp,
        out: &mut impl FnMut(&Decision),
    ) -> Result<(), String> {
        loop {
            let next_end = self.ends.peek().map(|Reverse(e)| e.at);
            let next = match (next_end, self.wake) {
                (Some(a), Some(b)) => a.min(b),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => return Ok(()),
            };
            if next > until {
                return Ok(());
            }
            self.clock = Some(next);
            while let Some(Reverse(end)) = self.ends.peek().copied() {
                if end.at > next {
                    break;
                }
                self.ends.pop();
                self.agent_ends(end);
            }
            self.pass(next, out)?;
        }
    }

    fn agent_ends(&mut self, end: AgentEnd) {
        let Some(job) = self.state.jobs.get(&end.job) else {
            return;
        };
        if !job.is_active() || job.attempts != end.attempt {
            return; // timed out or ended otherwise
        }
        if self.state.on_unreachable_host(job) {
            self.unseen.push(end);
            return;
        }
        let changed = self.state.change_job(end.job, |job| {
            job.state = if end.fails {
                job.state.fail("exit 1 (simulated)", end.at)
            } else {
                job.state.finish(end.at)
            }?;
            Ok::<_, crate::model::TransitionError>(())
        });
        self.summary.events += 1;
        if !end.fails && matches!(changed, Some(Ok(_))) {
            self.summary.done += 1;
            // Nothing is reviewed here: done is landed.
            self.state.land(end.job);
            self.state.drop_job(end.job);
        }
    }

    fn pass(&mut self, now: Timestamp, out: &mut impl FnMut(&Decision)) -> Result<(), String> {
        self.clock = Some(self.clock.map_or(now, |c| c.max(now)));
        let mut started: Vec<i64> = Vec::new();
        let mut gave_up: Vec<i64> = Vec::new();
        let mut opened: Vec<String> = Vec::new();
        let summary = &mut self.summary;
        let wake = pass(&mut self.state, &self.config, now, |applied| {
            summary.count(applied.state, applied.decision, applied.effects, now);
            match &applied.decision.action {
                Action::Start { job, .. } => started.push(*job),
                Action::GiveUp { job } => gave_up.push(*job),
                Action::OpenChain { account, .. } => opened.push(account.clone()),
                _ => {}
            }
            out(applied.decision);
        })
        .map_err(|e| e.to_string())?;
        for id in gave_up {
            self.state.settle(id, AfterState::Failed);
            self.state.drop_job(id);
        }
        // Memory stays flat: chains long closed are forgotten.
        for account in opened {
            self.state
                .prune_chains(&account, self.config.scheduler.chain_window);
        }
        for id in started {
            self.start_agent(id, now);
        }
        self.summary.max_concurrency = self.summary.max_concurrency.max(self.state.active() as u64);
        self.wake = wake;
        Ok(())
    }

    /// The simulated runtime: the agent comes up at once and ends when its
    /// rule says.
    fn start_agent(&mut self, id: i64, now: Timestamp) {
        let Some(job) = self.state.jobs.get(&id) else {
            return;
        };
        let rule = self
            .rules
            .iter()
            .skip(1)
            .rev()
            .find(|r| r.matches.as_deref().is_some_and(|m| job.title.contains(m)))
            .unwrap_or(&self.rules[0])
            .clone();
        let changed = self.state.change_job(id, |job| {
            job.state = job.state.run(now)?;
            Ok::<_, crate::model::TransitionError>(())
        });
        let attempt = match changed {
            Some(Ok(job)) => job.attempts,
            _ => return,
        };
        if rule.hang {
            return;
        }
        self.seq += 1;
        self.ends.push(Reverse(AgentEnd {
            at: now.plus(rule.duration),
            seq: self.seq,
            job: id,
            attempt,
            fails: attempt <= rule.fail_attempts,
        }));
    }
}

/// Runs a scenario, streaming decisions to `out`, and returns the summary.
pub fn simulate(
    input: impl BufRead,
    seed: u64,
    out: &mut impl FnMut(&Decision),
) -> Result<Summary, SimulateError> {
    let mut sim = Simulation::new(seed)?;
    sim.run(input, out)?;
    Ok(sim.summary)
}
