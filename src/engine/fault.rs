//! What a failed pass means for the engine: a fault of its surroundings
//! that passes (a full disk, a busy or read-only journal, a tmux server
//! that went away) is waited out with backoff; only a journal that can no
//! longer be trusted stops the engine.
//!
//! Pure: it reads an error chain and says what kind of fault it is.

use crate::journal::JournalError;
use crate::runtime::TmuxError;

/// A fault that the engine waits out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// The disk under the home is full.
    DiskFull,
    /// Another process held the journal past the busy timeout.
    JournalBusy,
    /// The home or the journal cannot be written (read-only, permissions).
    ReadOnly,
    /// Reading or writing the disk failed.
    Io,
    /// The home's tmux server did not answer, or went away.
    Tmux,
    /// Anything else a pass ran into; retried, shown with its message.
    Other,
}

impl Fault {
    /// What the operator can do about it, said plainly.
    pub fn advice(self) -> &'static str {
        match self {
            Fault::DiskFull => "free space on the home's disk; the engine goes on by itself",
            Fault::JournalBusy => {
                "another process holds the journal; it is retried until that ends"
            }
            Fault::ReadOnly => {
                "make the home writable (its file system or permissions); the engine goes on by itself"
            }
            Fault::Io => "the disk failed a read or write; it is retried",
            Fault::Tmux => "the home's tmux server is being reconnected",
            Fault::Other => "retried with backoff; see the log",
        }
    }

    /// What a one-off command (a dispatch, a report, an ingest) that met
    /// this fault tells the operator: whether anything was written, and
    /// what to do. `None` when the fault says nothing the error does not.
    pub fn for_a_command(self) -> Option<&'static str> {
        match self {
            Fault::DiskFull => Some(
                "the disk under the home is full: this command wrote nothing; free space on it and run it again",
            ),
            Fault::JournalBusy => Some(
                "another process held the journal for too long: this command wrote nothing; run it again",
            ),
            Fault::ReadOnly => Some(
                "the home cannot be written (read-only file system or permissions): this command wrote nothing",
            ),
            Fault::Io | Fault::Tmux | Fault::Other => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Fault::DiskFull => "disk full",
            Fault::JournalBusy => "journal busy",
            Fault::ReadOnly => "home read-only",
            Fault::Io => "disk error",
            Fault::Tmux => "tmux unreachable",
            Fault::Other => "error",
        }
    }
}

/// What the engine does after a failed pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Wait (with backoff) and pass again.
    Retry(Fault),
    /// The journal cannot be trusted: stop, saying what to do.
    Stop(String),
}

/// A pass that panicked: a bug met on one job's or one message's data
/// must not end the engine (and with it every other job). The panic is
/// turned into an error of its own, judged like any other fault of no
/// known kind (retried with backoff, shown by `doctor` and the room).
#[derive(Debug, thiserror::Error)]
#[error("the pass panicked: {0} (a bug; see the log, and report it)")]
pub struct PassPanicked(pub String);

/// Runs `pass`, turning a panic inside it into [`PassPanicked`]. What the
/// pass had half-written in the journal is rolled back with its
/// transaction; the next pass reads the journal afresh.
pub fn contained<T>(pass: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(pass)) {
        Ok(result) => result,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_string());
            tracing::error!("engine: a pass panicked: {what}");
            Err(PassPanicked(what).into())
        }
    }
}

/// Judges the error of a failed pass.
pub fn judge(error: &anyhow::Error) -> Verdict {
    for cause in error.chain() {
        if let Some(e) = cause.downcast_ref::<JournalError>() {
            match e {
                JournalError::NewerSchema { .. } => return Verdict::Stop(e.to_string()),
                JournalError::Sqlite(s) => return sqlite(s),
                _ => {}
            }
        }
        if let Some(s) = cause.downcast_ref::<rusqlite::Error>() {
            return sqlite(s);
        }
        if let Some(e) = cause.downcast_ref::<TmuxError>() {
            return Verdict::Retry(match e {
                TmuxError::Missing => Fault::Other,
                _ => Fault::Tmux,
            });
        }
        if let Some(e) = cause.downcast_ref::<std::io::Error>() {
            return Verdict::Retry(io(e));
        }
    }
    // Child programs (git) only say it in words.
    let text = format!("{error:#}");
    if text.contains("No space left on device") || text.contains("Disk quota exceeded") {
        Verdict::Retry(Fault::DiskFull)
    } else if text.contains("Read-only file system") {
        Verdict::Retry(Fault::ReadOnly)
    } else {
        Verdict::Retry(Fault::Other)
    }
}

/// Whether an error is a fault of the surroundings (so a job it met while
/// being handled is not to blame): anything but [`Fault::Other`].
pub fn is_environmental(error: &anyhow::Error) -> bool {
    !matches!(judge(error), Verdict::Retry(Fault::Other))
}

