//! A machine agents run on. The engine's own machine is the host `local`;
//! any other is reached over SSH and registered by `host add` (journal) or
//! `[hosts.NAME]` (config.toml, which wins on a clash).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};

use super::name::check_name;
use super::{HostAddress, Timestamp};

/// The name of the engine's own machine, reserved.
pub const LOCAL_HOST: &str = "local";

/// A host's name, checked: letters, digits, `-`, `_`, `.`, not starting
/// with `.` or `-` (it names files and tmux sockets, and is shown).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostName(String);

impl HostName {
    /// The engine's own machine.
    pub fn local() -> HostName {
        HostName(LOCAL_HOST.to_string())
    }

    /// Checks a name; `local` is accepted here (a project may name it) and
    /// refused by [`HostName::remote`].
    pub fn parse(name: &str) -> Result<HostName, String> {
        check_name("host", name).map(|()| HostName(name.to_string()))
    }

    /// Checks the name of a host to register: `local` is the engine's
    /// machine and cannot be registered.
    pub fn remote(name: &str) -> Result<HostName, String> {
        let parsed = Self::parse(name)?;
        if parsed.is_local() {
            return Err(format!(
                "host name {LOCAL_HOST:?} is reserved for the machine the engine runs on; pick another name"
            ));
        }
        Ok(parsed)
    }

    pub fn is_local(&self) -> bool {
        self.0 == LOCAL_HOST
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HostName {
    /// Padded to a width when one is asked for (table columns).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl Serialize for HostName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Where a host's registration comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostSource {
    /// `switchboard host add`, kept in the journal.
    Journal,
    /// `[hosts.NAME]` in config.toml; removed by editing the file.
    Config,
}

impl HostSource {
    /// Every source, for tests that go through them all.
    pub const ALL: [HostSource; 2] = [HostSource::Journal, HostSource::Config];

    /// Its name in `host list`, `doctor` and JSON: the one spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            HostSource::Journal => "journal",
            HostSource::Config => "config",
        }
    }
}

impl fmt::Display for HostSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for HostSource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A remote host agents can run on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Host {
    pub name: HostName,
    pub address: HostAddress,
    /// Agents at once on this host; `None`: only the global and per-project
    /// limits hold.
    pub max_agents: Option<u32>,
    /// The private key ssh uses (`-i`); `None`: ssh's own choice. A leading
    /// `~/` is the operator's home (see [`Host::identity_path`]).
    pub identity: Option<PathBuf>,
    /// Accept and pin the host's key at first contact
    /// (`StrictHostKeyChecking=accept-new`); otherwise an unknown key is
    /// refused.
    pub accept_new_key: bool,
    pub source: HostSource,
    /// When `host add` registered it; `None` for a config host.
    pub registered_at: Option<Timestamp>,
}

impl Host {
    /// The identity file with a leading `~/` made `home`-relative.
    pub fn identity_path(&self, home: Option<&Path>) -> Option<PathBuf> {
        let path = self.identity.as_ref()?;
        match (path.strip_prefix("~"), home) {
            (Ok(rest), Some(home)) => Some(home.join(rest)),
            _ => Some(path.clone()),
        }
    }
}

/// The hosts the engine knows: those of the journal with those of the
/// config laid over them (a config entry wins on a name in both), by name.
pub fn merge_hosts(registered: Vec<Host>, configured: Vec<Host>) -> Vec<Host> {
    let mut by_name: std::collections::BTreeMap<HostName, Host> = registered
        .into_iter()
        .map(|h| (h.name.clone(), h))
        .collect();
    for host in configured {
        by_name.insert(host.name.clone(), host);
    }
    by_name.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, address: &str, source: HostSource) -> Host {
        Host {
            name: HostName::remote(name).unwrap(),
            address: HostAddress::parse(address).unwrap(),
            max_agents: None,
            identity: None,
            accept_new_key: false,
            source,
            registered_at: None,
        }
    }

    #[test]
    fn local_is_reserved_for_registration_only() {
        assert!(HostName::parse("local").unwrap().is_local());
        let err = HostName::remote("local").unwrap_err();
        assert!(err.contains("reserved"), "{err}");
        assert!(HostName::remote("build1").is_ok());
        assert!(HostName::remote("Local").is_ok_and(|h| !h.is_local()));
        for bad in ["", "-x", ".x", "a b", "a/b", "ü", "x;y", &"a".repeat(65)] {
            assert!(HostName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn config_hosts_win_over_journal_hosts() {
        let merged = merge_hosts(
            vec![
                host("b", "b1", HostSource::Journal),
                host("a", "a1", HostSource::Journal),
            ],
            vec![host("b", "ops@b2", HostSource::Config)],
        );
        let names: Vec<_> = merged.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(merged[1].source, HostSource::Config);
        assert_eq!(merged[1].address.to_string(), "ops@b2:22");
    }

    #[test]
    fn a_hosts_source_has_one_spelling() {
        for source in HostSource::ALL {
            let json = serde_json::to_value(source).expect("json");
            assert_eq!(json, source.as_str(), "{source:?}");
            assert_eq!(source.to_string(), source.as_str());
        }
        let names: Vec<&str> = HostSource::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["journal", "config"]);
    }

    #[test]
    fn identity_tilde_is_the_home() {
        let mut h = host("a", "a", HostSource::Config);
        h.identity = Some(PathBuf::from("~/.ssh/sb"));
        assert_eq!(
            h.identity_path(Some(Path::new("/home/op"))),
            Some(PathBuf::from("/home/op/.ssh/sb"))
        );
        h.identity = Some(PathBuf::from("/k"));
        assert_eq!(
            h.identity_path(Some(Path::new("/h"))),
            Some(PathBuf::from("/k"))
        );
    }
}
