//! The inbox: message files dropped into `<home>/inbox/`. A file holds one
//! message in any JSON layout, or JSON lines. A good file is journaled,
//! then removed; a file with anything unreadable moves to
//! `inbox/rejected/` with its reasons beside it (`NAME.reason`), after its
//! readable messages were journaled: nothing is lost either way.
//!
//! Only regular files are taken: a symbolic link, a FIFO, a socket or a
//! device is moved aside with its reason and never opened (a link to
//! `/etc/passwd` must not put the password file into the journal; a FIFO
//! must not hang the engine). Files are opened without following links
//! and checked again once open. A file is taken only once it has stopped
//! changing for [`SETTLE`] (a writer that does not use the `.part` rename
//! may still be writing it); its bytes are read streamed, each message
//! within the limit of `ingest`, so a huge file costs no more memory than
//! a small one.

use std::fs::{Metadata, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::Engine;
use crate::config::Priorities;
use crate::intake::{MAX_MESSAGE_BYTES, ingest_lines, read_item};
use crate::journal::{Incoming, Journal};
use crate::model::{Intake, Source, Timestamp};

/// How long a file must have gone unchanged before it is taken. A file
/// renamed into the inbox after it was written (the `.part` convention, or
/// `mv` of a finished file) has usually been quiet that long already.
pub const SETTLE: Duration = Duration::from_secs(2);

/// What one pass over the inbox did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct InboxPass {
    /// Files journaled whole and removed.
    pub taken: usize,
    /// Files moved to `rejected/` (wholly or partly unreadable, or not
    /// regular files).
    pub rejected: usize,
    /// Files left for a later pass: still changing.
    pub waiting: usize,
}

/// What to do with one entry of the inbox, from its own metadata (not its
/// target's).
#[derive(Debug, PartialEq, Eq)]
enum Look {
    /// A regular file that has been quiet for [`SETTLE`].
    Take,
    /// A regular file written to within [`SETTLE`].
    Wait,
    /// A directory (`rejected/` among them): not for the inbox to touch.
    Skip,
    /// Anything but a regular file: moved aside with this reason.
    Refuse(String),
}

fn look(meta: &Metadata, now: SystemTime) -> Look {
    let kind = meta.file_type();
    if kind.is_dir() {
        return Look::Skip;
    }
    if !kind.is_file() {
        let what = if kind.is_symlink() {
            "a symbolic link"
        } else if kind.is_fifo() {
            "a FIFO"
        } else if kind.is_socket() {
            "a socket"
        } else if kind.is_block_device() || kind.is_char_device() {
            "a device"
        } else {
            "not a regular file"
        };
        return Look::Refuse(format!(
            "{what}: the inbox takes regular files only, and did not open it"
        ));
    }
    match meta.modified() {
        // A time in the future (a clock we cannot judge by) is taken as
        // quiet: waiting for it could take forever.
        Ok(changed) => match now.duration_since(changed) {
            Ok(quiet) if quiet < SETTLE => Look::Wait,
            _ => Look::Take,
        },
        Err(_) => Look::Take,
    }
}

