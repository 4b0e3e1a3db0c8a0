//! `switchboard run [--headless]`: the engine without the control room.

use std::process::ExitCode;

use super::Context;
use crate::engine::Engine;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print nothing; for services and deploy scripts (logs go to the home's log file either way)
    #[arg(long)]
    pub headless: bool,
    /// Take work over HTTP on this address (as `[intake.http] listen`)
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    crate::cli::doctor::require_prerequisites()?;
    let config = ctx.config()?;
    let mut engine = Engine::start(ctx.home.clone(), config)?;
    engine.start_network(args.listen)?;
    if !args.headless {
        println!(
            "switchboard engine on {}; `switchboard jobs --watch` follows it, `switchboard drain` stops it cleanly.",
            ctx.home.root().display()
        );
        if engine.paused() {
            println!("The queue is paused: no new agent starts until `switchboard resume`.");
        }
    }
    engine.run()?;
    if !args.headless {
        println!("Drained: no agent is running; the engine stops.");
    }
    Ok(ExitCode::SUCCESS)
}
