//! Operator commands: requests written to the journal that the engine (the
//! process that holds the home's lock) carries out.

use std::fmt;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Journal, Result, jobs::insert_event};
use crate::model::Timestamp;

/// What the operator asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CommandKind {
    Kill,
    Nudge,
    Retry,
    Approve,
    Reject,
    Drain,
    /// Start no new agents; the engine keeps running (ended by `Resume`).
    Pause,
    /// Ends a drain and a pause.
    Resume,
    /// Keys that answer an agent's question (the text is the key).
    Answer,
}

impl CommandKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandKind::Kill => "kill",
            CommandKind::Nudge => "nudge",
            CommandKind::Retry => "retry",
            CommandKind::Approve => "approve",
            CommandKind::Reject => "reject",
            CommandKind::Drain => "drain",
            CommandKind::Pause => "pause",
            CommandKind::Resume => "resume",
            CommandKind::Answer => "answer",
        }
    }
}

impl CommandKind {
    pub const ALL: [CommandKind; 9] = [
        CommandKind::Kill,
        CommandKind::Nudge,
        CommandKind::Retry,
        CommandKind::Approve,
        CommandKind::Reject,
        CommandKind::Drain,
        CommandKind::Pause,
        CommandKind::Resume,
        CommandKind::Answer,
    ];

    /// The kind a journal row names; `None` for a kind this version does
    /// not know (written by a newer switchboard).
    pub fn parse(text: &str) -> Option<CommandKind> {
        CommandKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for CommandKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One journaled operator command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatorCommand {
    pub id: i64,
    pub at: Timestamp,
    /// What was asked; `Err` with the row's text for a kind this version
    /// does not know (the engine refuses it, saying so).
    pub kind: std::result::Result<CommandKind, String>,
    pub job: Option<i64>,
    pub text: Option<String>,
    pub state: String,
}

impl OperatorCommand {
    /// Its kind as the journal names it, known or not.
    pub fn kind_text(&self) -> &str {
        match &self.kind {
            Ok(kind) => kind.as_str(),
            Err(text) => text,
        }
    }
}

/// Commands not carried out (the partial index `commands_pending`).
pub(super) const PENDING_COMMANDS: &str =
    "SELECT id, at, kind, job_id, text, state FROM commands WHERE state = 'pending' ORDER BY id";

impl Journal {
    /// Journals a command for the engine, with an event saying who asked.
    pub fn record_command(
        &mut self,
        kind: CommandKind,
        job: Option<i64>,
        text: Option<&str>,
        now: Timestamp,
    ) -> Result<i64> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO commands (at, kind, job_id, text) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![now.millis(), kind.as_str(), job, text])?;
            let id = tx.last_insert_rowid();
            let target = job.map(|j| format!(" job #{j}")).unwrap_or_default();
            insert_event(
                tx,
                now,
                job,
                "command",
                &format!("operator asked to {kind}{target} (command {id})"),
            )?;
            Ok(id)
        })
    }

    /// A command's outcome once the engine carried it out (whether it
    /// went through, and its result); `None` while it is pending.
    pub fn command_outcome(&self, id: i64) -> Result<Option<(bool, String)>> {
        let row: Option<(String, Option<String>)> = self
            .conn()
            .query_row(
                "SELECT state, result FROM commands WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            Some((state, result)) if state != "pending" => {
                Some((state == "done", result.unwrap_or_default()))
            }
            _ => None,
        })
    }

    /// An event about one job that changes nothing else (a fault met while
    /// handling it).
    pub fn record_event(
        &mut self,
        job: i64,
        kind: &str,
        message: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|tx| insert_event(tx, now, Some(job), kind, message))
    }

    /// An event about no job in particular (an orphan session, a drain).
    pub fn record_note(&mut self, kind: &str, message: &str, now: Timestamp) -> Result<()> {
        self.write(|tx| insert_event(tx, now, None, kind, message))
    }

    /// An event about one job that changes no state (the status its agent
    /// shows, and the signal that said so).
    pub fn record_job_note(
        &mut self,
        job: i64,
        kind: &str,
        message: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|tx| insert_event(tx, now, Some(job), kind, message))
    }

    /// Commands the engine has not carried out yet, oldest first.
    pub fn pending_commands(&self) -> Result<Vec<OperatorCommand>> {
        let mut stmt = self.conn().prepare_cached(PENDING_COMMANDS)?;
        let rows = stmt.query_map([], |r| {
            Ok(OperatorCommand {
                id: r.get(0)?,
                at: Timestamp::from_millis(r.get(1)?),
                kind: {
                    let text: String = r.get(2)?;
                    CommandKind::parse(&text).ok_or(text)
                },
                job: r.get(3)?,
                text: r.get(4)?,
                state: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
