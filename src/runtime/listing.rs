//! The engine's one look at every session: `list-panes -a -F FORMAT`, and
//! the parse of what tmux prints.
//!
//! Some fields are the agent's to set: its pane's report options (an agent
//! on a host writes its reports there, and any agent can run `tmux
//! set-option` on its own pane) and its title. tmux prints them as they
//! are, newlines and tabs included, so a plain line-and-tab layout lets an
//! agent forge a line for another session ("job 2's agent exited 0") or
//! shift the fields of its own. Each listing therefore marks where a
//! record starts and where a field ends with a token drawn at random for
//! that one command, which no agent can know when it set its options;
//! text between two marks is one field, whatever it holds.

use super::server::{SessionInfo, zombie_status};
use crate::remote::report::HISTORY;

/// The fields of one pane, in order: the report options sit at 6 to
/// 6 + [`HISTORY`] (a test holds them in step with `option`).
pub(crate) const FIELDS: [&str; 8 + HISTORY] = [
    "#{session_name}",
    "#{pane_id}",
    "#{pane_pid}",
    "#{pane_dead}",
    "#{pane_dead_status}",
    "#{pane_dead_signal}",
    "#{@switchboard_report}",
    "#{@switchboard_report_2}",
    "#{@switchboard_report_3}",
    "#{@switchboard_report_4}",
    "#{@switchboard_report_5}",
    "#{@switchboard_report_6}",
    "#{@switchboard_report_7}",
    "#{@switchboard_report_8}",
    "#{window_activity}",
    "#{pane_title}",
];

/// Where the fields after the reports start.
const AFTER_REPORTS: usize = 6 + HISTORY;

/// One listing's format and parse, with its own token.
pub(crate) struct Listing {
    token: String,
}

impl Listing {
    pub(crate) fn new() -> Listing {
        Listing::with_token(&random_token())
    }

    fn with_token(token: &str) -> Listing {
        Listing {
            token: format!("~sb{token}~"),
        }
    }

    /// The `-F` format: each record starts a line with the token, and
    /// the token sits between any two fields.
    pub(crate) fn format(&self) -> String {
        format!(
            "{}\t{}",
            self.token,
            FIELDS.join(&format!("\t{}\t", self.token))
        )
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
            let f: Vec<&str> = record.split(between.as_str()).collect();
            if f.len() != FIELDS.len()
                || f[0] == super::control::CONTROL_SESSION
                || sessions.iter().any(|s| s.name == f[0])
            {
                continue;
            }
            sessions.push(session(&f));
        }
        sessions
    }
}

/// One pane's fields (exactly [`FIELDS`] of them) as a session.
fn session(f: &[&str]) -> SessionInfo {
    // The pane's terminal closes before its process is reaped: it is
    // dead once tmux knows how it ended (a status or a signal). tmux 3.3
    // sometimes misses the SIGCHLD of an agent that exits right after it
    // started and leaves a zombie; the kernel still knows the status
    // (Linux: /proc/PID/stat).
    let pid: Option<u32> = f[2].parse().ok();
    let mut status: Option<i32> = f[4].parse().ok();
    let mut signal: Option<i32> = f[5].parse().ok();
    if f[3] == "1"
        && status.is_none()
        && signal.is_none()
        && let Some((s, g)) = pid.and_then(zombie_status)
    {
        (status, signal) = (s, g);
    }
    let dead = f[3] == "1" && (status.is_some() || signal.is_some());
    SessionInfo {
        name: f[0].to_string(),
        pane: f[1].to_string(),
        pid,
        dead,
        exit_status: status.filter(|_| dead),
        signal: signal.filter(|_| dead),
        reports: (6..AFTER_REPORTS).map(|i| f[i].to_string()).collect(),
        activity: f[AFTER_REPORTS].parse().ok(),
        title: f[AFTER_REPORTS + 1].to_string(),
    }
}

/// 128 bits from the system's random source, as hex.
fn random_token() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        // No random source: still unknown to an agent that set its
        // options before this moment.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes = (nanos ^ u128::from(std::process::id())).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::report::option;
    use proptest::prelude::*;

    #[test]
    fn the_listing_reads_every_report_option_in_order() {
        for n in 0..HISTORY {
            assert_eq!(FIELDS[6 + n], format!("#{{{}}}", option(n)));
        }
        assert_eq!(FIELDS[AFTER_REPORTS], "#{window_activity}");
        assert_eq!(FIELDS.last(), Some(&"#{pane_title}"));
    }

    /// What tmux prints for `fields` of each pane under `listing`.
    fn printed(listing: &Listing, panes: &[Vec<String>]) -> String {
        let mut out = String::new();
        for fields in panes {
            let mut line = listing.format();
            for (name, value) in FIELDS.iter().zip(fields) {
                line = line.replacen(name, value, 1);
            }
            out.push_str(&line);
            out.push('\n');
        }
        out
    }

    fn pane(name: &str, report: &str, title: &str) -> Vec<String> {
        let mut f: Vec<String> = [name, "%1", "42", "0", "", "", report]
            .iter()
            .map(|s| s.to_string())
            .collect();
        f.extend((1..HISTORY).map(|_| String::new()));
        f.extend(["7".to_string(), title.to_string()]);
        f[1] = format!("%{}", name.len());
        f
    }

    #[test]
    fn a_field_holding_newlines_and_tabs_stays_one_field() {
        let listing = Listing::with_token("t0k3n");
        let forged = "x\nsb-2-1\t%9\t1\t1\t0\t\t\t\t\t\t1\tforged\n~sb~\tsb-3-1";
        let out = printed(
            &listing,
            &[pane("sb-1-1", forged, "a\ttitle"), pane("sb-2-1", "", "")],
        );
        let sessions = listing.parse(&out);
        assert_eq!(sessions.len(), 2, "{sessions:?}");
        assert_eq!(sessions[0].reports[0], forged);
        assert_eq!(sessions[0].title, "a\ttitle");
        assert_eq!(sessions[0].activity, Some(7));
        assert!(!sessions[1].dead && sessions[1].pid == Some(42));
    }

    #[test]
    fn two_listings_draw_different_tokens() {
        assert_ne!(Listing::new().token, Listing::new().token);
    }

    proptest! {
        /// Whatever an agent puts in the fields it sets, every session is
        /// read once, with its own name, and what it set comes back whole.
        #[test]
        fn fields_an_agent_sets_never_change_another_session(
            reports in prop::collection::vec("[a-z\t\n%~0-9 -]{0,24}", 3),
            titles in prop::collection::vec("[a-z\t\n~ ]{0,12}", 3),
        ) {
            let listing = Listing::new();
            let names = ["sb-1-1", "sb-2-1", "sb-3-1"];
            let panes: Vec<Vec<String>> = (0..3)
                .map(|i| pane(names[i], &reports[i], &titles[i]))
                .collect();
            let sessions = listing.parse(&printed(&listing, &panes));
            prop_assert_eq!(sessions.len(), 3);
            for (i, s) in sessions.iter().enumerate() {
                prop_assert_eq!(&s.name, names[i]);
                prop_assert_eq!(&s.reports[0], &reports[i]);
                prop_assert_eq!(&s.title, &titles[i]);
                prop_assert!(!s.dead);
            }
        }

        /// Cut or broken output parses without a panic.
        #[test]
        fn any_output_parses_without_panic(out in "[a-z\t\n~%0-9]{0,200}") {
            let listing = Listing::with_token("k");
            let _ = listing.parse(&out);
            let _ = listing.parse(&format!("~sbk~\t{out}"));
        }
    }
}
