//! The command line: one subcommand a file. `main` parses [`Cli`] and calls
//! [`run`]; every subcommand reads and writes the journal of one home.

mod answer;
mod chains;
mod clean;
mod context;
mod demo;
mod dispatch;
mod doctor;
mod explain;
#[cfg(test)]
mod gate_tests;
mod handover;
mod host;
mod host_check;
mod ingest;
mod jobs;
mod operator;
mod outcome;
mod output;
mod pipe;
mod project;
pub mod queue_task;
pub mod remote_repository;
mod report;
mod review;
mod run;
mod simulate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use context::Context;

/// A control room for coding agents running in tmux.
///
/// With no subcommand, opens the control room. The subcommands do the same
/// work from scripts; listing commands take --json and then print only JSON
/// on stdout.
#[derive(Debug, Parser)]
#[command(
    name = "switchboard",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// The switchboard home: journal, config, inbox, worktrees, logs
    /// [default: $SWITCHBOARD_HOME, else the platform's data directory, e.g.
    /// ~/.local/share/switchboard]
    // SWITCHBOARD_HOME is read by Home::resolve, not by clap: clap would
    // show an option set from the environment as required in every usage
    // line.
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Run the engine without the control room; it exits 0 once a drain completes (never because of a pause)
    Run(run::Args),
    /// Journal a task for an agent, print its id and return at once
    Dispatch(dispatch::Args),
    /// List jobs, show one, or follow them as they change
    Jobs(jobs::Args),
    /// Ask the engine to kill a job's agent
    Kill(operator::JobArg),
    /// Ask the engine to type a message to a job's agent
    Nudge(operator::NudgeArgs),
    /// Ask the engine to run a failed or killed job again
    Retry(operator::JobArg),
    /// List the review queue: finished work waiting for the operator
    Review(review::Args),
    /// Ask the engine to merge a reviewed job's branch into its base branch
    Approve(operator::ApproveArgs),
    /// Ask the engine to send a reviewed job back to its agent
    Reject(operator::RejectArgs),
    /// Journal messages (tasks, tickets, alarms), one JSON object a line
    Ingest(ingest::Args),
    /// List the alarm chains: one incident per account and chain window
    Chains(chains::Args),
    /// Ask the engine to start no new agents and to report when the last one ends
    Drain(operator::DrainArgs),
    /// Ask the engine to start no new agents while it keeps running; work is still queued
    Pause,
    /// Ask the engine to start agents again after a drain or a pause
    Resume,
    /// Replay a scenario through the scheduler on a virtual clock
    Simulate(simulate::Args),
    /// Register projects (git repositories) or list them
    #[command(subcommand)]
    Project(project::ProjectCommand),
    /// Register, list or remove the remote hosts agents run on (over SSH)
    #[command(subcommand)]
    Host(host::HostCommand),
    /// Tell switchboard how an agent's work goes (agents and their hooks call this)
    Report(report::Args),
    /// Open the control room on a throwaway home with sample repositories and demo agents at work
    Demo(demo::Args),
    /// The built-in demo agent: behaves like a coding agent, needs nothing installed
    DemoAgent(crate::agents::demo::DemoArgs),
    /// Check tmux, git, the home and the journal
    Doctor(doctor::Args),
    /// Why a job's agent shows the status it does: the signal that decided
    /// it (hook, report, exit, title, screen, quiet), what matched, and the
    /// last changes
    Explain(explain::Args),
    /// Answer a job's agent's question with its own keys (1, 2, 3, y, n,
    /// enter, esc), pressed as keys
    Answer(answer::Args),
    /// Remove merged jobs' worktrees and branches, and old ones of killed and failed jobs
    Clean(clean::Args),
}

