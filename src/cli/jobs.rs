//! `switchboard jobs [ID] [--state S] [--watch] [--json]`, and the plain
//! queue that the control room shows until the TUI lands.

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::Context;
use super::output::{BOLD, DIM, YELLOW, age, fit, paint, progress_line, state_label, visible};
use crate::journal::{Event, JobFilter, Journal, JournalError};
use crate::model::{HostName, Job, JobKind, JobState, StateName, Timestamp};
use crate::scheduler::after_reason;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// One job, with its events
    pub id: Option<i64>,
    /// Only jobs in this state (queued, starting, running, waiting, stalled,
    /// done, failed, killed)
    #[arg(long, value_name = "STATE")]
    pub state: Option<StateName>,
    /// Follow: with ID, print each change of that job until it ends; without,
    /// print every new event until interrupted
    #[arg(long)]
    pub watch: bool,
    /// Print JSON only (with --watch: one JSON object a line)
    #[arg(long)]
    pub json: bool,
}

/// How often `--watch` looks at the journal.
const WATCH_EVERY: Duration = Duration::from_millis(200);

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let journal = ctx.journal()?;
    warn_of_engine_fault(ctx);
    match (args.id, args.watch) {
        (Some(id), false) => show(&journal, id, args.json),
        (Some(id), true) => watch_job(&journal, id, args.json),
        (None, true) => watch_all(&journal, args.json),
        (None, false) => list(&journal, &JobFilter { state: args.state }, args.json),
    }
}

/// A fault the engine waits out (a full disk, say) is said on stderr,
/// so the listing on stdout stays as scripts expect it.
fn warn_of_engine_fault(ctx: &Context) {
    if let Some(fault) = crate::engine::health::read(&ctx.home).and_then(|h| h.fault) {
        anstream::eprintln!("{}", paint(YELLOW, fault.line()));
    }
}

/// What became of the agents when the control room closed.
fn after_the_room(closed: &crate::tui::Closed) -> String {
    let n = closed.agents.len();
    if closed.viewer {
        "The engine of this home runs on in the process that holds it.".into()
    } else if closed.server_stopped {
        "No agent was running; the home's tmux server is stopped too.".into()
    } else if n > 0 {
        format!(
            "{n} agent session{} running ({}); `switchboard` finds them again, `switchboard drain --wait` stops them cleanly.",
            if n == 1 { " keeps" } else { "s keep" },
            // Names listed by the home's tmux server, where an agent can
            // make a session of its own: outside text (tmux 3.3 escapes
            // control characters in names itself; older ones do not).
            visible(&closed.agents.join(", "))
        )
    } else {
        "Agents keep running; `switchboard` finds them again, `switchboard drain --wait` stops them cleanly.".into()
    }
}

/// The control room: full screen on a terminal; elsewhere (a pipe, a
/// script) it prints the queue.
pub fn control_room(ctx: &Context) -> anyhow::Result<ExitCode> {
    crate::cli::doctor::require_prerequisites()?;
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        let closed = crate::tui::run(ctx.home.clone(), ctx.config()?)?;
        println!("{}", after_the_room(&closed));
        // Closed by a signal: the shell's convention, 128 + its number.
        return Ok(match closed.signal {
            Some(signal) => ExitCode::from(128u8.saturating_add(signal as u8)),
            None => ExitCode::SUCCESS,
        });
    }
    let journal = ctx.journal()?;
    anstream::println!(
        "{}  {}",
        paint(BOLD, "switchboard"),
        paint(DIM, ctx.home.root().display())
    );
    list(&journal, &JobFilter::default(), false)
}

/// A job as `jobs --json` prints it: borrowed, so listing 100,000 jobs
/// builds no intermediate JSON tree.
#[derive(Serialize, PartialEq)]
pub struct JobJson<'a> {
    id: i64,
    kind: JobKind,
    state: StateName,
    project: Option<&'a str>,
    title: &'a str,
    attempts: u32,
    created_at: Timestamp,
    reason: Option<&'a str>,
    state_since: Timestamp,
    not_before: Option<Timestamp>,
    priority: i64,
    agent: Option<&'a str>,
    prompt: &'a str,
    progress: Option<u8>,
    note: Option<&'a str>,
    /// The host its project is on (`local`: the engine's machine); `None`
    /// for a job without a registered project.
    host: Option<&'a HostName>,
    /// The jobs it waits for (`dispatch --after`).
    after: &'a [i64],
}

