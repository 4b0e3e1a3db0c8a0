//! Hosts registered with `host add`, and every host's reachability as the
//! SSH side last found it.

use std::path::PathBuf;

use rusqlite::{OptionalExtension, Row, params};

use super::jobs::active_states;
use super::{Journal, JournalError, Result};
use crate::model::{Host, HostAddress, HostHealth, HostName, HostSource, Reachability, Timestamp};

const COLUMNS: &str = "name, address, max_agents, identity, accept_new_key, created_at";

fn conversion(index: usize, e: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, e.into())
}

fn from_row(row: &Row) -> rusqlite::Result<Host> {
    let name: String = row.get(0)?;
    let address: String = row.get(1)?;
    Ok(Host {
        name: HostName::parse(&name).map_err(|e| conversion(0, e))?,
        address: HostAddress::parse(&address).map_err(|e| conversion(1, e.to_string()))?,
        max_agents: row.get(2)?,
        identity: row.get::<_, Option<String>>(3)?.map(PathBuf::from),
        accept_new_key: row.get(4)?,
        source: HostSource::Journal,
        registered_at: Some(Timestamp::from_millis(row.get(5)?)),
    })
}

impl Journal {
    /// Registers a host; a name already registered is refused.
    pub fn add_host(&mut self, host: &Host, now: Timestamp) -> Result<()> {
        if host.name.is_local() {
            return Err(JournalError::Refused(
                "host name \"local\" is reserved for the machine the engine runs on".into(),
            ));
        }
        self.write(|tx| {
            let exists: Option<String> = tx
                .query_row(
                    "SELECT name FROM hosts WHERE name = ?1",
                    [host.name.as_str()],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_some() {
                return Err(JournalError::Refused(format!(
                    "a host named {} is already registered; pick another name or `switchboard host remove {}` first",
                    host.name, host.name
                )));
            }
            tx.execute(
                &format!("INSERT INTO hosts ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                params![
                    host.name.as_str(),
                    host.address.to_string(),
                    host.max_agents,
                    host.identity
                        .as_ref()
                        .map(|p| p.to_string_lossy().into_owned()),
                    host.accept_new_key,
                    host.registered_at.unwrap_or(now).millis(),
                ],
            )?;
            super::jobs::insert_event(
                tx,
                now,
                None,
                "host",
                &format!("host {} registered at {}", host.name, host.address),
            )?;
            Ok(())
        })
    }

    /// Removes a registered host. Refused while a project belongs to it
    /// (the refusal names them and its live agents).
    pub fn remove_host(&mut self, name: &HostName, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            let projects: Vec<String> = tx
                .prepare("SELECT name FROM projects WHERE host = ?1 ORDER BY name")?
                .query_map([name.as_str()], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let agents: Vec<i64> = tx
                .prepare(&format!(
                    "SELECT j.id FROM jobs j JOIN projects p ON p.name = j.project
                     WHERE p.host = ?1 AND j.state IN {} ORDER BY j.id",
                    active_states()
                ))?
                .query_map([name.as_str()], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            if !agents.is_empty() {
                let ids: Vec<String> = agents.iter().map(|id| format!("#{id}")).collect();
                return Err(JournalError::Refused(format!(
                    "host {name} has active agents (jobs {}); kill them or let them finish first",
                    ids.join(", ")
                )));
            }
            if !projects.is_empty() {
                return Err(JournalError::Refused(format!(
                    "host {name} has projects ({}); remove them first (`switchboard project remove NAME`)",
                    projects.join(", ")
                )));
            }
            let removed = tx.execute("DELETE FROM hosts WHERE name = ?1", [name.as_str()])?;
            if removed == 0 {
                return Err(JournalError::Refused(format!(
                    "no host {name} was registered with `host add`; `switchboard host list` shows the hosts"
                )));
            }
            tx.execute("DELETE FROM host_health WHERE host = ?1", [name.as_str()])?;
            super::jobs::insert_event(tx, now, None, "host", &format!("host {name} removed"))?;
            Ok(())
        })
    }

    /// The hosts registered with `host add`, by name. (Config hosts are
    /// laid over them by [`crate::config::Config::hosts_with`].)
    pub fn hosts(&self) -> Result<Vec<Host>> {
        let mut stmt = self
            .conn()
            .prepare(&format!("SELECT {COLUMNS} FROM hosts ORDER BY name"))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Records a host's reachability. Only a change in kind is written
    /// (with an event); a host that stays unreachable keeps its first
    /// `since`. Returns whether anything changed.
    pub fn set_host_reachability(
        &mut self,
        host: &HostName,
        next: &Reachability,
        now: Timestamp,
    ) -> Result<bool> {
        self.write(|tx| {
            let current = read_health(tx, host)?;
            if !current.differs_in_kind(next) {
                return Ok(false);
            }
            match next {
                Reachability::Unknown => {
                    tx.execute("DELETE FROM host_health WHERE host = ?1", [host.as_str()])?;
                }
                Reachability::Reachable { since } => {
                    tx.execute(
                        "INSERT OR REPLACE INTO host_health (host, state, since, error)
                         VALUES (?1, 'reachable', ?2, NULL)",
                        params![host.as_str(), since.millis()],
                    )?;
                }
                Reachability::Unreachable { since, error } => {
                    tx.execute(
                        "INSERT OR REPLACE INTO host_health (host, state, since, error)
                         VALUES (?1, 'unreachable', ?2, ?3)",
                        params![host.as_str(), since.millis(), error],
                    )?;
                }
            }
            let message = match next {
                Reachability::Unreachable { error, .. } => {
                    format!("host {host} unreachable: {error}")
                }
                other => format!("host {host} {}", other.name()),
            };
            super::jobs::insert_event(tx, now, None, "host", &message)?;
            Ok(true)
        })
    }

    /// Live agents (jobs starting, running, waiting or stalled) on each
    /// host that has any; the engine's machine is [`HostName::local`].
    pub fn active_agents_by_host(&self) -> Result<std::collections::BTreeMap<HostName, u32>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT p.host, COUNT(*) FROM jobs j LEFT JOIN projects p ON p.name = j.project
             WHERE j.state IN {} GROUP BY p.host",
            active_states()
        ))?;
        let rows = stmt.query_map([], |r| {
            Ok((super::projects::host_of(r, 0)?, r.get::<_, u32>(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The reachability of every host that has one recorded, by name.
    pub fn host_health(&self) -> Result<Vec<HostHealth>> {
        let mut stmt = self
            .conn()
            .prepare("SELECT host, state, since, error FROM host_health ORDER BY host")?;
        let rows = stmt.query_map([], health_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn health_from_row(row: &Row) -> rusqlite::Result<HostHealth> {
    let host: String = row.get(0)?;
    Ok(HostHealth {
        host: HostName::parse(&host).map_err(|e| conversion(0, e))?,
        reachability: reachability_of(row.get(1)?, row.get(2)?, row.get(3)?),
    })
}

fn reachability_of(state: String, since: i64, error: Option<String>) -> Reachability {
    let since = Timestamp::from_millis(since);
    match state.as_str() {
        "reachable" => Reachability::Reachable { since },
        "unreachable" => Reachability::Unreachable {
            since,
            error: error.unwrap_or_default(),
        },
        _ => Reachability::Unknown,
    }
}

fn read_health(tx: &rusqlite::Transaction, host: &HostName) -> Result<Reachability> {
    Ok(tx
        .query_row(
            "SELECT state, since, error FROM host_health WHERE host = ?1",
            [host.as_str()],
            |r| Ok(reachability_of(r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?
        .unwrap_or(Reachability::Unknown))
}

#[cfg(test)]
#[path = "hosts_tests.rs"]
mod tests;
