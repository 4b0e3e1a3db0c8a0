//! Registered projects.

use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, Row, params};

use super::{Journal, JournalError, Result};
use crate::model::{Project, Timestamp};

const COLUMNS: &str = "name, path, base_branch, agent, max_agents, created_at";

fn from_row(row: &Row) -> rusqlite::Result<Project> {
    Ok(Project {
        name: row.get(0)?,
        path: PathBuf::from(row.get::<_, String>(1)?),
        base_branch: row.get(2)?,
        agent: row.get(3)?,
        max_agents: row.get(4)?,
        created_at: Timestamp::from_millis(row.get(5)?),
    })
}

impl Journal {
    /// Registers a project; a name or path already registered is refused.
    pub fn add_project(&mut self, project: &Project) -> Result<()> {
        self.write(|tx| {
            let path = project.path.to_string_lossy();
            let clash: Option<String> = tx
                .query_row(
                    "SELECT name FROM projects WHERE name = ?1 OR path = ?2",
                    params![project.name, path],
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
                &format!("INSERT INTO projects ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                params![
                    project.name,
                    path,
                    project.base_branch,
                    project.agent,
                    project.max_agents,
                    project.created_at.millis()
                ],
            )?;
            super::jobs::insert_event(
                tx,
                project.created_at,
                None,
                "project",
                &format!("project {} registered at {path}", project.name),
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

    /// The project called `name`.
    pub fn project(&self, name: &str) -> Result<Option<Project>> {
        let sql = format!("SELECT {COLUMNS} FROM projects WHERE name = ?1");
        Ok(self
            .conn()
            .prepare_cached(&sql)?
            .query_row([name], from_row)
            .optional()?)
    }

    /// The project registered at `path` (already canonical).
    pub fn project_at(&self, path: &Path) -> Result<Option<Project>> {
        let sql = format!("SELECT {COLUMNS} FROM projects WHERE path = ?1");
        let path = path.to_string_lossy();
        Ok(self
            .conn()
            .prepare_cached(&sql)?
            .query_row([path.as_ref()], from_row)
            .optional()?)
    }
}
