//! The tmux side: a private tmux server per home, one session per attempt,
//! captures, text sent through paste buffers, and waits.
//!
//! Every operation of [`TmuxServer`] spawns one tmux client process; the
//! persistent [`ControlClient`] serves captures without that. The tmux_interface
//! crate's command builders were not used: each call here is a handful of
//! fixed arguments, and building them as plain argv keeps every piece of
//! outside text a separate argument or stdin, never part of a string tmux
//! parses.

mod control;
mod listing;
pub mod procs;
pub mod recover;
mod remote;
mod server;
mod text;
mod wait;
mod watch;

use std::process::Command;

pub use control::{CONTROL_SESSION, ControlClient, quiet_since};
pub use listing::ReportOptions;
pub use remote::RemoteTmux;
pub use server::{SessionInfo, SpawnSpec, TmuxError, TmuxServer};
pub use text::normalise;
pub use wait::{content_hash, wait_for_idle, wait_for_prompt, wait_for_shell_prompt};
pub use watch::{Output, PaneWatch, Woken};

/// How to get tmux, for error messages.
pub const INSTALL_TMUX: &str = "install tmux: `sudo apt-get install tmux` (Debian, Ubuntu), \
     `sudo dnf install tmux` (Fedora), `brew install tmux` (macOS)";

/// `tmux -V` without the name, e.g. `3.3a`.
pub fn tmux_version() -> Result<String, String> {
    let output = Command::new("tmux")
        .arg("-V")
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => format!("tmux is not installed; {INSTALL_TMUX}"),
            _ => format!("cannot run tmux: {e}"),
        })?;
    if !output.status.success() {
        return Err(format!(
            "`tmux -V` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text.trim().trim_start_matches("tmux ").to_string())
}

/// The oldest tmux switchboard works with, on this machine and on every
/// host: control mode's `pause-after` (which keeps a slow reader from
/// stalling an agent) and format arithmetic came in 3.2.
pub const TMUX_MINIMUM: (u32, u32) = (3, 2);

/// What is wrong with tmux `version` (as `tmux -V` says it, with or
/// without its name) for switchboard, and how to fix it; `None` when it is
/// new enough. `place` says where it is (`""` here, `" on host build1"`).
/// The one check of the version, for `doctor` and for `host add`.
pub fn tmux_too_old(version: &str, place: &str) -> Option<String> {
    let version = version.trim().trim_start_matches("tmux ");
    let (major, minor) = TMUX_MINIMUM;
    if version_at_least(version, major, minor) {
        return None;
    }
    Some(format!(
        "tmux {version}{place} is older than {major}.{minor}, which switchboard needs (control mode's pause-after, format arithmetic); upgrade it to {major}.{minor} or later: {INSTALL_TMUX} (Debian 12, Ubuntu 22.04 and later ship it; on older releases, from backports or built from source)"
    ))
}

/// Whether a tmux version (`3.3a`, `next-3.5`) is at least `major.minor`.
pub fn version_at_least(version: &str, major: u32, minor: u32) -> bool {
    let digits: String = version
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let mut parts = digits.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare() {
        assert!(version_at_least("3.3a", 3, 2));
        assert!(version_at_least("next-3.5", 3, 2));
        assert!(!version_at_least("3.1c", 3, 2));
        assert!(!version_at_least("2.9", 3, 2));
        assert!(version_at_least("10.0", 3, 2));
    }

    #[test]
    fn a_tmux_too_old_is_named_with_where_and_how_to_fix_it() {
        assert_eq!(tmux_too_old("tmux 3.3a", ""), None);
        assert_eq!(tmux_too_old("3.2", " on host b"), None);
        let said = tmux_too_old("tmux 3.1c", " on host build1").expect("too old");
        assert!(
            said.starts_with("tmux 3.1c on host build1 is older than 3.2")
                && said.contains("apt-get install tmux"),
            "{said}"
        );
        assert!(tmux_too_old("2.9", "").is_some_and(|s| s.starts_with("tmux 2.9 is older")));
    }
}