/// Runs one parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let command = match cli.command {
        // An agent, not a client of a home: it reports to the home of its
        // session ($SWITCHBOARD_HOME), if it has one.
        Some(Command::DemoAgent(args)) => return Ok(demo_agent(args)),
        // Makes its own throwaway home.
        Some(Command::Demo(args)) => return demo::run(args),
        other => other,
    };
    // The engine and the room write to tmux's pipes; every other command
    // only prints, and a closed stdout ends it quietly.
    if command
        .as_ref()
        .is_some_and(|c| !matches!(c, Command::Run(_)))
    {
        pipe::end_on_closed_pipe();
    }
    // A simulation keeps nothing in the home: no inbox, tmux or worktrees.
    if let Some(Command::Simulate(args)) = command {
        return simulate::run(&Context::reading(cli.home)?, args);
    }
    let ctx = Context::new(cli.home)?;
    match command {
        None => jobs::control_room(&ctx),
        Some(Command::Run(args)) => run::run(&ctx, args),
        Some(Command::Dispatch(args)) => dispatch::run(&ctx, args),
        Some(Command::Jobs(args)) => jobs::run(&ctx, args),
        Some(Command::Kill(args)) => operator::kill(&ctx, args),
        Some(Command::Nudge(args)) => operator::nudge(&ctx, args),
        Some(Command::Retry(args)) => operator::retry(&ctx, args),
        Some(Command::Review(args)) => review::run(&ctx, args),
        Some(Command::Approve(args)) => operator::approve(&ctx, args),
        Some(Command::Reject(args)) => operator::reject(&ctx, args),
        Some(Command::Ingest(args)) => ingest::run(&ctx, args),
        Some(Command::Chains(args)) => chains::run(&ctx, args),
        Some(Command::Drain(args)) => operator::drain(&ctx, args),
        Some(Command::Pause) => operator::pause(&ctx),
        Some(Command::Resume) => operator::resume(&ctx),
        Some(Command::Simulate(args)) => simulate::run(&ctx, args),
        Some(Command::Project(cmd)) => project::run(&ctx, cmd),
        Some(Command::Host(cmd)) => host::run(&ctx, cmd),
        Some(Command::Report(args)) => report::run(&ctx, args),
        Some(Command::Doctor(args)) => doctor::run(&ctx, args),
        Some(Command::Explain(args)) => explain::run(&ctx, args),
        Some(Command::Answer(args)) => answer::run(&ctx, args),
        Some(Command::Clean(args)) => clean::run(&ctx, args),
        Some(Command::DemoAgent(args)) => Ok(demo_agent(args)),
        Some(Command::Demo(args)) => demo::run(args),
    }
}

fn demo_agent(args: crate::agents::demo::DemoArgs) -> ExitCode {
    ExitCode::from(crate::agents::demo::run(args).clamp(0, 255) as u8)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    /// Every subcommand's arguments are built only when it is used, so a
    /// `dispatch` does not pay for the whole tree (clap's `defer`).
    #[test]
    fn subcommands_are_built_only_when_used() {
        let cli = super::Cli::command();
        for sub in cli.get_subcommands() {
            assert_eq!(
                sub.get_arguments().count(),
                0,
                "`{}` was built before it was used",
                sub.get_name()
            );
        }
    }

    /// Built lazily, a subcommand still describes itself in its own help
    /// as the list of subcommands describes it: its arguments, added when
    /// it is built, must not bring an `about` of their own.
    #[test]
    fn a_subcommand_built_late_keeps_its_description() {
        fn abouts(cmd: &clap::Command, path: &str, out: &mut Vec<(String, String)>) {
            for sub in cmd.get_subcommands() {
                let name = format!("{path} {}", sub.get_name());
                let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
                out.push((name.clone(), about));
                abouts(sub, &name, out);
            }
        }
        let mut before = Vec::new();
        abouts(&super::Cli::command(), "", &mut before);
        let mut built = super::Cli::command();
        built.build();
        let mut after = Vec::new();
        abouts(&built, "", &mut after);
        // `help` and the tree under it are clap's own, added at the build.
        after.retain(|(name, _)| !name.split(' ').any(|word| word == "help"));
        assert_eq!(before, after);
    }
}
