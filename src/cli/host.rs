//! `switchboard host add|list|remove`: the machines agents run on.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Subcommand;
use serde::Serialize;

use super::Context;
use super::output::{BOLD, RED, YELLOW, paint, visible};
use crate::model::{
    Freshness, Host, HostAddress, HostName, HostSource, LOCAL_HOST, Reachability, Timestamp,
};

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum HostCommand {
    /// Register a remote host, reached with ssh: contacted at once (its
    /// key checked, tmux, git and switchboard looked for on its PATH)
    Add {
        /// The name projects use for it (`local` is this machine)
        name: String,
        /// [USER@]HOST[:PORT]; an IPv6 address in brackets, e.g. ops@[2001:db8::1]:22
        address: String,
        /// Agents at once on this host [default: only the global and project limits]
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        max_agents: Option<u32>,
        /// The private key ssh uses for it [default: ssh's own choice]
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
        /// Accept the host's key at first contact and pin it; otherwise an
        /// unknown host key is refused
        #[arg(long)]
        accept_new_key: bool,
    },
    /// List the hosts: this machine (`local`) and the remote ones
    List {
        /// Print JSON only
        #[arg(long)]
        json: bool,
    },
    /// Remove a host registered with `host add` (refused while projects
    /// or agents are on it)
    Remove { name: String },
}

pub fn run(ctx: &Context, cmd: HostCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        HostCommand::Add {
            name,
            address,
            max_agents,
            identity,
            accept_new_key,
        } => add(ctx, &name, &address, max_agents, identity, accept_new_key),
        HostCommand::List { json } => list(ctx, json),
        HostCommand::Remove { name } => remove(ctx, &name),
    }
}

