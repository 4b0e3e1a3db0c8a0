//! What a crash can leave on a home's tmux server, found and cleared.
//!
//! An engine killed while its control client (`tmux -C`) was attaching
//! leaves that client behind: its owner is gone, its stdin is never closed
//! from the other end, and tmux 3.3 may keep the server waiting on it, so
//! every later control client fails to attach and the home is wedged.
//!
//! Every control client is recorded when it is spawned, in
//! `tmux/clients/<pid>`, with its owner's pid and start time (so a reused
//! pid is never taken for the owner). At start-up the records whose owner
//! is gone name the clients to end; a scan of the processes also finds
//! orphaned clients of this socket that no record names (a crash between
//! spawn and record). Only tmux clients of this home's socket are ever
//! signalled, never the server itself (its agents live on).

use std::path::{Path, PathBuf};

/// A tmux client of this home's server whose owner is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleClient {
    pub pid: u32,
    /// How it was found: a record of ours, or a scan of the processes.
    pub found_by: FoundBy,
}

/// How a stale client was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoundBy {
    Record,
    Scan,
}

impl std::fmt::Display for StaleClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self.found_by {
            FoundBy::Record => "recorded by an engine that is gone",
            FoundBy::Scan => "orphaned",
        };
        write!(f, "tmux control client pid {} ({how})", self.pid)
    }
}

/// Where the control clients of the server at `socket` are recorded.
pub fn records_dir(socket: &Path) -> PathBuf {
    socket
        .parent()
        .map_or_else(|| PathBuf::from("clients"), |d| d.join("clients"))
}

/// Records that this process owns control client `pid`.
pub fn record_client(socket: &Path, pid: u32) {
    let dir = records_dir(socket);
    let me = std::process::id();
    let text = format!("{me} {}\n", start_time(me).unwrap_or(0));
    if let Err(e) =
        std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join(pid.to_string()), text))
    {
        tracing::warn!("cannot record tmux control client {pid}: {e}");
    }
}

/// Forgets the record of control client `pid` (it ended cleanly).
pub fn forget_client(socket: &Path, pid: u32) {
    let _ = std::fs::remove_file(records_dir(socket).join(pid.to_string()));
}

/// The control clients of the server at `socket` whose owner is gone.
pub fn stale_clients(socket: &Path) -> Vec<StaleClient> {
    let mut stale = Vec::new();
    if let Ok(entries) = std::fs::read_dir(records_dir(socket)) {
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            let owner_alive = std::fs::read_to_string(entry.path())
                .ok()
                .and_then(|t| parse_owner(&t))
                .is_some_and(|(owner, started)| start_time(owner) == Some(started));
            if owner_alive {
                continue;
            }
            if is_client_of(pid, socket) {
                stale.push(StaleClient {
                    pid,
                    found_by: FoundBy::Record,
                });
            } else {
                // The client ended on its own: the record is all that is left.
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    for pid in orphaned_clients(socket) {
        if !stale.iter().any(|s| s.pid == pid) {
            stale.push(StaleClient {
                pid,
                found_by: FoundBy::Scan,
            });
        }
    }
    stale
}

/// Ends the stale control clients of the server at `socket`; returns them.
pub fn end_stale_clients(socket: &Path) -> Vec<StaleClient> {
    let stale = stale_clients(socket);
    for client in &stale {
        // SAFETY: kill(2) with a pid checked above to be a tmux client of
        // this home's socket; no memory is shared.
        let rc = unsafe { libc::kill(client.pid as libc::pid_t, libc::SIGKILL) };
        if rc == 0 {
            tracing::warn!("ended {client}");
        }
        forget_client(socket, client.pid);
    }
    if !stale.is_empty() {
        // Give the server a moment to see the clients go.
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    stale
}

fn parse_owner(text: &str) -> Option<(u32, u64)> {
    let mut words = text.split_whitespace();
    Some((words.next()?.parse().ok()?, words.next()?.parse().ok()?))
}

/// A process's start time (clock ticks since boot), the 22nd field of
/// `/proc/PID/stat`; with the pid it names one process for good.
fn start_time(pid: u32) -> Option<u64> {
    stat_fields(pid)?.get(19)?.parse().ok()
}

/// The fields of `/proc/PID/stat` after the command name (state first).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// The argv of a process.
fn cmdline(pid: u32) -> Option<Vec<String>> {
    let bytes = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        bytes
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect(),
    )
}

/// Whether `pid` is a tmux client (not the server) of the server at `socket`.
fn is_client_of(pid: u32, socket: &Path) -> bool {
    let Some(argv) = cmdline(pid) else {
        return false;
    };
    let is_tmux = argv
        .first()
        .is_some_and(|a| Path::new(a).file_name().is_some_and(|n| n == "tmux"));
    let wanted = socket.to_string_lossy();
    let ours = argv.windows(2).any(|w| w[0] == "-S" && w[1] == wanted);
    // The server is the leader of its own session; clients are not.
    let leader = stat_fields(pid)
        .and_then(|f| f.get(3).and_then(|s| s.parse::<u32>().ok()))
        .is_some_and(|session| session == pid);
    let control = argv.iter().any(|a| a == "-C");
    is_tmux && ours && control && !leader
}

/// Control clients of this socket whose parent is gone (re-parented to
/// init): nobody can ever read them again.
fn orphaned_clients(socket: &Path) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            stat_fields(*pid)
                .and_then(|f| f.get(1).and_then(|s| s.parse::<u32>().ok()))
                .is_some_and(|ppid| ppid == 1)
                && is_client_of(*pid, socket)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_record_names_a_pid_and_its_start() {
        assert_eq!(parse_owner("12 345\n"), Some((12, 345)));
        assert_eq!(parse_owner("12"), None);
        assert_eq!(parse_owner("x 1"), None);
    }

    #[test]
    fn this_process_has_a_start_time_and_is_no_tmux_client() {
        let me = std::process::id();
        assert!(start_time(me).is_some());
        assert!(!is_client_of(me, Path::new("/tmp/none.sock")));
    }
}
