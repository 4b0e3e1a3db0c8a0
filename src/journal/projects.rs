//! Registered projects.

use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, Row, params};

use super::{Journal, JournalError, Result};
use crate::model::{HostName, Project, ReviewState, StateName, Timestamp};

const COLUMNS: &str = "name, path, base_branch, agent, max_agents, created_at, host";

fn from_row(row: &Row) -> rusqlite::Result<Project> {
    Ok(Project {
        name: row.get(0)?,
        path: PathBuf::from(row.get::<_, String>(1)?),
        base_branch: row.get(2)?,
        agent: row.get(3)?,
        max_agents: row.get(4)?,
        created_at: Timestamp::from_millis(row.get(5)?),
        host: host_of(row, 6)?,
    })
}

/// A host column: NULL is the engine's own machine.
pub(super) fn host_of(row: &Row, index: usize) -> rusqlite::Result<HostName> {
    match row.get::<_, Option<String>>(index)? {
        None => Ok(HostName::local()),
        Some(name) => HostName::parse(&name).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, e.into())
        }),
    }
}

impl Journal {
    /// Registers a project; a name, or a path on the same host, already
    /// registered is refused.
    pub fn add_project(&mut self, project: &Project) -> Result<()> {
        let host = (!project.host.is_local()).then(|| project.host.as_str());
        self.write(|tx| {
            let path = project.path.to_string_lossy();
            let clash: Option<String> = tx
                .query_row(
                    "SELECT name FROM projects WHERE name = ?1
                       OR (path = ?2 AND coalesce(host, '') = coalesce(?3, ''))",
                    params![project.name, path, host],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(name) = clash {
                return Err(JournalError::Refused(if name == project.name {
                    format!("a project named {name} is already registered; pick another name")
                } else {
                    format!("{path} is already registered as project {name}")
                }));
            }
            tx.execute(
                &format!("INSERT INTO projects ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"),
                params![
                    project.name,
                    path,
                    project.base_branch,
                    project.agent,
                    project.max_agents,
                    project.created_at.millis(),
                    host,
                ],
            )?;
            super::jobs::insert_event(
                tx,
                project.created_at,
                None,
                "project",
                &if project.host.is_local() {
                    format!("project {} registered at {path}", project.name)
                } else {
                    format!(
                        "project {} registered at {path} on host {}",
                        project.name, project.host
                    )
                },
            )?;
            Ok(())
        })
    }

    /// Every project, by name.
    pub fn projects(&self) -> Result<Vec<Project>> {
        let mut stmt = self
            .conn()
            .prepare(&format!("SELECT {COLUMNS} FROM projects ORDER BY name"))?;
        let rows = stmt.query_map([], from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every project's host, by project name (`local`: the engine's
    /// machine).
    pub fn project_hosts(&self) -> Result<std::collections::BTreeMap<String, HostName>> {
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT name, host FROM projects")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, host_of(r, 1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The project called `name`.
    pub fn project(&self, name: &str) -> Result<Option<Project>> {
        let sql = format!("SELECT {COLUMNS} FROM projects WHERE name = ?1");
        Ok(self
            .conn()
            .prepare_cached(&sql)?
            .query_row([name], from_row)
            .optional()?)
    }

    /// The project registered at `path` (already canonical) on the
    /// engine's own machine.
    pub fn project_at(&self, path: &Path) -> Result<Option<Project>> {
        let sql = format!("SELECT {COLUMNS} FROM projects WHERE path = ?1 AND host IS NULL");
        let path = path.to_string_lossy();
        Ok(self
            .conn()
            .prepare_cached(&sql)?
            .query_row([path.as_ref()], from_row)
            .optional()?)
    }

    /// Removes project `name`, refused while any of its jobs is not over
    /// (queued, running, …) or has work still in review (ready, conflict,
    /// delivered, closed), naming them. Its finished jobs keep the name in
    /// history; only the registration goes.
    pub fn remove_project(&mut self, name: &str, now: Timestamp) -> Result<()> {
        let over: Vec<String> = StateName::ALL
            .iter()
            .filter(|s| s.is_over())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        let settled: Vec<String> = ReviewState::ALL
            .iter()
            .filter(|r| matches!(r, ReviewState::Merged | ReviewState::Rejected))
            .map(|r| format!("'{}'", r.as_str()))
            .collect();
        let sql = format!(
            "SELECT j.id, j.state, r.state FROM jobs j
               LEFT JOIN review_items r ON r.job_id = j.id
             WHERE j.project = ?1
               AND (j.state NOT IN ({over})
                    OR (r.state IS NOT NULL AND r.state NOT IN ({settled})))
             ORDER BY j.id",
            over = over.join(", "),
            settled = settled.join(", "),
        );
        self.write(|tx| {
            let known: Option<String> = tx
                .query_row("SELECT name FROM projects WHERE name = ?1", [name], |r| {
                    r.get(0)
                })
                .optional()?;
            if known.is_none() {
                return Err(JournalError::Refused(format!(
                    "no project {name}; `switchboard project list` shows the projects"
                )));
            }
            let active: Vec<(i64, String, Option<String>)> = tx
                .prepare(&sql)?
                .query_map([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            if !active.is_empty() {
                let each: Vec<String> = active
                    .iter()
                    .map(|(id, state, review)| match review {
                        Some(review) if state == StateName::Done.as_str() => {
                            format!("#{id} in review ({review})")
                        }
                        _ => format!("#{id} {state}"),
                    })
                    .collect();
                return Err(JournalError::Refused(format!(
                    "project {name} has active jobs ({}); kill them, let them finish or settle their review first",
                    each.join(", ")
                )));
            }
            tx.execute("DELETE FROM projects WHERE name = ?1", [name])?;
            super::jobs::insert_event(tx, now, None, "project", &format!("project {name} removed"))?;
            Ok(())
        })
    }
}
