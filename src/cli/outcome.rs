//! Waiting a moment for the engine to carry out an operator's command, to
//! print what came of it (approve: merged, pushed and where, a conflict).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::Context;
use super::output::visible;
use crate::journal::Journal;

/// How long `approve` waits for the engine's answer (a push and a pull
/// request take a few seconds; the network commands' own limit is longer,
/// and the result is then in `jobs ID`).
const WAIT: Duration = Duration::from_secs(20);

/// Prints the outcome of `command` once the running engine has carried
/// it out (within [`WAIT`]); exit 1 when it failed. Without an engine,
/// nothing to wait for.
pub fn print_when_done(ctx: &Context, journal: &Journal, command: i64) -> anyhow::Result<ExitCode> {
    if !crate::engine::health::engine_running(&ctx.home) {
        return Ok(ExitCode::SUCCESS);
    }
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        match journal.command_outcome(command)? {
            Some((true, result)) => {
                println!("Done: {}", visible(&result));
                return Ok(ExitCode::SUCCESS);
            }
            Some((false, result)) => {
                eprintln!("error: {}", visible(&result));
                return Ok(ExitCode::FAILURE);
            }
            None => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    println!("The engine has not answered yet; its answer will be in `switchboard jobs`.");
    Ok(ExitCode::SUCCESS)
}
