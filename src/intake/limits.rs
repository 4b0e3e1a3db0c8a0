//! What one message may hold, checked at intake so that whatever is
//! accepted can also be journaled, shown and delivered to an agent: sizes
//! of its texts, no NUL bytes (neither argv nor a terminal can carry one),
//! priorities and times within range. Every refusal is a reason the
//! operator can act on.

use crate::model::{Message, ReviewComment, Timestamp};
pub use crate::scheduler::MAX_AFTER;

/// A task's prompt and a ticket's body. Prompts longer than what argv or a
/// tmux command takes reach the agent through a file (see
/// `engine::agent`), so this is only a guard against runaway input.
pub const MAX_PROMPT_BYTES: usize = 256 * 1024;
/// A task's or ticket's title, an alarm's name (CloudWatch allows 255
/// characters).
pub const MAX_TITLE_BYTES: usize = 1024;
/// Names and keys: project, agent, ticket key, region, ticket event.
pub const MAX_NAME_BYTES: usize = 256;
/// An alarm's reason (CloudWatch's are at most 1,023 characters).
pub const MAX_REASON_BYTES: usize = 16 * 1024;
/// Priorities go from `-MAX_PRIORITY` to `MAX_PRIORITY`.
pub const MAX_PRIORITY: i64 = 1_000_000;
/// Times go from 0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z: what
/// RFC 3339 can write.
pub const EARLIEST: Timestamp = Timestamp::from_millis(-62_167_219_200_000);
pub const LATEST: Timestamp = Timestamp::from_millis(253_402_300_799_999);

/// Whether `message` is within every limit; the reason when not.
pub fn check(message: Message) -> Result<Message, String> {
    match &message {
        Message::Task(t) => {
            task(&t.prompt, t.title.as_deref(), t.priority)?;
            optional("the task's project", &t.project, MAX_NAME_BYTES)?;
            optional("the task's agent", &t.agent, MAX_NAME_BYTES)?;
            after(&t.after)?;
        }
        Message::Ticket(t) => {
            text("the ticket's key", &t.key, MAX_NAME_BYTES)?;
            text("the ticket's title", &t.title, MAX_TITLE_BYTES)?;
            text("the ticket's body", &t.body, MAX_PROMPT_BYTES)?;
            optional("the ticket's project", &t.project, MAX_NAME_BYTES)?;
            optional("the ticket's event", &t.event, MAX_NAME_BYTES)?;
        }
        Message::Alarm(a) => {
            text("the alarm's account", &a.account, MAX_NAME_BYTES)?;
            text("the alarm's name", &a.name, MAX_TITLE_BYTES)?;
            optional("the alarm's reason", &a.reason, MAX_REASON_BYTES)?;
            optional("the alarm's region", &a.region, MAX_NAME_BYTES)?;
            if let Some(at) = a.at {
                time("the alarm's \"at\"", at)?;
            }
        }
    }
    Ok(message)
}

/// A task's own texts and priority, however it arrives (a message,
/// `dispatch`, the room's dispatch form).
pub fn task(prompt: &str, title: Option<&str>, priority: Option<i64>) -> Result<(), String> {
    text("the task's prompt", prompt, MAX_PROMPT_BYTES)?;
    if let Some(title) = title {
        text("the task's title", title, MAX_TITLE_BYTES)?;
    }
    priority.map_or(Ok(()), self::priority)
}

/// The jobs a task waits for: job ids (whole numbers from 1), at most
/// [`MAX_AFTER`] of them. Whether they exist is the journal's to say.
pub fn after(ids: &[i64]) -> Result<(), String> {
    if ids.len() > MAX_AFTER {
        return Err(format!(
            "the task waits for {} jobs, over the limit of {MAX_AFTER}",
            ids.len()
        ));
    }
    if let Some(bad) = ids.iter().find(|id| **id < 1) {
        return Err(format!(
            "\"after\" names job {bad}; job ids are whole numbers from 1"
        ));
    }
    Ok(())
}

/// A review comment (`reject --comment`, the room's diff view): its path
/// and text within limits and without NUL.
pub fn comment(c: &ReviewComment) -> Result<(), String> {
    text("the comment's path", &c.path, MAX_PATH_BYTES)?;
    text("the comment", &c.text, MAX_REASON_BYTES)
}

/// A path in a repository, as a review comment names it.
pub const MAX_PATH_BYTES: usize = 4096;

/// A priority within range (the scheduler orders by its negation, which
/// must not overflow).
pub fn priority(p: i64) -> Result<(), String> {
    if !(-MAX_PRIORITY..=MAX_PRIORITY).contains(&p) {
        return Err(format!(
            "priority {p} is out of range: priorities go from -{MAX_PRIORITY} to {MAX_PRIORITY}"
        ));
    }
    Ok(())
}

fn time(what: &str, at: Timestamp) -> Result<(), String> {
    if at < EARLIEST || at > LATEST {
        return Err(format!(
            "{what} is out of range: times go from 0000-01-01 to 9999-12-31 (UTC)"
        ));
    }
    Ok(())
}

fn optional(what: &str, value: &Option<String>, max: usize) -> Result<(), String> {
    value.as_deref().map_or(Ok(()), |v| text(what, v, max))
}

/// A text within `max` bytes and without NUL.
pub fn text(what: &str, value: &str, max: usize) -> Result<(), String> {
    if value.len() > max {
        return Err(format!(
            "{what} is {} bytes, over the {max}-byte limit",
            value.len()
        ));
    }
    if let Some(at) = value.bytes().position(|b| b == 0) {
        return Err(format!(
            "{what} contains a NUL byte (at byte {at}); text cannot carry NUL"
        ));
    }
    Ok(())
}
