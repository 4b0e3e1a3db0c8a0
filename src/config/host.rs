//! `[hosts.NAME]`: a remote host written in config.toml instead of
//! registered with `host add`. On a name in both, the config wins (the file
//! is what the operator edits and keeps under version control).

use std::path::PathBuf;

use serde::Deserialize;

use super::Config;
use crate::model::{Host, HostAddress, HostName, HostSource, merge_hosts};

/// The settings of one host as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSettings {
    /// `[USER@]HOST[:PORT]`, an IPv6 address in brackets.
    pub address: String,
    /// Agents at once on this host.
    #[serde(default)]
    pub max_agents: Option<u32>,
    /// The private key ssh uses; a leading `~/` is the operator's home.
    #[serde(default)]
    pub identity: Option<String>,
    /// Accept and pin the host's key at first contact.
    #[serde(default)]
    pub accept_new_key: bool,
}

impl HostSettings {
    /// The checked host; the error names the key at fault (below
    /// `hosts.NAME`) and what is wrong.
    pub fn to_host(&self, name: &str) -> Result<Host, (String, String)> {
        let name = HostName::remote(name).map_err(|m| (String::new(), m))?;
        let address =
            HostAddress::parse(&self.address).map_err(|e| ("address".into(), e.to_string()))?;
        if self.max_agents == Some(0) {
            return Err(("max_agents".into(), "must be at least 1".into()));
        }
        if self
            .identity
            .as_deref()
            .is_some_and(|i| i.trim().is_empty())
        {
            return Err(("identity".into(), "is empty; name a key file".into()));
        }
        Ok(Host {
            name,
            address,
            max_agents: self.max_agents,
            identity: self.identity.as_ref().map(PathBuf::from),
            accept_new_key: self.accept_new_key,
            source: HostSource::Config,
            registered_at: None,
        })
    }
}

impl Config {
    /// The hosts of `[hosts.*]`, by name (checked when the config loaded).
    pub fn hosts(&self) -> Vec<Host> {
        self.hosts
            .iter()
            .filter_map(|(name, settings)| settings.to_host(name).ok())
            .collect()
    }

    /// Every remote host the engine knows: `registered` (the journal's,
    /// [`crate::journal::Journal::hosts`]) with the config's laid over.
    pub fn hosts_with(&self, registered: Vec<Host>) -> Vec<Host> {
        merge_hosts(registered, self.hosts())
    }

    /// Checks every `[hosts.NAME]`; the error names the full key.
    pub(super) fn check_hosts(&self) -> Result<(), (String, String)> {
        for (name, settings) in &self.hosts {
            settings.to_host(name).map_err(|(key, message)| {
                let full = if key.is_empty() {
                    format!("hosts.{name}")
                } else {
                    format!("hosts.{name}.{key}")
                };
                (full, message)
            })?;
        }
        Ok(())
    }
}
