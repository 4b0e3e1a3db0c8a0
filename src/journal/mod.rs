//! The journal: one SQLite database in WAL mode that is the single source of
//! truth. Every write is a `BEGIN IMMEDIATE` transaction, so a state change
//! and the event that explains it commit together or not at all, and a
//! writer waits its turn (busy timeout) instead of failing. Commits are
//! synchronous (`synchronous = FULL`): once a job id has been printed, the
//! job survives a power loss.
//!
//! The write-ahead log stays between processes while it is short: the last
//! connection to close copies it into the database and removes it (SQLite's
//! checkpoint on close) only once it has grown past [`KEPT_WAL_BYTES`]. So
//! a short command such as `dispatch` run with no engine costs one commit
//! `fsync` and the directory's, instead of five (log header, directory,
//! commit, and the checkpoint's two); one in about 20 also pays for the
//! checkpoint. While other connections are open (an engine), SQLite's own
//! checkpoint every 1,000 pages keeps the log short.

mod after;
mod attempts;
mod commands;
mod comments;
mod details;
mod hosts;
mod intake;
mod jobs;
mod pane_marks;
mod projects;
mod record;
mod replay;
mod reports;
mod schedule;
pub mod schema;
mod turn_end;
mod views;

use std::path::Path;
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

pub use after::Waits;
pub use attempts::Attempt;
pub use commands::{CommandKind, OperatorCommand};
pub use details::{JobDetails, Origin, OriginKind};
pub use intake::{Delivery, DeliveryOutcome, Incoming, IngestOutcome};
pub use jobs::{Event, JobFilter, NewJob};
pub use pane_marks::{PaneEntry, PaneMark};
pub use record::Recorded;
pub use reports::{Report, ReportSource, ReportStatus};
pub use views::ReviewView;

use crate::model::TransitionError;

/// How long a writer waits for another process's transaction.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The length of the write-ahead log past which the last connection to
/// close checkpoints it (about 100 pages of 4 KiB). A process that opens
/// the journal while no other has it open reads the whole log to rebuild
/// its index (a few µs a page), and forgets what was already copied into
/// the database, so the log left behind is kept short; a dispatch writes
/// 5 pages.
pub const KEPT_WAL_BYTES: u64 = 100 * (4096 + 24);

/// What can go wrong with the journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("no job #{0}; `switchboard jobs` lists them")]
    NoJob(i64),
    #[error("{0}")]
    Refused(String),
    /// The jobs a new job is to wait for cannot be waited for (the
    /// scheduler's [`crate::scheduler::check_after`] said why).
    #[error(transparent)]
    After(#[from] crate::scheduler::AfterError),
    #[error("the journal holds something this version cannot read: {0}")]
    Corrupt(String),
    #[error(
        "the journal is at schema version {found}, newer than this switchboard knows ({known}); upgrade switchboard"
    )]
    NewerSchema { found: i64, known: i64 },
}

pub type Result<T, E = JournalError> = std::result::Result<T, E>;

/// A counter of the statements `conn` runs, kept by SQLite's trace hook.
fn count_statements(conn: &mut Connection) -> Result<std::sync::Arc<std::sync::atomic::AtomicU64>> {
    let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = std::sync::Arc::clone(&count);
    conn.trace_v2(
        rusqlite::trace::TraceEventCodes::SQLITE_TRACE_STMT,
        Some(move |_: rusqlite::trace::TraceEvent<'_>| {
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }),
    )?;
    Ok(count)
}

