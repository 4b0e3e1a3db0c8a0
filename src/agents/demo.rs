//! The demo agent: an interactive program that behaves like a coding agent
//! in a terminal, so that a new user (and every test) needs nothing else
//! installed. It shows a banner and a `demo> ` prompt, takes a task from
//! its arguments or typed at the prompt, prints its work over a few
//! seconds, edits `DEMO.md` in its working directory, reports progress with
//! `switchboard report` (in process), and returns to its prompt.
//!
//! Knobs, as flags or environment (for sessions started by the engine):
//! `--fail` (`SWITCHBOARD_DEMO_FAIL=1`) exits 1 after working; `--hang`
//! (`…_HANG`) goes silent forever; `--ask` (`…_ASK`) asks a yes/no question
//! first; `--crash` (`…_CRASH`) aborts half way; `--steps N` (`…_STEPS`) and
//! `--step-ms MS` (`…_STEP_MS`) set the pace.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::time::Duration;

use anstyle::{AnsiColor, Style};

use crate::home::Home;
use crate::journal::{Journal, ReportSource, ReportStatus};
use crate::model::Timestamp;

// How the demo agent behaves. (Not a doc comment: clap would make it the
// subcommand's about, and, the subcommand being built only when used,
// it would replace the one `demo-agent` is listed with.)
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// The task; without one, the agent waits at its prompt
    pub task: Vec<String>,
    /// Fail (exit 1) after working
    #[arg(long, env = "SWITCHBOARD_DEMO_FAIL")]
    pub fail: bool,
    /// Go silent forever instead of working
    #[arg(long, env = "SWITCHBOARD_DEMO_HANG")]
    pub hang: bool,
    /// Ask a yes/no question before changing anything
    #[arg(long, env = "SWITCHBOARD_DEMO_ASK")]
    pub ask: bool,
    /// Crash (abort) half way through the work
    #[arg(long, env = "SWITCHBOARD_DEMO_CRASH")]
    pub crash: bool,
    /// Steps of work per task
    #[arg(long, env = "SWITCHBOARD_DEMO_STEPS", default_value_t = 5)]
    pub steps: u32,
    /// Milliseconds per step
    #[arg(long, env = "SWITCHBOARD_DEMO_STEP_MS", default_value_t = 700)]
    pub step_ms: u64,
}

/// Reports to the journal of the agent's session, when it has one (on a
/// remote host: to its pane, as `switchboard report` does there).
struct Reporter {
    target: Option<(PathBuf, i64)>,
    pane_job: Option<i64>,
}

impl Reporter {
    fn from_env() -> Reporter {
        let job = std::env::var("SWITCHBOARD_JOB")
            .ok()
            .and_then(|j| j.parse().ok());
        if crate::remote::report::through_pane() {
            return Reporter {
                target: None,
                pane_job: job,
            };
        }
        let home = std::env::var_os("SWITCHBOARD_HOME").map(PathBuf::from);
        let job = std::env::var("SWITCHBOARD_JOB")
            .ok()
            .and_then(|j| j.parse().ok());
        Reporter {
            target: home.zip(job),
            pane_job: None,
        }
    }

    fn report(&self, status: Option<ReportStatus>, progress: Option<u8>, message: &str) {
        if let Some(job) = self.pane_job {
            if let Err(e) = crate::remote::report::send(
                job,
                status,
                progress,
                Some(message),
                ReportSource::DemoAgent,
            ) {
                eprintln!("(could not report: {e})");
            }
            return;
        }
        let Some((home, job)) = &self.target else {
            return;
        };
        let result = Journal::open(&Home::at(home).journal_file()).and_then(|mut j| {
            j.record_report(
                *job,
                status,
                progress,
                Some(message),
                ReportSource::DemoAgent,
                Timestamp::now(),
            )
        });
        if let Err(e) = result {
            eprintln!("(could not report: {e})");
        }
    }
}

const WORK: [&str; 6] = [
    "reading the code",
    "planning the change",
    "editing DEMO.md",
    "running the tests",
    "reviewing the diff",
    "tidying up",
];

const BOLD: Style = Style::new().bold();
const RED: Style = AnsiColor::Red.on_default().bold();

/// Runs the demo agent on this process's terminal. Returns the exit code.
pub fn run(args: DemoArgs) -> i32 {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let reporter = Reporter::from_env();
    let frame = AnsiColor::Cyan.on_default();
    anstream::println!("{frame}╭──────────────────────────────────────────────╮{frame:#}");
    anstream::println!(
        "{frame}│{frame:#} {BOLD}switchboard demo agent{BOLD:#}                       {frame}│{frame:#}"
    );
    anstream::println!(
        "{frame}│{frame:#} a stand-in for a coding agent: it edits      {frame}│{frame:#}"
    );
    anstream::println!(
        "{frame}│{frame:#} DEMO.md in its working directory             {frame}│{frame:#}"
    );
    anstream::println!("{frame}╰──────────────────────────────────────────────╯{frame:#}");
    // Text pasted in (a nudge, a reject's reason with its comments) comes
    // bracketed, so that several lines are one message, as real agents
    // take them.
    print!("{BRACKETED_PASTE_ON}");
    let code = take_tasks(&args, &mut input, &reporter);
    print!("{BRACKETED_PASTE_OFF}");
    let _ = std::io::stdout().flush();
    code
}

const BRACKETED_PASTE_ON: &str = "\x1b[?2004h";
const BRACKETED_PASTE_OFF: &str = "\x1b[?2004l";
const PASTE_START: &str = "\x1b[200~";
const PASTE_END: &str = "\x1b[201~";

