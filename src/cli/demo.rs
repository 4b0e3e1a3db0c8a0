//! `switchboard demo`: the control room on a throwaway home, with two
//! sample repositories and work of every kind for the demo agent, so a
//! newcomer sees every pane move within seconds. Needs only tmux and git.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use super::Context;
use super::project::register;
use crate::home::Home;
use crate::intake::ingest_lines;
use crate::model::{Source, Timestamp};
use crate::runtime::TmuxServer;
use crate::workspace::Git;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Set the demo up and print its home instead of opening the control
    /// room (for scripts and tests)
    #[arg(long)]
    pub no_room: bool,
    /// Keep the throwaway home (and its agents) when the control room closes
    #[arg(long)]
    pub keep: bool,
}

/// The demo home's config: the demo agent everywhere, one profile that
/// asks before it works, alarms and tickets routed to the samples.
const DEMO_CONFIG: &str = r#"# switchboard demo: a throwaway home
[scheduler]
max_agents = 3
active_interval = "1s"

[routing]
default_project = "shop"
default_agent = "demo"
accounts = { "123456789012" = "shop" }
jira = { "DOCS" = "docs" }

[agents.demo]
command = ["{switchboard}", "demo-agent", "--steps", "6", "--step-ms", "1500", "{prompt}"]

[agents.demo-asks]
command = ["{switchboard}", "demo-agent", "--ask", "--steps", "4", "--step-ms", "1500", "{prompt}"]
prompt = "argv"
ready = '(?m)^demo> \s*\z'
busy = '⠿ working[^\n]*\s*\z'
ask = '\[y/n\]\s*\z'
# The demo agent reads its answer as a line.
answer_enter = true
"#;

/// The work the demo starts with: tasks, a ticket and a chain of alarms.
fn messages(now: Timestamp) -> String {
    let at =
        |minutes_ago: i64| Timestamp::from_millis(now.millis() - minutes_ago * 60_000).rfc3339();
    [
        r#"{"type":"task","project":"shop","prompt":"add a health check endpoint"}"#.to_string(),
        r#"{"type":"task","project":"docs","prompt":"explain the release process","agent":"demo-asks"}"#.to_string(),
        r#"{"type":"ticket","key":"DOCS-7","title":"The install guide misses tmux","body":"Readers on a fresh machine fail at step 2.","project":"docs"}"#.to_string(),
        format!(r#"{{"type":"alarm","account":"123456789012","name":"shop-HighLatency","state":"ALARM","at":"{}","reason":"p99 above 2 s"}}"#, at(6)),
        format!(r#"{{"type":"alarm","account":"123456789012","name":"shop-5xx","state":"ALARM","at":"{}","reason":"5xx above 1%"}}"#, at(2)),
        r#"{"type":"task","project":"shop","prompt":"tidy the checkout code","priority":-10}"#.to_string(),
    ]
    .join("\n")
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    super::doctor::require_prerequisites()?;
    let root = std::env::temp_dir().join(format!(
        "switchboard-demo-{}-{}",
        std::process::id(),
        Timestamp::now().millis()
    ));
    let home = set_up(&root)?;
    if args.no_room {
        println!("{}", home.root().display());
        return Ok(ExitCode::SUCCESS);
    }
    let ctx = Context::new(Some(home.root().to_path_buf()))?;
    let config = ctx.config()?;
    let closed_by = crate::tui::run(home.clone(), config.clone())?.signal;
    if args.keep {
        println!("The demo home stays at {}.", home.root().display());
    } else {
        if let Ok(server) = TmuxServer::for_home(&home, config.tmux.history_limit) {
            let _ = server.kill_server();
        }
        let _ = std::fs::remove_dir_all(&root);
        println!("The demo's agents are stopped and its home is removed.");
    }
    Ok(match closed_by {
        Some(signal) => ExitCode::from(128u8.saturating_add(signal as u8)),
        None => ExitCode::SUCCESS,
    })
}

/// Makes the demo home under `root`: config, two sample repositories, the
/// starting work. Returns the home.
pub fn set_up(root: &Path) -> anyhow::Result<Home> {
    let home = Home::at(root.join("home"));
    home.ensure()?;
    std::fs::write(home.config_file(), DEMO_CONFIG)?;
    let ctx = Context::new(Some(home.root().to_path_buf()))?;
    let config = ctx.config()?;
    let mut journal = ctx.journal()?;
    for (name, readme) in [
        ("shop", "# shop\n\nA small web shop.\n"),
        ("docs", "# docs\n\nThe handbook.\n"),
    ] {
        let repo = sample_repository(root, name, readme)
            .with_context(|| format!("cannot make the sample repository {name}"))?;
        register(&mut journal, &config, name, &repo, None, None, 1)?;
    }
    let lines = messages(Timestamp::now());
    let report = ingest_lines(
        &mut journal,
        Cursor::new(lines.as_bytes()),
        &Source::cli("demo"),
        &config.priorities,
    )?;
    anyhow::ensure!(
        report.rejected.is_empty(),
        "the demo's own messages were refused: {:?}",
        report.rejected
    );
    Ok(home)
}

fn sample_repository(root: &Path, name: &str, readme: &str) -> anyhow::Result<PathBuf> {
    let repo = root.join(name);
    std::fs::create_dir_all(&repo)?;
    std::fs::write(repo.join("README.md"), readme)?;
    let git = Git::at(&repo);
    git.run(&["init", "-q", "-b", "main"])?;
    git.run(&["add", "README.md"])?;
    let identity = git.identity();
    let env: Vec<(&str, &str)> = identity.iter().map(|(k, v)| (*k, v.as_str())).collect();
    git.run_with(&["commit", "-q", "-m", "A sample repository"], &env)?;
    Ok(repo)
}
