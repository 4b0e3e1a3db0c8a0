//! The engine's one look at every session: `list-panes -a -F FORMAT`, and
//! the parse of what tmux prints.
//!
//! Some fields are the agent's to set: its pane's report options (an agent
//! on a host writes its reports there, and any agent can run `tmux
//! set-option` on its own pane), its title, and the name of a session it
//! makes itself. tmux prints options as they are, newlines and tabs
//! included (tmux 3.3 escapes them in a session's name and refuses them in
//! a title; older versions may not), so a plain line-and-tab layout lets
//! an agent forge a line for another session ("job 2's agent exited 0")
//! or shift the fields of its own. Each listing therefore marks where a
//! record starts, and where each field an agent sets ends, with a token
//! drawn at random for that one command, which no agent can know when it
//! set its options; text between two marks is one field, whatever it
//! holds.
//!
//! The fields only tmux sets (ids, numbers, flags) come first, apart by
//! plain tabs: they cannot hold one. The report options are asked for
//! only of a host's server: agents on this machine write their reports to
//! the journal, and an option one of them sets is not read. A pass over
//! 200 agents waits on this listing, so it is kept short: 2 tokens a pane
//! here, 10 on a host (it was 16 fields with 16 tokens of 38 characters).

use super::server::{SessionInfo, zombie_status};
use crate::remote::report::HISTORY;

/// Whether a listing reads the panes' report options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportOptions {
    /// A host's server: its agents report through their panes.
    Read,
    /// This machine's server: its agents report to the journal.
    Unread,
}

/// The fields only tmux sets, in order, before the session's name.
const PLAIN: [&str; 6] = [
    "#{pane_id}",
    "#{pane_pid}",
    "#{pane_dead}",
    "#{pane_dead_status}",
    "#{pane_dead_signal}",
    "#{window_activity}",
];

/// The session's name: after the plain fields, ended by the token.
const NAME: &str = "#{session_name}";

/// The fields an agent sets, each after the token: its title, then the
/// report options in order, newest first (a test holds them in step with
/// [`crate::remote::report::option`]); only the title where the reports
/// are not read.
const MARKED: [&str; 1 + HISTORY] = [
    "#{pane_title}",
    "#{@switchboard_report}",
    "#{@switchboard_report_2}",
    "#{@switchboard_report_3}",
    "#{@switchboard_report_4}",
    "#{@switchboard_report_5}",
    "#{@switchboard_report_6}",
    "#{@switchboard_report_7}",
    "#{@switchboard_report_8}",
];

/// One listing's format and parse, with its own token.
pub(crate) struct Listing {
    token: String,
    reports: ReportOptions,
}

impl Listing {
    pub(crate) fn new(reports: ReportOptions) -> Listing {
        Listing::with_token(&random_token(), reports)
    }

    fn with_token(token: &str, reports: ReportOptions) -> Listing {
        Listing {
            token: format!("~sb{token}~"),
            reports,
        }
    }

    /// The fields set apart by the token after the name.
    fn marked(&self) -> &'static [&'static str] {
        match self.reports {
            ReportOptions::Read => &MARKED,
            ReportOptions::Unread => &MARKED[..1],
        }
    }

    /// The `-F` format: each record starts a line with the token, then
    /// the plain fields and the name apart by tabs, then each field an
    /// agent sets after the token.
    pub(crate) fn format(&self) -> String {
        let mut format = format!("{}\t{}\t{NAME}", self.token, PLAIN.join("\t"));
        for field in self.marked() {
            format.push_str(&format!("\t{}\t{field}", self.token));
        }
        format
    }

    /// The sessions in what tmux printed for [`format`](Self::format),
    /// one each (its first pane), the control client's own left out.
    /// A record without every field (cut short) is skipped.
    pub(crate) fn parse(&self, out: &str) -> Vec<SessionInfo> {
        let start = format!("{}\t", self.token);
        let between = format!("\t{}\t", self.token);
        let mut records: Vec<String> = Vec::new();
        // The newline that ends the last line is tmux's, not the title's.
        let out = out.strip_suffix('\n').unwrap_or(out);
        for line in out.split('\n') {
            if let Some(record) = line.strip_prefix(&start) {
                records.push(record.to_string());
            } else if let Some(record) = records.last_mut() {
                // A newline inside a field the agent set.
                record.push('\n');
                record.push_str(line);
            }
        }
        let mut sessions: Vec<SessionInfo> = Vec::new();
        for record in &records {
            let mut parts = record.split(between.as_str());
            let Some(head) = parts.next() else { continue };
            let marked: Vec<&str> = parts.collect();
            // The name is all that follows the plain fields (tabs too).
            let head: Vec<&str> = head.splitn(PLAIN.len() + 1, '\t').collect();
            if head.len() != PLAIN.len() + 1 || marked.len() != self.marked().len() {
                continue;
            }
            let name = head[PLAIN.len()];
            if name == super::control::CONTROL_SESSION || sessions.iter().any(|s| s.name == name) {
                continue;
            }
            sessions.push(session(&head, &marked));
        }
        sessions
    }
}

/// One pane as a session: `head`, the plain fields and the name; `marked`,
/// the title and the report options read (none or [`HISTORY`]).
fn session(head: &[&str], marked: &[&str]) -> SessionInfo {
    // The pane's terminal closes before its process is reaped: it is
    // dead once tmux knows how it ended (a status or a signal). tmux 3.3
    // sometimes misses the SIGCHLD of an agent that exits right after it
    // started and leaves a zombie; the kernel still knows the status
    // (Linux: /proc/PID/stat).
    let pid: Option<u32> = head[1].parse().ok();
    let mut status: Option<i32> = head[3].parse().ok();
    let mut signal: Option<i32> = head[4].parse().ok();
    if head[2] == "1"
        && status.is_none()
        && signal.is_none()
        && let Some((s, g)) = pid.and_then(zombie_status)
    {
        (status, signal) = (s, g);
    }
    let dead = head[2] == "1" && (status.is_some() || signal.is_some());
    SessionInfo {
        name: head[PLAIN.len()].to_string(),
        pane: head[0].to_string(),
        pid,
        dead,
        exit_status: status.filter(|_| dead),
        signal: signal.filter(|_| dead),
        reports: marked[1..].iter().map(|r| r.to_string()).collect(),
        activity: head[5].parse().ok(),
        title: marked[0].to_string(),
    }
}

/// 64 bits from the system's random source, as hex: one command's worth
/// (an agent would have to guess it before the listing is asked for).
fn random_token() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        // No random source: still unknown to an agent that set its
        // options before this moment.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let mixed = (nanos ^ u128::from(std::process::id())) as u64;
        bytes = mixed.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
#[path = "listing_tests.rs"]
mod tests;
