//! Admitting one arrival: tickets are deduplicated by key, alarms are
//! chained by account, and every new job is routed to a project.

use super::decision::{Action, Decision, JobSpec};
use super::state::{Arrival, Pending, State};
use crate::config::Config;
use crate::model::{AlarmState, JobKind, Timestamp, title_of};

/// The decisions for one arrival, against the state as it is.
pub fn admit(state: &State, pending: &Pending, config: &Config, now: Timestamp) -> Vec<Decision> {
    let decision = |action, reason: String| {
        vec![Decision {
            at: now,
            action,
            reason,
        }]
    };
    match &pending.arrival {
        Arrival::Task {
            project,
            prompt,
            title,
            priority,
            after,
        } => {
            let (project, unrouted) = route(project.clone(), None, config, || {
                "no project given".to_string()
            });
            let job = JobSpec {
                kind: JobKind::Task,
                project,
                unrouted,
                title: title.clone().unwrap_or_else(|| title_of(prompt)),
                prompt: prompt.clone(),
                priority: priority.unwrap_or(config.priorities.task),
                after: after.clone(),
            };
            let reason = format!(
                "task for {}",
                job.project.as_deref().unwrap_or("no project yet")
            );
            decision(Action::CreateJob { job }, reason)
        }
        Arrival::Ticket(ticket) => match state.tickets.get(&ticket.key) {
            Some(known) => {
                let (forward_to, note) = forwarding(state, known.job);
                let reason = format!("ticket {} updated{note}", ticket.key);
                decision(
                    Action::UpdateTicket {
                        key: ticket.key.clone(),
                        forward_to,
                    },
                    reason,
                )
            }
            None => {
                let prefix = ticket
                    .key
                    .split('-')
                    .next()
                    .unwrap_or(&ticket.key)
                    .to_string();
                let by_prefix = config.routing.jira.get(&prefix).cloned();
                let (project, unrouted) = route(ticket.project.clone(), by_prefix, config, || {
                    format!("no project for ticket prefix {prefix}")
                });
                let mut prompt = format!("Ticket {}: {}", ticket.key, ticket.title);
                if !ticket.body.trim().is_empty() {
                    prompt.push_str("\n\n");
                    prompt.push_str(&ticket.body);
                }
                let job = JobSpec {
                    kind: JobKind::Ticket,
                    project,
                    unrouted,
                    title: title_of(&format!("{}: {}", ticket.key, ticket.title)),
                    prompt,
                    priority: config.priorities.ticket,
                    after: Vec::new(),
                };
                let reason = format!(
                    "first message for ticket {}: one job for the key",
                    ticket.key
                );
                decision(
                    Action::OpenTicket {
                        key: ticket.key.clone(),
                        job,
                    },
                    reason,
                )
            }
        },
        Arrival::Alarm { alarm, at } => {
            let window = config.scheduler.chain_window;
            let chain = state.chain_for(&alarm.account, *at, window);
            match (alarm.state, chain) {
                (AlarmState::Alarm, Some(chain)) => {
                    let (forward_to, note) = forwarding(state, chain.job);
                    let mut reason = format!(
                        "{} in account {} is within {} of chain {}'s latest alarm",
                        alarm.name,
                        alarm.account,
                        humantime::format_duration(window),
                        chain.id
                    );
                    reason.push_str(&note);
                    decision(
                        Action::JoinChain {
                            chain: chain.id,
                            account: alarm.account.clone(),
                            alarm: alarm.name.clone(),
                            at: *at,
                            forward_to,
                        },
                        reason,
                    )
                }
                (AlarmState::Alarm, None) => {
                    let by_account = config.routing.accounts.get(&alarm.account).cloned();
                    let (project, unrouted) = route(None, by_account, config, || {
                        format!("no project for account {}", alarm.account)
                    });
                    let mut prompt = format!(
                        "Monitoring alarm {} in account {} went to ALARM at {at}.",
                        alarm.name, alarm.account
                    );
                    if let Some(why) = &alarm.reason {
                        prompt.push_str(&format!("\nReason: {why}"));
                    }
                    prompt.push_str("\nInvestigate the cause and fix it; more alarms of this account may follow.");
                    let job = JobSpec {
                        kind: JobKind::Incident,
                        project,
                        unrouted,
                        title: title_of(&format!("{} in {}", alarm.name, alarm.account)),
                        prompt,
                        priority: config.priorities.incident,
                        after: Vec::new(),
                    };
                    let reason = format!(
                        "{} in account {}: no chain of this account within {}, a new incident",
                        alarm.name,
                        alarm.account,
                        humantime::format_duration(window)
                    );
                    decision(
                        Action::OpenChain {
                            account: alarm.account.clone(),
                            alarm: alarm.name.clone(),
                            at: *at,
                            job,
                        },
                        reason,
                    )
                }
                (state, chain) => {
                    let reason = match chain {
                        Some(c) => format!(
                            "{} {} in account {}: chain {} shows resolved, no agent",
                            alarm.name,
                            state.as_str(),
                            alarm.account,
                            c.id
                        ),
                        None => format!(
                            "{} {} in account {}: no open chain, recorded only",
                            alarm.name,
                            state.as_str(),
                            alarm.account
                        ),
                    };
                    decision(
                        Action::ResolveChain {
                            chain: chain.map(|c| c.id),
                            account: alarm.account.clone(),
                            alarm: alarm.name.clone(),
                            at: *at,
                        },
                        reason,
                    )
                }
            }
        }
    }
}

/// Whether news for `job` goes on to its agent: the job to forward to (when
/// it has an agent now) and the note that says what happened to the news.
fn forwarding(state: &State, job: Option<i64>) -> (Option<i64>, String) {
    match job {
        Some(j) if state.job_is_active(Some(j)) => (Some(j), format!("; forwarded to #{j}")),
        Some(j) => (
            None,
            format!("; its job #{j} has no agent now, recorded only"),
        ),
        None => (None, String::new()),
    }
}

/// The project for new work: its own, else the route, else the default; or
/// no project, with the reason.
fn route(
    own: Option<String>,
    by_route: Option<String>,
    config: &Config,
    why_not: impl FnOnce() -> String,
) -> (Option<String>, Option<String>) {
    let default = Some(config.routing.default_project.clone()).filter(|p| !p.is_empty());
    match own.filter(|p| !p.is_empty()).or(by_route).or(default) {
        Some(project) => (Some(project), None),
        None => (None, Some(why_not())),
    }
}