/// Works on the task of the arguments, then on each one typed at the
/// prompt; the exit code.
fn take_tasks(args: &DemoArgs, input: &mut impl BufRead, reporter: &Reporter) -> i32 {
    let mut task = args.task.join(" ");
    loop {
        if !task.trim().is_empty()
            && let Some(code) = work(args, task.trim(), input, reporter)
        {
            return code;
        }
        anstream::print!("{BOLD}demo>{BOLD:#} ");
        let _ = std::io::stdout().flush();
        task = match read_message(input) {
            Some(message) => message,
            None => return 0,
        };
        if matches!(task.trim(), "exit" | "quit") {
            return 0;
        }
    }
}

/// One message from the terminal: a line, or a bracketed paste (however
/// many lines) and the rest of its line; `None` at the end of input.
fn read_message(input: &mut impl BufRead) -> Option<String> {
    let mut line = String::new();
    match input.read_line(&mut line) {
        Ok(0) | Err(_) => return None,
        Ok(_) => {}
    }
    if let Some(start) = line.find(PASTE_START) {
        let mut message = line[start + PASTE_START.len()..].to_string();
        while !message.contains(PASTE_END) {
            let mut more = String::new();
            match input.read_line(&mut more) {
                Ok(0) | Err(_) => break,
                Ok(_) => message.push_str(&more),
            }
        }
        line = format!("{}{}", &line[..start], message.replacen(PASTE_END, "", 1));
    }
    Some(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Works on one task; `Some(code)` when the agent must exit.
/// The demo's way of resolving merge conflicts, as a coding agent would be
/// asked to: in every conflicted file (as git lists them) both sides are
/// kept and the markers removed. Returns the files.
fn resolve_conflicts() -> Vec<String> {
    let listed = std::process::Command::new("git")
        .args(["diff", "--name-only", "--diff-filter=U"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let mut files = Vec::new();
    for file in listed.lines().filter(|l| !l.is_empty()) {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let kept: String = text
            .lines()
            .filter(|l| {
                !(l.starts_with("<<<<<<< ") || *l == "=======" || l.starts_with(">>>>>>> "))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        if std::fs::write(file, kept).is_ok() {
            files.push(file.to_string());
        }
    }
    files
}

fn work(args: &DemoArgs, task: &str, input: &mut impl BufRead, reporter: &Reporter) -> Option<i32> {
    let blue = AnsiColor::Blue.on_default().bold();
    anstream::println!("{blue}●{blue:#} {BOLD}task:{BOLD:#} {task}");
    if args.hang {
        reporter.report(None, Some(0), "started");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
    if args.ask {
        reporter.report(
            Some(ReportStatus::Waiting),
            None,
            "proceed with changes to DEMO.md?",
        );
        let ask = AnsiColor::Yellow.on_default().bold();
        anstream::print!("{ask}Proceed with changes to DEMO.md?{ask:#} [y/n] ");
        let _ = std::io::stdout().flush();
        let Some(answer) = read_message(input) else {
            return Some(0);
        };
        if !answer.trim().eq_ignore_ascii_case("y") && !answer.trim().eq_ignore_ascii_case("yes") {
            println!("○ not changing anything, as you said");
            reporter.report(
                Some(ReportStatus::Done),
                Some(100),
                "nothing changed: the operator said no",
            );
            return None;
        }
    }
    let steps = args.steps.max(1);
    for step in 1..=steps {
        let what = WORK[(step as usize - 1) % WORK.len()];
        let spin = AnsiColor::Yellow.on_default();
        anstream::println!("{spin}⠿ working:{spin:#} step {step}/{steps}: {what}");
        let _ = std::io::stdout().flush();
        std::thread::sleep(Duration::from_millis(args.step_ms));
        let percent = (step * 100 / steps) as u8;
        reporter.report(None, Some(percent), what);
        if args.crash && step * 2 >= steps {
            eprintln!("demo agent: simulated crash");
            std::process::abort();
        }
    }
    if task.contains("resolve the conflicts") {
        let resolved = resolve_conflicts();
        anstream::println!("⠿ resolved the conflicts in {}", resolved.join(", "));
    }
    let edited = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open("DEMO.md")
        .and_then(|mut f| writeln!(f, "- {task}"));
    if let Err(e) = edited {
        anstream::println!("{RED}✗ failed:{RED:#} cannot edit DEMO.md: {e}");
        reporter.report(
            Some(ReportStatus::Failed),
            None,
            &format!("cannot edit DEMO.md: {e}"),
        );
        return Some(1);
    }
    if args.fail {
        anstream::println!("{RED}✗ failed:{RED:#} simulated failure");
        reporter.report(Some(ReportStatus::Failed), None, "simulated failure");
        return Some(1);
    }
    let green = AnsiColor::Green.on_default().bold();
    anstream::println!("{green}✓ done:{green:#} added a line to DEMO.md");
    reporter.report(
        Some(ReportStatus::Done),
        Some(100),
        "added a line to DEMO.md",
    );
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bracketed_paste_of_several_lines_is_one_message() {
        let mut input = "\x1b[200~fix the docs\nand the tests\x1b[201~\nnext\n".as_bytes();
        assert_eq!(
            read_message(&mut input).as_deref(),
            Some("fix the docs\nand the tests")
        );
        assert_eq!(read_message(&mut input).as_deref(), Some("next"));
        assert_eq!(read_message(&mut input), None);
    }

    #[test]
    fn a_paste_that_ends_its_own_line_waits_for_its_end() {
        let mut input = "\x1b[200~one\ntwo\n\x1b[201~\n".as_bytes();
        assert_eq!(read_message(&mut input).as_deref(), Some("one\ntwo"));
    }
}