fn sqlite(e: &rusqlite::Error) -> Verdict {
    use rusqlite::ErrorCode as C;
    let rusqlite::Error::SqliteFailure(failure, _) = e else {
        return Verdict::Retry(Fault::Other);
    };
    match failure.code {
        C::DatabaseCorrupt | C::NotADatabase => Verdict::Stop(format!(
            "the journal is damaged ({e}); stop every switchboard on this home, keep a copy of journal.db, and run `sqlite3 journal.db .recover` or start a new home"
        )),
        C::DiskFull => Verdict::Retry(Fault::DiskFull),
        C::DatabaseBusy | C::DatabaseLocked => Verdict::Retry(Fault::JournalBusy),
        C::ReadOnly | C::CannotOpen | C::PermissionDenied => Verdict::Retry(Fault::ReadOnly),
        C::SystemIoFailure => Verdict::Retry(Fault::Io),
        _ => Verdict::Retry(Fault::Other),
    }
}

fn io(e: &std::io::Error) -> Fault {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::StorageFull | K::QuotaExceeded => Fault::DiskFull,
        K::ReadOnlyFilesystem | K::PermissionDenied => Fault::ReadOnly,
        _ => Fault::Io,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_error(code: i32) -> anyhow::Error {
        let e = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
        anyhow::Error::from(JournalError::from(e)).context("a pass")
    }

    #[test]
    fn faults_of_the_surroundings_are_waited_out() {
        assert_eq!(
            judge(&sqlite_error(rusqlite::ffi::SQLITE_FULL)),
            Verdict::Retry(Fault::DiskFull)
        );
        assert_eq!(
            judge(&sqlite_error(rusqlite::ffi::SQLITE_BUSY)),
            Verdict::Retry(Fault::JournalBusy)
        );
        assert_eq!(
            judge(&sqlite_error(rusqlite::ffi::SQLITE_READONLY)),
            Verdict::Retry(Fault::ReadOnly)
        );
        assert_eq!(
            judge(&anyhow::Error::from(TmuxError::Failed(
                "control client lost".into()
            ))),
            Verdict::Retry(Fault::Tmux)
        );
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert_eq!(
            judge(&anyhow::Error::from(full).context("writing")),
            Verdict::Retry(Fault::DiskFull)
        );
        assert!(is_environmental(&sqlite_error(rusqlite::ffi::SQLITE_FULL)));
        let said = |e: &anyhow::Error| match judge(e) {
            Verdict::Retry(kind) => kind.for_a_command(),
            Verdict::Stop(_) => None,
        };
        assert!(
            said(&sqlite_error(rusqlite::ffi::SQLITE_FULL))
                .is_some_and(|s| s.contains("disk under the home is full"))
        );
        assert!(said(&sqlite_error(rusqlite::ffi::SQLITE_BUSY)).is_some());
        assert_eq!(said(&anyhow::anyhow!("no project named x")), None);
        assert!(!is_environmental(&anyhow::anyhow!(
            "job #3 has no attempt 1"
        )));
        assert_eq!(
            judge(&anyhow::anyhow!(
                "git worktree add: fatal: could not create work tree dir: No space left on device"
            )),
            Verdict::Retry(Fault::DiskFull)
        );
    }

    #[test]
    fn a_panic_in_a_pass_is_an_error_that_is_retried() {
        let failed = contained(|| -> anyhow::Result<()> { panic!("no attempt for job #7") })
            .expect_err("the panic is an error");
        assert!(
            format!("{failed:#}").contains("no attempt for job #7"),
            "{failed:#}"
        );
        assert_eq!(judge(&failed), Verdict::Retry(Fault::Other));
        let owned = contained(|| -> anyhow::Result<()> { panic!("{}", String::from("job #8")) })
            .expect_err("the panic is an error");
        assert!(format!("{owned:#}").contains("job #8"));
        assert_eq!(contained(|| Ok(3)).ok(), Some(3));
    }

    #[test]
    fn only_a_journal_that_cannot_be_trusted_stops_the_engine() {
        assert!(matches!(
            judge(&sqlite_error(rusqlite::ffi::SQLITE_CORRUPT)),
            Verdict::Stop(_)
        ));
        assert!(matches!(
            judge(&sqlite_error(rusqlite::ffi::SQLITE_NOTADB)),
            Verdict::Stop(_)
        ));
        assert!(matches!(
            judge(&anyhow::Error::from(JournalError::NewerSchema {
                found: 9,
                known: 3
            })),
            Verdict::Stop(_)
        ));
        assert_eq!(
            judge(&anyhow::anyhow!("something odd")),
            Verdict::Retry(Fault::Other)
        );
    }
}
