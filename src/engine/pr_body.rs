//! The title and text of a job's pull request: the task, the ticket or
//! alarms behind it, the diff stat and the job's key events. Pure.

use crate::journal::Event;
use crate::model::Job;

/// Longest task text quoted in full; the rest is cut with a note.
const MAX_TASK_CHARS: usize = 6000;
/// How many of the job's latest key events are listed.
const MAX_EVENTS: usize = 15;

/// The pull request's title: the job's title on one line.
pub fn title(job: &Job) -> String {
    let line: String = job.title.split_whitespace().collect::<Vec<_>>().join(" ");
    let line: String = line.chars().take(120).collect();
    if line.is_empty() {
        format!("switchboard job #{}", job.id)
    } else {
        line
    }
}

/// The pull request's body, in Markdown.
pub fn body(job: &Job, project: &str, sources: &[String], stat: &str, events: &[Event]) -> String {
    let mut out = format!(
        "Work of switchboard job #{} ({}) in project {project}.\n\n## Task\n\n",
        job.id, job.kind
    );
    let task: String = job.prompt.chars().take(MAX_TASK_CHARS).collect();
    for line in task.lines() {
        out.push_str("> ");
        out.push_str(line);
        out.push('\n');
    }
    if job.prompt.chars().count() > MAX_TASK_CHARS {
        out.push_str(">\n> (cut here; the whole task is in the journal: `switchboard jobs ");
        out.push_str(&job.id.to_string());
        out.push_str("`)\n");
    }
    if !sources.is_empty() {
        out.push_str("\n## Behind it\n\n");
        for s in sources {
            out.push_str(&format!("- {s}\n"));
        }
    }
    out.push_str("\n## Changes\n\n```\n");
    out.push_str(stat.trim_end());
    out.push_str("\n```\n");
    let key: Vec<&Event> = events.iter().filter(|e| is_key(&e.kind)).collect();
    if !key.is_empty() {
        out.push_str("\n## Key events\n\n");
        for e in &key[key.len().saturating_sub(MAX_EVENTS)..] {
            let message: String = e
                .message
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(300)
                .collect();
            out.push_str(&format!("- {} {}: {message}\n", e.at.rfc3339(), e.kind));
        }
    }
    out
}

/// Events worth a reader's time: not the patrol's status lines.
fn is_key(kind: &str) -> bool {
    !matches!(kind, "status" | "report")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{JobKind, JobState, Progress, Timestamp};

    fn job(prompt: &str) -> Job {
        Job {
            id: 12,
            kind: JobKind::Ticket,
            state: JobState::Queued {
                since: Timestamp::from_millis(0),
                not_before: None,
            },
            project: Some("api".into()),
            title: "OPS-7: fix   the\nlogin".into(),
            prompt: prompt.into(),
            agent: None,
            priority: 0,
            attempts: 1,
            created_at: Timestamp::from_millis(0),
            progress: Progress::default(),
            reason: None,
            after: Vec::new(),
        }
    }

    fn event(kind: &str, message: &str) -> Event {
        Event {
            id: 1,
            at: Timestamp::from_millis(0),
            job: Some(12),
            kind: kind.into(),
            message: message.into(),
        }
    }

    #[test]
    fn the_body_carries_task_sources_stat_and_key_events() {
        let text = body(
            &job("fix the login\n```rm -rf /```"),
            "api",
            &["ticket OPS-7: login broken (1 update)".into()],
            " src/login.rs | 3 ++-\n 1 file changed",
            &[
                event("state", "agent demo started"),
                event("status", "busy"),
                event("review", "switchboard/12 is ready for review"),
            ],
        );
        assert!(
            text.contains("> fix the login\n> ```rm -rf /```\n"),
            "{text}"
        );
        assert!(text.contains("- ticket OPS-7: login broken"), "{text}");
        assert!(text.contains("src/login.rs | 3 ++-"), "{text}");
        assert!(text.contains("state: agent demo started"), "{text}");
        assert!(!text.contains("busy"), "status lines are left out: {text}");
        assert_eq!(title(&job("x")), "OPS-7: fix the login");
    }

    #[test]
    fn a_long_task_is_cut_and_says_so() {
        let text = body(&job(&"a".repeat(10_000)), "api", &[], "", &[]);
        assert!(text.len() < 7000);
        assert!(text.contains("switchboard jobs 12"));
    }
}
