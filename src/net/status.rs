//! What each network intake is doing, for `doctor` and the control room:
//! kept in memory and written (at most once a second) to
//! `<home>/intake.status`, a small JSON file other processes read.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::locks::relock;

use serde::{Deserialize, Serialize};

use crate::home::Home;
use crate::model::Timestamp;

/// One intake's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeStatus {
    /// "listening on 127.0.0.1:8088", "polling https://sqs…".
    pub doing: String,
    pub last_message: Option<Timestamp>,
    pub last_error: Option<(Timestamp, String)>,
}

/// Every intake of the engine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub pid: u32,
    pub http: Option<IntakeStatus>,
    pub sqs: Option<IntakeStatus>,
}

impl Status {
    /// One line per intake, for the status bar and `doctor`.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (name, intake) in [("http", &self.http), ("sqs", &self.sqs)] {
            let Some(intake) = intake else { continue };
            let mut line = format!("{name} intake {}", intake.doing);
            match intake.last_message {
                Some(at) => line.push_str(&format!("; last message {at}")),
                None => line.push_str("; no message yet"),
            }
            if let Some((at, error)) = &intake.last_error {
                line.push_str(&format!(
                    "; last error {at}: {}",
                    crate::untrusted::visible(error)
                ));
            }
            lines.push(line);
        }
        lines
    }
}

impl Status {
    /// A short segment for the room's status bar: each intake, when it
    /// last took a message, and its error when that is the latest news.
    pub fn bar(&self) -> Option<String> {
        let mut parts = Vec::new();
        for (name, intake) in [("http", &self.http), ("sqs", &self.sqs)] {
            let Some(intake) = intake else { continue };
            let doing = intake
                .doing
                .strip_prefix("listening on ")
                .unwrap_or(&intake.doing);
            let mut part = format!("{name} {doing}");
            if let Some(at) = intake.last_message {
                part.push_str(&format!(" last {}", &at.rfc3339()[11..16]));
            }
            if let Some((at, error)) = &intake.last_error
                && intake.last_message.is_none_or(|m| m < *at)
            {
                let short: String = error.chars().take(40).collect();
                part.push_str(&format!(" ⚠ {short}"));
            }
            parts.push(part);
        }
        (!parts.is_empty()).then(|| parts.join(" · "))
    }
}

/// Which intake a change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intake {
    Http,
    Sqs,
}

/// The status shared by the intakes of one engine.
#[derive(Clone)]
pub struct Shared {
    inner: Arc<Mutex<(Status, bool)>>,
    path: PathBuf,
}

impl Shared {
    pub fn new(home: &Home) -> Shared {
        Shared {
            inner: Arc::new(Mutex::new((
                Status {
                    pid: std::process::id(),
                    ..Status::default()
                },
                true,
            ))),
            path: file(home),
        }
    }

    fn change(&self, intake: Intake, f: impl FnOnce(&mut IntakeStatus)) {
        let mut guard = relock(&self.inner);
        let (status, dirty) = &mut *guard;
        let slot = match intake {
            Intake::Http => &mut status.http,
            Intake::Sqs => &mut status.sqs,
        };
        f(slot.get_or_insert_with(IntakeStatus::default));
        *dirty = true;
    }

    pub fn doing(&self, intake: Intake, doing: String) {
        self.change(intake, |s| s.doing = doing);
    }

    pub fn message(&self, intake: Intake) {
        self.change(intake, |s| s.last_message = Some(Timestamp::now()));
    }

    pub fn error(&self, intake: Intake, error: String) {
        self.change(intake, |s| s.last_error = Some((Timestamp::now(), error)));
    }

    /// One line per intake, as now.
    pub fn lines(&self) -> Vec<String> {
        relock(&self.inner).0.lines()
    }

    /// Writes the file if anything changed since the last write.
    pub fn flush(&self) {
        let snapshot = {
            let mut guard = relock(&self.inner);
            if !guard.1 {
                return;
            }
            guard.1 = false;
            guard.0.clone()
        };
        write(&self.path, &snapshot);
    }
}

/// The file of `home`.
pub fn file(home: &Home) -> PathBuf {
    home.root().join("intake.status")
}

fn write(path: &Path, status: &Status) {
    let Ok(text) = serde_json::to_string(status) else {
        return;
    };
    let tmp = path.with_extension("status.tmp");
    if let Err(e) = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path)) {
        tracing::warn!("cannot write {}: {e}", path.display());
    }
}

/// The intakes of the engine of `home`, when one runs there now.
pub fn read(home: &Home) -> Option<Status> {
    let text = std::fs::read_to_string(file(home)).ok()?;
    let status: Status = serde_json::from_str(&text).ok()?;
    crate::engine::health::engine_running(home).then_some(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A panic in an intake's thread while it held the status (contained:
    /// the thread ends, the engine goes on) leaves the status working.
    #[test]
    fn the_status_takes_changes_again_after_a_panic_that_held_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = Home::at(dir.path());
        let shared = Shared::new(&home);
        let poisoner = shared.clone();
        let panicked = std::thread::spawn(move || {
            let _held = poisoner.inner.lock();
            panic!("a bug met while the status was held");
        })
        .join();
        assert!(panicked.is_err());
        shared.doing(Intake::Sqs, "polling after the panic".into());
        let lines = shared.lines().join("\n");
        assert!(lines.contains("polling after the panic"), "{lines:?}");
        shared.flush();
        let written = std::fs::read_to_string(file(&home)).expect("status file");
        assert!(written.contains("polling after the panic"), "{written}");
    }

    #[test]
    fn the_status_bar_names_each_intake_and_a_fresh_error() {
        let mut status = Status::default();
        assert_eq!(status.bar(), None);
        status.http = Some(IntakeStatus {
            doing: "listening on 127.0.0.1:8088".into(),
            last_message: Some(Timestamp::parse("2026-11-29T19:40:00Z").unwrap()),
            last_error: Some((
                Timestamp::parse("2026-11-29T19:00:00Z").unwrap(),
                "old".into(),
            )),
        });
        status.sqs = Some(IntakeStatus {
            doing: "polling https://sqs.example/q".into(),
            last_message: None,
            last_error: Some((
                Timestamp::parse("2026-11-29T19:41:00Z").unwrap(),
                "receive: refused".into(),
            )),
        });
        assert_eq!(
            status.bar().unwrap(),
            "http 127.0.0.1:8088 last 19:40 · sqs polling https://sqs.example/q ⚠ receive: refused"
        );
        let lines = status.lines();
        assert!(
            lines[0].starts_with(
                "http intake listening on 127.0.0.1:8088; last message 2026-11-29T19:40"
            )
        );
        assert!(lines[1].contains("no message yet; last error"));
    }
}