fn add(
    ctx: &Context,
    name: &str,
    address: &str,
    max_agents: Option<u32>,
    identity: Option<PathBuf>,
    accept_new_key: bool,
) -> anyhow::Result<ExitCode> {
    let name = HostName::remote(name).map_err(anyhow::Error::msg)?;
    let address = HostAddress::parse(address)?;
    let config = ctx.config()?;
    if config.hosts.contains_key(name.as_str()) {
        bail!(
            "host {name} is already set in {} ([hosts.{name}]); change it there or pick another name",
            ctx.home.config_file().display()
        );
    }
    let identity = identity.map(absolute_key).transpose()?;
    let now = Timestamp::now();
    let host = Host {
        name,
        address,
        max_agents,
        identity,
        accept_new_key,
        source: HostSource::Journal,
        registered_at: Some(now),
    };
    // Contacted before it is registered: a refused key leaves nothing.
    let contact = super::host_check::contact(&ctx.home, &host)?;
    let mut journal = ctx.journal()?;
    journal.add_host(&host, now)?;
    let reachability = match &contact {
        super::host_check::Contact::Reached(_) => Reachability::Reachable { since: now },
        super::host_check::Contact::Unreachable(e) => Reachability::Unreachable {
            since: now,
            error: e.to_string(),
        },
    };
    journal.set_host_reachability(&host.name, &reachability, now)?;
    anstream::println!(
        "Registered host {} at {}{}{}.",
        paint(BOLD, &host.name),
        host.address,
        host.max_agents
            .map(|n| format!(", at most {n} agent{}", if n == 1 { "" } else { "s" }))
            .unwrap_or_default(),
        if host.accept_new_key {
            ", its key pinned at first contact"
        } else {
            ""
        },
    );
    for line in contact.lines(&host) {
        match line {
            super::host_check::Line::Said(text) => anstream::println!("{}", visible(&text)),
            super::host_check::Line::Warning(text) => {
                anstream::println!("{} {}", paint(YELLOW, "warning:"), visible(&text))
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The key file as the engine (in another directory) will find it; it
/// must exist now, so that a typo shows here and not at the first start.
fn absolute_key(path: PathBuf) -> anyhow::Result<PathBuf> {
    let path = match path.strip_prefix("~") {
        Ok(rest) => dirs::home_dir()
            .context("no home directory to resolve ~ in --identity")?
            .join(rest),
        Err(_) => std::path::absolute(&path)
            .with_context(|| format!("cannot resolve {}", path.display()))?,
    };
    if !path.is_file() {
        bail!(
            "no key file {}; pass the private key ssh should use with --identity",
            visible(&path.display().to_string())
        );
    }
    Ok(path)
}

/// One row of `host list`: a host with what is known of it now.
#[derive(Debug, Serialize)]
struct HostRow {
    name: HostName,
    /// `None` for `local`.
    address: Option<HostAddress>,
    max_agents: Option<u32>,
    identity: Option<PathBuf>,
    accept_new_key: bool,
    /// `local`, `journal` (host add) or `config` ([hosts.NAME]).
    source: ListedFrom,
    /// Live agents on it now.
    agents: u32,
    /// `state`, `since`, `error`; none for `local`, the machine this runs on.
    #[serde(flatten)]
    reachability: Option<Reachability>,
    /// No engine runs, so `state` is the last one an engine found (false
    /// for `local`).
    last_known: bool,
}

/// Where a row of `host list` comes from: the machine the engine runs
/// on, or a remote host's registration. A remote host cannot be `local`,
/// so [`HostSource`] has no such variant; the list needs all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListedFrom {
    ThisMachine,
    Registered(HostSource),
}

impl ListedFrom {
    fn as_str(self) -> &'static str {
        match self {
            ListedFrom::ThisMachine => LOCAL_HOST,
            ListedFrom::Registered(source) => source.as_str(),
        }
    }
}

impl std::fmt::Display for ListedFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for ListedFrom {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

fn list(ctx: &Context, json: bool) -> anyhow::Result<ExitCode> {
    let config = ctx.config()?;
    let journal = ctx.journal()?;
    let hosts = config.hosts_with(journal.hosts()?);
    let agents = journal.active_agents_by_host()?;
    let mut health: BTreeMap<HostName, Reachability> = journal
        .host_health()?
        .into_iter()
        .map(|h| (h.host, h.reachability))
        .collect();
    let freshness = Freshness::of(crate::engine::health::engine_running(&ctx.home));
    let local = HostName::local();
    let mut rows = vec![HostRow {
        agents: agents.get(&local).copied().unwrap_or(0),
        name: local,
        address: None,
        max_agents: Some(config.scheduler.max_agents),
        identity: None,
        accept_new_key: false,
        source: ListedFrom::ThisMachine,
        reachability: None,
        last_known: false,
    }];
    for host in hosts {
        rows.push(HostRow {
            agents: agents.get(&host.name).copied().unwrap_or(0),
            reachability: Some(health.remove(&host.name).unwrap_or(Reachability::Unknown)),
            name: host.name,
            address: Some(host.address),
            max_agents: host.max_agents,
            identity: host.identity,
            accept_new_key: host.accept_new_key,
            source: ListedFrom::Registered(host.source),
            last_known: freshness == Freshness::LastKnown,
        });
    }
    if json {
        println!("{}", serde_json::to_string(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    let now = Timestamp::now();
    let width = rows
        .iter()
        .map(|r| r.name.as_str().len())
        .max()
        .unwrap_or(4)
        .max(4);
    let address_width = rows
        .iter()
        .filter_map(|r| r.address.as_ref().map(|a| a.to_string().len()))
        .max()
        .unwrap_or(7)
        .max(7);
    anstream::println!(
        "{}",
        paint(
            BOLD,
            format!(
                "{:width$}  {:address_width$}  {:>3}  {:>6}  {:7}  STATE",
                "NAME", "ADDRESS", "MAX", "AGENTS", "FROM"
            )
        )
    );
    for row in &rows {
        let state = match &row.reachability {
            None => "this machine".to_string(),
            Some(r) if r.is_unreachable() => paint(RED, r.describe_as(now, freshness)),
            Some(r) => r.describe_as(now, freshness),
        };
        anstream::println!(
            "{:width$}  {:address_width$}  {:>3}  {:>6}  {:7}  {state}",
            row.name.as_str(),
            row.address
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_else(|| "-".into()),
            row.max_agents
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
            row.agents,
            row.source,
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn remove(ctx: &Context, name: &str) -> anyhow::Result<ExitCode> {
    let name = HostName::remote(name).map_err(anyhow::Error::msg)?;
    let config = ctx.config()?;
    if config.hosts.contains_key(name.as_str()) {
        bail!(
            "host {name} is set in {} ([hosts.{name}]); remove it from that file",
            ctx.home.config_file().display()
        );
    }
    let mut journal = ctx.journal()?;
    let registered = journal.hosts()?.into_iter().find(|h| h.name == name);
    journal.remove_host(&name, Timestamp::now())?;
    // Its master connection goes too: a host added again at that address
    // is contacted afresh (its key checked again).
    if let Some(ssh) = registered.and_then(|h| crate::remote::Ssh::for_host(&ctx.home, &h).ok()) {
        ssh.close_master();
    }
    anstream::println!("Removed host {}.", paint(BOLD, &name));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rows_source_reads_the_same_in_json_and_in_the_table() {
        let all = [
            ListedFrom::ThisMachine,
            ListedFrom::Registered(HostSource::Journal),
            ListedFrom::Registered(HostSource::Config),
        ];
        let json: Vec<String> = all
            .iter()
            .map(|from| serde_json::to_value(from).expect("json").to_string())
            .collect();
        assert_eq!(json, [r#""local""#, r#""journal""#, r#""config""#]);
        for from in all {
            // The table pads the column: Display honours the width.
            assert_eq!(format!("[{from:7}]"), format!("[{:7}]", from.as_str()));
        }
    }
}