impl Engine {
    /// Takes in every file waiting in the inbox; returns how many it
    /// looked at. A file still being written leaves the inbox flagged, so
    /// the engine looks again shortly.
    pub(super) fn take_inbox(&mut self) -> anyhow::Result<usize> {
        let priorities = self.config.priorities.clone();
        let pass = take_all(
            &self.home.inbox(),
            &self.home.inbox_rejected(),
            &mut self.journal,
            &priorities,
            SystemTime::now(),
        )?;
        if pass.waiting > 0 {
            self.inbox_news
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(pass.taken + pass.rejected + pass.waiting)
    }
}

/// One pass over `inbox`: takes what is ready, moves aside what cannot be
/// read into `rejected`, leaves what is still being written.
pub fn take_all(
    inbox: &Path,
    rejected: &Path,
    journal: &mut Journal,
    priorities: &Priorities,
    now: SystemTime,
) -> anyhow::Result<InboxPass> {
    let mut names: Vec<_> = std::fs::read_dir(inbox)?
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .filter(|n| !hidden_or_partial(Path::new(n)))
        .collect();
    names.sort();
    let mut pass = InboxPass::default();
    for name in names {
        let file = inbox.join(&name);
        let source = Source::new(Intake::Inbox, format!("inbox/{}", name.to_string_lossy()));
        let Ok(meta) = std::fs::symlink_metadata(&file) else {
            continue; // gone meanwhile
        };
        let outcome = match look(&meta, now) {
            Look::Skip => continue,
            Look::Wait => Ok(Taken::Wait),
            Look::Refuse(reason) => Ok(Taken::Unread(reason)),
            Look::Take => take_file(&file, &meta, &source, journal, priorities),
        };
        let reasons = match outcome {
            Ok(Taken::Journaled) => {
                std::fs::remove_file(&file)?;
                tracing::info!("{} journaled", source.label);
                pass.taken += 1;
                continue;
            }
            Ok(Taken::Wait) => {
                pass.waiting += 1;
                continue;
            }
            // Its unreadable lines are in the journal already.
            Ok(Taken::Refused(reasons)) => reasons,
            // One bad file never stops the engine: it moves aside, and the
            // journal keeps why.
            Ok(Taken::Unread(reason)) => unread(journal, &source, priorities, reason)?,
            // The journal's trouble (busy past its timeout, a full disk)
            // is no fault of the file: it stays for a later pass.
            Err(e) if journal_fault(&e) => return Err(e),
            Err(e) => unread(journal, &source, priorities, format!("{e:#}"))?,
        };
        tracing::warn!("{} rejected: {}", source.label, reasons.join("; "));
        move_aside(&file, rejected, &name, &reasons)?;
        pass.rejected += 1;
    }
    Ok(pass)
}

/// Whether `error` is the journal failing for a reason of its
/// surroundings, as opposed to the file being unreadable.
fn journal_fault(error: &anyhow::Error) -> bool {
    error.chain().any(|c| {
        c.downcast_ref::<crate::journal::JournalError>().is_some()
            || c.downcast_ref::<rusqlite::Error>().is_some()
    }) && crate::engine::fault::is_environmental(error)
}

/// What became of one entry.
enum Taken {
    Journaled,
    /// Changed since it was looked at: left for a later pass.
    Wait,
    /// Journaled as far as readable; these reasons go beside it.
    Refused(Vec<String>),
    /// Not read at all, for this reason.
    Unread(String),
}

/// Journals why an entry was not read (its bytes were never taken).
fn unread(
    journal: &mut Journal,
    source: &Source,
    priorities: &Priorities,
    reason: String,
) -> anyhow::Result<Vec<String>> {
    journal.ingest(
        &[Incoming::Rejected {
            line: None,
            reason: reason.clone(),
            raw: Vec::new(),
        }],
        source,
        priorities,
        Timestamp::now(),
    )?;
    Ok(vec![reason])
}

fn take_file(
    path: &Path,
    seen: &Metadata,
    source: &Source,
    journal: &mut Journal,
    priorities: &Priorities,
) -> anyhow::Result<Taken> {
    // No link is followed (O_NOFOLLOW) and no open waits for a writer
    // (O_NONBLOCK: a FIFO swapped in after the look).
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Ok(Taken::Unread(
                "a symbolic link: the inbox takes regular files only, and did not open it".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Ok(Taken::Unread(
            "not a regular file: the inbox takes regular files only".into(),
        ));
    }
    if meta.len() != seen.len() || meta.modified().ok() != seen.modified().ok() {
        return Ok(Taken::Wait);
    }
    if meta.len() > MAX_MESSAGE_BYTES as u64 {
        // Too big to be one message: JSON lines, read streamed.
        return lines(
            BufReader::new(file),
            source,
            journal,
            priorities,
            meta.len(),
        );
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_MESSAGE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    match read_item(bytes, None) {
        item @ Incoming::Message { .. } => {
            journal.ingest(&[item], source, priorities, Timestamp::now())?;
            Ok(Taken::Journaled)
        }
        Incoming::Rejected {
            reason: whole,
            raw: bytes,
            ..
        } => {
            let report = ingest_lines(journal, &bytes[..], source, priorities)?;
            if report.accepted == 0
                && !report.rejected.is_empty()
                && bytes.iter().filter(|&&b| b == b'\n').count() > 1
            {
                // Not JSON lines either: the document's own error says more.
                Ok(Taken::Refused(vec![whole]))
            } else {
                Ok(refused_lines(report.rejected))
            }
        }
    }
}

/// A file over the one-message limit, as JSON lines.
fn lines(
    input: impl std::io::BufRead,
    source: &Source,
    journal: &mut Journal,
    priorities: &Priorities,
    len: u64,
) -> anyhow::Result<Taken> {
    let report = ingest_lines(journal, input, source, priorities)?;
    if report.accepted == 0 && !report.rejected.is_empty() {
        let mut reasons = vec![format!(
            "the file is {len} bytes, over the {MAX_MESSAGE_BYTES}-byte limit for one message, \
             and none of its lines is a message"
        )];
        reasons.extend(report.rejected.iter().take(10).map(line_reason));
        return Ok(Taken::Refused(reasons));
    }
    Ok(refused_lines(report.rejected))
}

fn line_reason((line, reason): &(u64, String)) -> String {
    format!("line {line}: {reason}")
}

fn refused_lines(rejected: Vec<(u64, String)>) -> Taken {
    if rejected.is_empty() {
        Taken::Journaled
    } else {
        Taken::Refused(rejected.iter().map(line_reason).collect())
    }
}

/// Moves `file` (the entry itself, never a link's target) into `rejected`
/// with `NAME.reason` beside it.
fn move_aside(
    file: &Path,
    rejected: &Path,
    name: &std::ffi::OsStr,
    reasons: &[String],
) -> anyhow::Result<()> {
    std::fs::create_dir_all(rejected)?;
    let target = rejected.join(name);
    std::fs::rename(file, &target)?;
    let mut reason_name = name.to_owned();
    reason_name.push(".reason");
    // Written without following a link that might sit there already.
    let _ = std::fs::remove_file(rejected.join(&reason_name));
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(rejected.join(&reason_name))?;
    out.write_all(format!("{}\n", reasons.join("\n")).as_bytes())?;
    Ok(())
}

/// Files still being written by convention (`.name`, `name.tmp`,
/// `name.part`) wait for their rename.
fn hidden_or_partial(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.starts_with('.') || name.ends_with(".tmp") || name.ends_with(".part")
}

#[cfg(test)]
#[path = "inbox_tests.rs"]
mod tests;
