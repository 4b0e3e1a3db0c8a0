//! Calling the operator: an agent that starts asking and a new review item
//! ring the terminal's bell and send a desktop notification through the
//! terminal (OSC 9 or OSC 777), as `[notify]` says.

use super::app::Snapshot;
use crate::config::{Desktop, Notify};
use crate::model::JobState;

/// What happened between two snapshots that the operator should hear of.
pub fn news(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let asking = |s: &Snapshot, id: i64| {
        s.jobs
            .iter()
            .any(|j| j.id == id && matches!(j.state, JobState::Waiting { .. }))
    };
    let mut out = Vec::new();
    for job in &after.jobs {
        if let JobState::Waiting { question, .. } = &job.state
            && !asking(before, job.id)
        {
            out.push(format!("#{} asks: {}", job.id, one_line(question)));
        }
    }
    for item in &after.reviews {
        let was_ready = before
            .reviews
            .iter()
            .any(|r| r.job == item.job && r.state == item.state);
        if item.state == "ready" && !was_ready {
            out.push(format!(
                "#{} is ready for review ({})",
                item.job, item.branch
            ));
        }
    }
    out
}

/// Review items whose approve came to an end between two snapshots
/// (merged, or met a conflict): the room tells what became of them.
pub fn review_outcomes(before: &Snapshot, after: &Snapshot) -> Vec<i64> {
    after
        .reviews
        .iter()
        .filter(|item| {
            matches!(
                item.state.as_str(),
                "merged" | "conflict" | "delivered" | "closed"
            )
        })
        .filter(|item| {
            !before
                .reviews
                .iter()
                .any(|r| r.job == item.job && r.state == item.state)
        })
        .map(|item| item.job)
        .collect()
}

fn one_line(text: &str) -> String {
    let line: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .take(120)
        .collect();
    line
}

/// The bytes that call the operator about `news`. The text of a
/// notification comes from agents: control characters are removed so it
/// cannot end the escape sequence early. Inside tmux (`in_tmux`) a
/// desktop notification is wrapped for tmux to pass it on to the outer
/// terminal (tmux needs `set -g allow-passthrough on` for that).
pub fn bytes(news: &[String], notify: &Notify, in_tmux: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if news.is_empty() {
        return out;
    }
    if notify.bell {
        out.push(0x07);
    }
    for item in news {
        let text: String = item
            .chars()
            .filter(|c| !c.is_control() && *c != ';')
            .collect();
        let sequence = match notify.desktop {
            Desktop::Osc9 => format!("\x1b]9;switchboard: {text}\x07"),
            Desktop::Osc777 => format!("\x1b]777;notify;switchboard;{text}\x07"),
            Desktop::Off => continue,
        };
        if in_tmux {
            out.extend(b"\x1bPtmux;");
            out.extend(sequence.replace('\x1b', "\x1b\x1b").bytes());
            out.extend(b"\x1b\\");
        } else {
            out.extend(sequence.bytes());
        }
    }
    out
}
