//! The inbox: message files dropped into `<home>/inbox/`. A file holds one
//! message in any JSON layout, or JSON lines. A good file is journaled,
//! then removed; a file with anything unreadable moves to
//! `inbox/rejected/` with its reasons beside it (`NAME.reason`), after its
//! readable messages were journaled: nothing is lost either way.

use std::io::Cursor;
use std::path::Path;

use super::Engine;
use crate::intake::{ingest_lines, parse_message};
use crate::journal::Incoming;
use crate::model::Timestamp;

impl Engine {
    /// Takes in every file waiting in the inbox; returns how many.
    pub(super) fn take_inbox(&mut self) -> anyhow::Result<usize> {
        let inbox = self.home.inbox();
        let mut files: Vec<_> = std::fs::read_dir(&inbox)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && !hidden_or_partial(p))
            .collect();
        files.sort();
        for file in &files {
            if let Err(e) = self.take_file(file) {
                // One bad file never stops the engine: it moves aside.
                tracing::warn!("inbox file {}: {e:#}", file.display());
                if let Some(name) = file.file_name() {
                    let target = self.home.inbox_rejected().join(name);
                    if std::fs::rename(file, &target).is_ok() {
                        let mut reason = target.into_os_string();
                        reason.push(".reason");
                        let _ = std::fs::write(reason, format!("{e:#}\n"));
                    }
                }
            }
        }
        Ok(files.len())
    }

    fn take_file(&mut self, file: &Path) -> anyhow::Result<()> {
        let bytes = std::fs::read(file)?;
        let source = format!(
            "inbox/{}",
            file.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        );
        let priorities = self.config.priorities.clone();
        let reasons: Vec<String> = match parse_message(&bytes) {
            Ok(message) => {
                self.journal.ingest(
                    &[Incoming::Message { message }],
                    &source,
                    &priorities,
                    Timestamp::now(),
                )?;
                Vec::new()
            }
            Err(whole) => {
                let report =
                    ingest_lines(&mut self.journal, Cursor::new(&bytes), &source, &priorities)?;
                if report.accepted == 0
                    && !report.rejected.is_empty()
                    && bytes.iter().filter(|&&b| b == b'\n').count() > 1
                {
                    // Not JSON lines either: the document's own error says more.
                    vec![whole]
                } else {
                    report
                        .rejected
                        .iter()
                        .map(|(line, reason)| format!("line {line}: {reason}"))
                        .collect()
                }
            }
        };
        if reasons.is_empty() {
            std::fs::remove_file(file)?;
            tracing::info!("{source} journaled");
        } else {
            let name = file.file_name().map(|n| n.to_owned()).unwrap_or_default();
            let target = self.home.inbox_rejected().join(&name);
            std::fs::rename(file, &target)?;
            let mut reason_file = target.clone().into_os_string();
            reason_file.push(".reason");
            std::fs::write(&reason_file, format!("{}\n", reasons.join("\n")))?;
            tracing::warn!("{source} rejected: {}", reasons.join("; "));
        }
        Ok(())
    }
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
