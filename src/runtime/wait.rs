//! Waiting on a pane: for a prompt, for quiet, for a shell prompt.

use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use regex::Regex;

use super::server::{TmuxError, TmuxServer};

const POLL: Duration = Duration::from_millis(25);

/// A hash of a screen's content, for change detection.
pub fn content_hash(screen: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    screen.hash(&mut h);
    h.finish()
}

/// Waits until the pane shows `prompt`; the screen that matched.
pub fn wait_for_prompt(
    server: &TmuxServer,
    name: &str,
    prompt: &Regex,
    timeout: Duration,
) -> Result<String, TmuxError> {
    let deadline = Instant::now() + timeout;
    loop {
        let screen = server.capture(name, false, 0)?;
        if prompt.is_match(&screen) {
            return Ok(screen);
        }
        if Instant::now() >= deadline {
            return Err(TmuxError::Timeout(format!(
                "{name} did not show {:?} within {}",
                prompt.as_str(),
                humantime::format_duration(timeout)
            )));
        }
        std::thread::sleep(POLL);
    }
}

/// Waits until the pane's content has not changed for `quiet_for`.
pub fn wait_for_idle(
    server: &TmuxServer,
    name: &str,
    quiet_for: Duration,
    timeout: Duration,
) -> Result<(), TmuxError> {
    let deadline = Instant::now() + timeout;
    let mut last = content_hash(&server.capture(name, false, 0)?);
    let mut since = Instant::now();
    loop {
        if since.elapsed() >= quiet_for {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(TmuxError::Timeout(format!(
                "{name} was never quiet for {} within {}",
                humantime::format_duration(quiet_for),
                humantime::format_duration(timeout)
            )));
        }
        std::thread::sleep(POLL);
        let now = content_hash(&server.capture(name, false, 0)?);
        if now != last {
            last = now;
            since = Instant::now();
        }
    }
}

/// Waits for a shell prompt (`$`, `#`, `%` or `>` at the end of the last
/// line that has text).
pub fn wait_for_shell_prompt(
    server: &TmuxServer,
    name: &str,
    timeout: Duration,
) -> Result<String, TmuxError> {
    let deadline = Instant::now() + timeout;
    loop {
        let screen = server.capture(name, false, 0)?;
        let last = screen
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        if last.trim_end().ends_with(['$', '#', '%', '>']) {
            return Ok(screen);
        }
        if Instant::now() >= deadline {
            return Err(TmuxError::Timeout(format!(
                "{name} showed no shell prompt within {}",
                humantime::format_duration(timeout)
            )));
        }
        std::thread::sleep(POLL);
    }
}
