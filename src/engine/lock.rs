//! One engine per home: a lock held for the engine's life. A second control
//! room on the same home finds it taken and becomes a viewer.

use std::fs::{File, OpenOptions};
use std::io::Write;

use crate::home::Home;

/// The held lock; dropping it releases it (so does the process dying).
pub struct EngineLock {
    _file: File,
}

impl EngineLock {
    /// Takes the home's engine lock, or `None` when another engine has it.
    pub fn acquire(home: &Home) -> std::io::Result<Option<EngineLock>> {
        let path = home.root().join("engine.lock");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        match file.try_lock() {
            Ok(()) => {
                file.set_len(0)?;
                writeln!(file, "{}", std::process::id())?;
                Ok(Some(EngineLock { _file: file }))
            }
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }
}
