//! The engine's health as other processes see it: `<home>/engine.health`,
//! a small JSON file that `jobs`, `doctor` and every control room read.
//!
//! The file keeps a fixed size and is overwritten in place, so that it can
//! still be written when the disk is full (the blocks are already there):
//! a full disk is exactly when the operator needs to read it.

use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::fault::Fault;
use crate::home::Home;
use crate::model::Timestamp;

/// The file's fixed size; the JSON is padded with spaces to it.
const SIZE: usize = 2048;

/// What the engine reports about itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Health {
    /// The engine's process.
    pub pid: u32,
    /// Since when the current fault lasts; `None` when passes succeed.
    pub fault: Option<FaultReport>,
    /// Start-up recovery: what a crash had left, and what was done.
    #[serde(default)]
    pub recovered: Vec<String>,
}

/// A fault the engine is waiting out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FaultReport {
    pub kind: Fault,
    /// The error as the failed pass met it.
    pub message: String,
    pub since: Timestamp,
    /// Passes tried since it began.
    pub tries: u32,
    /// When the engine tries again.
    pub next_try: Timestamp,
}

impl FaultReport {
    /// One line for the operator: what, since when, what to do.
    pub fn line(&self) -> String {
        format!(
            "engine: {} since {} ({} tries; next in {}s): {}. {}",
            self.kind.as_str(),
            self.since,
            self.tries,
            self.next_try.since(Timestamp::now()).as_secs(),
            crate::untrusted::visible(&self.message),
            self.kind.advice()
        )
    }
}

/// The file of `home`.
pub fn file(home: &Home) -> PathBuf {
    home.root().join("engine.health")
}

/// Writes `health` over the file (in place, fixed size); best effort,
/// since the engine goes on either way.
pub fn write(path: &Path, health: &Health) {
    let Ok(mut text) = serde_json::to_string(health) else {
        return;
    };
    if text.len() > SIZE - 1 {
        // A very long message: keep the start of it.
        let mut short = health.clone();
        if let Some(f) = short.fault.as_mut() {
            f.message = f.message.chars().take(SIZE / 4).collect();
        }
        short.recovered.truncate(4);
        match serde_json::to_string(&short) {
            Ok(t) if t.len() < SIZE => text = t,
            _ => return,
        }
    }
    let mut bytes = text.into_bytes();
    bytes.resize(SIZE - 1, b' ');
    bytes.push(b'\n');
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .and_then(|mut f| {
            f.seek(std::io::SeekFrom::Start(0))?;
            f.write_all(&bytes)
        });
    if let Err(e) = result {
        tracing::warn!("cannot write {}: {e}", path.display());
    }
}

/// The health of the engine of `home`, when an engine runs there now (its
/// lock is held) and has written one.
pub fn read(home: &Home) -> Option<Health> {
    let text = std::fs::read_to_string(file(home)).ok()?;
    let health: Health = serde_json::from_str(text.trim_end()).ok()?;
    engine_running(home).then_some(health)
}

/// Whether an engine holds the lock of `home` now.
pub fn engine_running(home: &Home) -> bool {
    let Ok(file) = std::fs::OpenOptions::new()
        .write(true)
        .open(home.root().join("engine.lock"))
    else {
        return false;
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(_) => true,
    }
}

/// How long to wait before the `tries`-th retry: from a quarter second,
/// doubling, at most 30 s.
pub fn backoff(tries: u32) -> Duration {
    let ms = 250u64.saturating_mul(1u64 << tries.min(7));
    Duration::from_millis(ms.min(30_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_half_a_minute() {
        assert_eq!(backoff(0), Duration::from_millis(250));
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(6), Duration::from_secs(16));
        assert_eq!(backoff(7), Duration::from_secs(30));
        assert_eq!(backoff(40), Duration::from_secs(30));
    }

    #[test]
    fn the_file_keeps_its_size_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.health");
        let mut health = Health {
            pid: 7,
            fault: Some(FaultReport {
                kind: Fault::DiskFull,
                message: "database or disk is full".into(),
                since: Timestamp::from_millis(1_000),
                tries: 2,
                next_try: Timestamp::from_millis(2_000),
            }),
            recovered: vec![],
        };
        write(&path, &health);
        assert_eq!(std::fs::metadata(&path).unwrap().len() as usize, SIZE);
        health.fault = None;
        write(&path, &health);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.len(), SIZE);
        let back: Health = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(back, health);
        // A huge message still fits.
        health.fault = Some(FaultReport {
            kind: Fault::Other,
            message: "x".repeat(10_000),
            since: Timestamp::from_millis(1),
            tries: 1,
            next_try: Timestamp::from_millis(2),
        });
        write(&path, &health);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.len(), SIZE);
        assert!(serde_json::from_str::<Health>(text.trim_end()).is_ok());
    }
}