/// An open journal.
pub struct Journal {
    conn: Connection,
    /// Statements run on `conn` so far (SQLite's trace counts them).
    statements: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path` and migrates it to
    /// the latest schema.
    pub fn open(path: &Path) -> Result<Journal> {
        Self::open_inner(path).map_err(|e| explain_open_error(path, e))
    }

    fn open_inner(path: &Path) -> Result<Journal> {
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // Where the file cannot be written, SQLite opens it for reading only
        // (a read-only home that kept the log and its index), and every
        // write after would fail without a reason. Refused here, where
        // `explain_open_error` can say why.
        if conn.is_readonly(rusqlite::MAIN_DB)? {
            return Err(JournalError::Sqlite(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
                Some("the journal could be opened for reading only".into()),
            )));
        }
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // The log outlives this connection (see the module's doc): no
        // checkpoint, no removal of the log and its index when it closes.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
        set_wal(&conn)?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // 16 MiB of page cache: bulk intake touches the same index pages often.
        conn.pragma_update(None, "cache_size", -16_000)?;
        let statements = count_statements(&mut conn)?;
        let mut journal = Journal { conn, statements };
        journal.migrate_to(schema::LATEST)?;
        Ok(journal)
    }

    /// Brings the schema to `target` (at most [`schema::LATEST`]).
    pub fn migrate_to(&mut self, target: i64) -> Result<()> {
        let version = self.schema_version()?;
        if version < 0 {
            return Err(damaged_version(version));
        }
        if version > schema::LATEST {
            return Err(JournalError::NewerSchema {
                found: version,
                known: schema::LATEST,
            });
        }
        if version >= target {
            return Ok(());
        }
        self.write(|tx| {
            // Read again under the write lock: another process may have
            // migrated while we waited.
            let mut version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            while version < target {
                let migration = usize::try_from(version)
                    .ok()
                    .and_then(|v| schema::MIGRATIONS.get(v))
                    .ok_or_else(|| damaged_version(version))?;
                tx.execute_batch(migration)?;
                version += 1;
                tx.pragma_update(None, "user_version", version)?;
            }
            Ok(())
        })
    }

    /// The schema version the journal is at.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// SQLite's own check of the file: `["ok"]` when healthy.
    pub fn integrity_check(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction, committing if it
    /// succeeds and rolling back if it fails.
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Rows this connection has inserted, updated or deleted since it was
    /// opened (SQLite's own counter), for the figures of rows per job.
    pub fn total_changes(&self) -> i64 {
        self.conn.total_changes() as i64
    }

    /// Statements this connection has run since it was opened, counted
    /// by SQLite as each begins: what an engine pass costs the journal,
    /// which must not grow with the agents it looks at.
    pub fn statements(&self) -> u64 {
        self.statements.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// SQLite's `data_version`: it moves whenever another connection
    /// commits to the journal (not on this connection's own writes; see
    /// [`Journal::total_changes`] for those).
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// The connection, for reads.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

impl Drop for Journal {
    /// A long log is checkpointed and removed if this is the last
    /// connection (SQLite tries that without waiting); a short one is left
    /// for the next process (see the module's doc).
    fn drop(&mut self) {
        let Some(path) = self.conn.path().filter(|p| !p.is_empty()) else {
            return;
        };
        let long = std::fs::metadata(format!("{path}-wal")).is_ok_and(|m| m.len() > KEPT_WAL_BYTES);
        if long {
            let _ = self
                .conn
                .set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, false);
        }
    }
}

/// An error opening the journal, with the reason the operator can act on
/// when SQLite only says it cannot open or write the file.
/// A schema version no switchboard ever wrote (the header's number is
/// signed; below zero it was damaged).
fn damaged_version(version: i64) -> JournalError {
    JournalError::Corrupt(format!(
        "schema version {version} in its header; keep a copy of journal.db and run `sqlite3 journal.db .recover`, or start a new home"
    ))
}

fn explain_open_error(path: &Path, e: JournalError) -> JournalError {
    use rusqlite::ErrorCode as C;
    let JournalError::Sqlite(rusqlite::Error::SqliteFailure(failure, _)) = &e else {
        return e;
    };
    if !matches!(
        failure.code,
        C::CannotOpen | C::ReadOnly | C::PermissionDenied | C::SystemIoFailure
    ) {
        return e;
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let probe = dir.join(format!(".switchboard-write-test-{}", std::process::id()));
    let why = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            match std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
            {
                Err(io) if io.kind() != std::io::ErrorKind::NotFound => {
                    format!("{} cannot be opened for writing: {io}", path.display())
                }
                _ => return e,
            }
        }
        Err(io) => match io.kind() {
            std::io::ErrorKind::ReadOnlyFilesystem => {
                format!("the home {} is on a read-only file system", dir.display())
            }
            std::io::ErrorKind::PermissionDenied => format!(
                "the home {} is not writable by this user (check its owner and permissions)",
                dir.display()
            ),
            std::io::ErrorKind::StorageFull => {
                format!("the disk under the home {} is full", dir.display())
            }
            _ => format!("the home {} cannot be written: {io}", dir.display()),
        },
    };
    JournalError::Refused(format!(
        "cannot open the journal {}: {why} ({e}); make it writable, or use another home with --home DIR",
        path.display()
    ))
}

/// Switches to WAL mode. Only the first opener of a new file changes the
/// mode; it needs a moment of exclusive access, so a race with another new
/// opener is retried rather than reported.
fn set_wal(conn: &Connection) -> Result<()> {
    let mut delay = Duration::from_millis(1);
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)) {
            Ok(mode) if mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(mode) => {
                return Err(JournalError::Refused(format!(
                    "the journal cannot use WAL mode (it stays in {mode} mode); put the home on a local file system"
                )));
            }
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_millis(50));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Test-only crash points: a test process started with
/// `SWITCHBOARD_TEST_CRASH=<point>` aborts there, as a power loss would.
#[cfg(test)]
pub(crate) fn crash_point(point: &str) {
    if std::env::var("SWITCHBOARD_TEST_CRASH").as_deref() == Ok(point) {
        std::process::abort();
    }
}

#[cfg(not(test))]
#[inline(always)]
pub(crate) fn crash_point(_point: &str) {}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;

#[cfg(test)]
#[path = "plan_tests.rs"]
mod plan_tests;

#[cfg(test)]
#[path = "batch_tests.rs"]
mod batch_tests;
#[cfg(test)]
#[path = "turn_end_tests.rs"]
mod turn_end_tests;
