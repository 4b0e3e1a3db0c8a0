//! Where a loaded config came from: the file's stamp, taken before it was
//! read, and the operator's table as read. The engine watches the file
//! from there, so an edit made after the read (before the engine started
//! watching) is not mistaken for what the engine already has.

use std::path::Path;
use std::time::SystemTime;

/// What the file looked like: a changed mtime, length or inode (an
/// editor that writes a new file and renames it) is a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

/// The stamp of `path` now; `None` when there is no file (or no look).
pub fn stamp(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
        inode: meta.ino(),
    })
}

impl Stamp {
    /// How long before `at` the file was last written; `None` when its
    /// time is unknown or after `at` (a clock set back).
    pub fn age(&self, at: SystemTime) -> Option<std::time::Duration> {
        self.modified.and_then(|m| at.duration_since(m).ok())
    }
}

/// The file a config was loaded from, as it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Origin {
    pub path: std::path::PathBuf,
    /// Taken before the read: a change during or after it makes the
    /// next look differ.
    pub stamp: Option<Stamp>,
    /// The operator's own settings (empty when there was no file).
    pub table: toml::Table,
}