impl<'a> JobJson<'a> {
    pub fn new(job: &'a Job) -> Self {
        let (state_reason, not_before) = match &job.state {
            JobState::Waiting { question, .. } => (Some(question.as_str()), None),
            JobState::Failed { reason, .. } | JobState::Killed { reason, .. } => {
                (Some(reason.as_str()), None)
            }
            JobState::Queued { not_before, .. } => (None, *not_before),
            _ => (None, None),
        };
        JobJson {
            id: job.id,
            kind: job.kind,
            state: job.state.name(),
            project: job.project.as_deref(),
            title: &job.title,
            attempts: job.attempts,
            created_at: job.created_at,
            reason: job.reason.as_deref().or(state_reason),
            state_since: job.state.since(),
            not_before,
            priority: job.priority,
            agent: job.agent.as_deref(),
            prompt: &job.prompt,
            progress: job.progress.percent,
            note: job.progress.note.as_deref(),
            host: None,
            after: &job.after,
        }
    }

    /// With the host of its project, from `hosts` (project → host).
    pub fn on(mut self, hosts: &'a BTreeMap<String, HostName>) -> Self {
        self.host = self.project.and_then(|p| hosts.get(p));
        self
    }
}

fn list(journal: &Journal, filter: &JobFilter, as_json: bool) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    if as_json {
        // Streamed, so 100,000 jobs never sit in memory twice.
        let mut out = BufWriter::new(stdout.lock());
        out.write_all(b"[")?;
        let mut first = true;
        let hosts = journal.project_hosts()?;
        journal.each_job(filter, |job| {
            if !first {
                out.write_all(b",").map_err(io_error)?;
            }
            first = false;
            serde_json::to_writer(&mut out, &JobJson::new(&job).on(&hosts))
                .map_err(|e| io_error(e.into()))?;
            Ok(())
        })?;
        out.write_all(b"]\n")?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let now = Timestamp::now();
    let hosts = journal.project_hosts()?;
    let mut out = BufWriter::new(anstream::AutoStream::auto(stdout.lock()));
    let mut count = 0u64;
    writeln!(
        out,
        "{}",
        paint(
            BOLD,
            format!(
                "{:>5}  {:11}  {:8}  {:10}  {:>4}  TITLE",
                "ID", "STATE", "KIND", "PROJECT", "AGE"
            )
        )
    )?;
    journal.each_job(filter, |job| {
        count += 1;
        let mut line = format!(
            "{:>5}  {}  {:8}  {:10}  {:>4}  {}",
            job.id,
            state_label(job.state.name(), 11),
            job.kind.as_str(),
            // A project on another machine shows its host: api@build1.
            fit(
                &match (
                    job.project.as_deref(),
                    job.project.as_ref().and_then(|p| hosts.get(p))
                ) {
                    (Some(p), Some(h)) if !h.is_local() => format!("{p}@{h}"),
                    (p, _) => p.unwrap_or("-").to_string(),
                },
                10
            ),
            age(job.created_at, now),
            fit(&job.title, 60),
        );
        if let Some(progress) = progress_line(&job) {
            line.push_str(&format!("\n{:>7}{progress}", ""));
        }
        if let Some(reason) = why(&job) {
            line.push_str(&format!("\n{:>7}{}", "", paint(DIM, reason)));
        }
        writeln!(out, "{line}").map_err(io_error)?;
        Ok(())
    })?;
    if count == 0 {
        writeln!(
            out,
            "No jobs{}. Give an agent work with `switchboard dispatch PROJECT PROMPT…`.",
            match filter.state {
                Some(s) => format!(" in state {s}"),
                None => String::new(),
            }
        )?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn io_error(e: std::io::Error) -> JournalError {
    JournalError::Refused(format!("cannot write the listing: {e}"))
}

/// The reason to show under a job in a list: why it waits or why it
/// ended, cut to the list's width.
fn why(job: &Job) -> Option<String> {
    let (word, reason) = job.why_now()?;
    // Said once: not again when the agent's note already says it.
    if job.progress.note.as_deref().map(str::trim) == Some(reason.trim()) {
        return None;
    }
    Some(match word {
        "" => fit(reason, 76),
        word => format!("{word}: {}", fit(reason, 70)),
    })
}

/// The reason of one job shown alone (`jobs ID`): whole.
fn why_whole(job: &Job) -> Option<String> {
    let (word, reason) = job.why_now()?;
    if job.progress.note.as_deref().map(str::trim) == Some(reason.trim()) {
        return None;
    }
    let reason = visible(reason).into_owned();
    Some(match word {
        "" => reason,
        word => format!("{word}: {reason}"),
    })
}

/// The alarms of a long chain shown by `jobs ID`; `--json` has them all.
const SHOWN_ORIGINS: usize = 20;

fn show(journal: &Journal, id: i64, as_json: bool) -> anyhow::Result<ExitCode> {
    let job = journal.job(id)?.ok_or(JournalError::NoJob(id))?;
    let events = journal.events(id)?;
    let origins = journal.origins(id)?;
    if as_json {
        let hosts = journal.project_hosts()?;
        let mut value = serde_json::to_value(JobJson::new(&job).on(&hosts))?;
        value["sources"] = serde_json::to_value(&origins)?;
        value["events"] = serde_json::to_value(&events)?;
        println!("{value}");
        return Ok(ExitCode::SUCCESS);
    }
    let now = Timestamp::now();
    anstream::println!(
        "{} {}  {}",
        paint(BOLD, format!("#{}", job.id)),
        state_label(job.state.name(), 0),
        visible(&job.title)
    );
    println!("  kind      {}", job.kind);
    println!(
        "  project   {}",
        visible(job.project.as_deref().unwrap_or("- (not routed yet)"))
    );
    println!(
        "  agent     {}",
        visible(job.agent.as_deref().unwrap_or("the project's default"))
    );
    println!("  priority  {}", job.priority);
    println!("  attempts  {}", job.attempts);
    println!(
        "  created   {} ({} ago)",
        job.created_at,
        age(job.created_at, now)
    );
    if let Some(progress) = progress_line(&job) {
        anstream::println!("  progress  {progress}");
    }
    if let Some(reason) = why_whole(&job) {
        println!("  why       {reason}");
    }
    if !origins.is_empty() {
        println!("  from");
        for origin in origins.iter().take(SHOWN_ORIGINS) {
            println!("    {}", visible(&origin.what));
            if let Some(arrival) = origin.arrival() {
                println!("      {}", visible(&arrival));
            }
        }
        if origins.len() > SHOWN_ORIGINS {
            println!(
                "    … and {} more (jobs {id} --json lists them all)",
                origins.len() - SHOWN_ORIGINS
            );
        }
    }
    let waits = journal.waits_of(id)?;
    if !waits.is_empty() {
        println!("  after     {}", &after_reason(&waits)["after ".len()..]);
    }
    println!("  prompt");
    for line in job.prompt.lines() {
        println!("    {}", visible(line));
    }
    println!("  events");
    for event in &events {
        anstream::println!("{}", event_line(event));
    }
    Ok(ExitCode::SUCCESS)
}

fn event_line(event: &Event) -> String {
    let job = event.job.map(|j| format!("#{j} ")).unwrap_or_default();
    format!(
        "    {} {job}{:9} {}",
        paint(DIM, event.at),
        visible(&event.kind),
        visible(&event.message)
    )
}

fn watch_job(journal: &Journal, id: i64, as_json: bool) -> anyhow::Result<ExitCode> {
    let mut last_seen: Option<Value> = None;
    let mut last_event = 0;
    loop {
        let job = journal.job(id)?.ok_or(JournalError::NoJob(id))?;
        let hosts = journal.project_hosts()?;
        let value = serde_json::to_value(JobJson::new(&job).on(&hosts))?;
        let events: Vec<Event> = journal
            .events(id)?
            .into_iter()
            .filter(|e| e.id > last_event)
            .collect();
        if let Some(e) = events.last() {
            last_event = e.id;
        }
        let changed = last_seen.as_ref() != Some(&value);
        if as_json {
            if changed {
                println!("{value}");
            }
        } else {
            for event in &events {
                anstream::println!("{}", event_line(event).trim_start());
            }
            if changed && let Some(progress) = progress_line(&job) {
                anstream::println!("#{id} {progress}");
            }
        }
        last_seen = Some(value);
        super::pipe::end_if_stdout_closed();
        if job.state.name().is_over() {
            if !as_json {
                anstream::println!("#{id} ended {}", state_label(job.state.name(), 0));
            }
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(WATCH_EVERY);
    }
}

fn watch_all(journal: &Journal, as_json: bool) -> anyhow::Result<ExitCode> {
    let mut last = journal.last_event_id()?;
    loop {
        for event in journal.events_after(last)? {
            last = event.id;
            if as_json {
                println!("{}", serde_json::to_string(&event)?);
            } else {
                anstream::println!("{}", event_line(&event).trim_start());
            }
        }
        super::pipe::end_if_stdout_closed();
        std::thread::sleep(WATCH_EVERY);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sessions_left_running_are_named_with_visible_escapes() {
        let closed = crate::tui::Closed {
            agents: vec!["sb-1-1".into(), "x\x1b]0;PWNED\x07\u{9b}31m".into()],
            ..Default::default()
        };
        let said = after_the_room(&closed);
        assert!(said.contains("sb-1-1, x"), "{said}");
        assert!(!said.chars().any(char::is_control), "{said:?}");
    }
}
