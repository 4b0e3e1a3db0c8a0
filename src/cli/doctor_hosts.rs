//! `doctor`'s hosts: every remote host with its address and whether the
//! engine can reach it, and projects whose host is not known.

use super::{Check, Status};
use crate::cli::Context;
use crate::model::{Freshness, Reachability, Timestamp};

/// One line a remote host (none when there are none), and a failure for
/// each project on a host that is neither registered nor configured.
pub(super) fn hosts(ctx: &Context) -> Vec<Check> {
    let (Ok(config), Ok(journal)) = (ctx.config(), ctx.journal()) else {
        return Vec::new(); // the config and journal checks say why
    };
    let (Ok(registered), Ok(health), Ok(projects)) =
        (journal.hosts(), journal.host_health(), journal.projects())
    else {
        return Vec::new();
    };
    let hosts = config.hosts_with(registered);
    let now = Timestamp::now();
    let freshness = Freshness::of(crate::engine::health::engine_running(&ctx.home));
    let mut checks: Vec<Check> = hosts
        .iter()
        .map(|host| {
            let reachability = health
                .iter()
                .find(|h| h.host == host.name)
                .map(|h| h.reachability.clone())
                .unwrap_or(Reachability::Unknown);
            let limit = host
                .max_agents
                .map(|n| format!(", at most {n} agents"))
                .unwrap_or_default();
            let head = format!("{} {}{limit} ({})", host.name, host.address, host.source);
            match &reachability {
                Reachability::Unreachable { error, .. } => Check {
                    name: "host",
                    status: Status::Warn,
                    detail: format!(
                        "{head}: {}: {error}{}",
                        reachability.describe(now),
                        freshness.suffix()
                    ),
                },
                Reachability::Reachable { .. } => Check {
                    name: "host",
                    status: Status::Ok,
                    detail: format!("{head}: {}", reachability.describe_as(now, freshness)),
                },
                Reachability::Unknown => Check {
                    name: "host",
                    status: Status::Ok,
                    detail: format!("{head}: not tried yet (the engine connects when it runs)"),
                },
            }
        })
        .collect();
    for project in projects {
        if !project.host.is_local() && !hosts.iter().any(|h| h.name == project.host) {
            checks.push(Check {
                name: "host",
                status: Status::Fail,
                detail: format!(
                    "project {} is on host {}, which is neither registered nor in config.toml; its work cannot start (`switchboard host add {} [USER@]HOST[:PORT]`)",
                    project.name, project.host, project.host
                ),
            });
        }
    }
    checks
}
