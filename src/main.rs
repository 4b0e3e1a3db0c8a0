//! The `switchboard` binary: parse the command line, start logging to the
//! home's log file, hand over to one subcommand, and report errors on
//! stderr with a non-zero exit.

use std::process::ExitCode;

use clap::Parser;
use switchboard::cli::{Cli, run};
use switchboard::engine::fault::{Verdict, judge};
use switchboard::home::Home;
use switchboard::untrusted::visible;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return command_line_error(err),
    };
    start_logging(cli.home.clone());
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            tracing::error!("{err:#}");
            // An error may quote its input (a project name, a path, a
            // message): shown through the one function for outside text.
            anstream::eprintln!(
                "{}error:{} {}",
                anstyle::AnsiColor::Red.on_default().bold().render(),
                anstyle::Reset.render(),
                visible(&format!("{err:#}"))
            );
            // A fault of the surroundings (a full disk, a journal held by
            // another process) is said plainly, with what to do.
            if let Verdict::Retry(fault) = judge(&err)
                && let Some(said) = fault.for_a_command()
            {
                eprintln!("{said}");
            }
            ExitCode::FAILURE
        }
    }
}

/// A command line that cannot be parsed. Help and version go out as clap
/// writes them; an error quotes what was typed (an argument can hold any
/// bytes), so it is shown through the one function for outside text,
/// without colour.
fn command_line_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        err.exit();
    }
    let text = err.render().to_string();
    eprint!("{}", visible(&text));
    ExitCode::from(err.exit_code().clamp(0, 255) as u8)
}

/// Logs go to `<home>/logs/switchboard.log`, never to the terminal. The
/// level comes from SWITCHBOARD_LOG (error, warn, info, debug, trace).
fn start_logging(home: Option<std::path::PathBuf>) {
    let Ok(home) = Home::resolve(home) else {
        return;
    };
    if home.ensure_logs().is_err() {
        return;
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(home.log_file())
    else {
        return;
    };
    let level = std::env::var("SWITCHBOARD_LOG")
        .ok()
        .and_then(|l| l.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .with_writer(std::sync::Mutex::new(LogFile(file)))
        .with_ansi(false)
        .with_max_level(level)
        .try_init();
}

/// The log file, whose own failures (a full disk) are dropped: the
/// subscriber would otherwise write them to stderr, which is the
/// control room's screen while it is up.
struct LogFile(std::fs::File);

impl std::io::Write for LogFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = std::io::Write::write_all(&mut self.0, buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let _ = self.0.flush();
        Ok(())
    }
}
