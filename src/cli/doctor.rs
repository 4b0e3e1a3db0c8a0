//! `switchboard doctor`: is everything switchboard needs in place?

use std::process::ExitCode;

use serde_json::json;

use super::Context;
use super::output::{GREEN, RED, YELLOW, paint, visible};
use crate::runtime;
use crate::workspace;

#[path = "doctor_hosts.rs"]
mod hosts;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON only
    #[arg(long)]
    pub json: bool,
}

/// One check's outcome.
struct Check {
    name: &'static str,
    status: Status,
    detail: String,
}

#[derive(PartialEq)]
enum Status {
    Ok,
    Warn,
    Fail,
}

/// The control room and the engine need tmux and git; say how to get them.
pub fn require_prerequisites() -> anyhow::Result<()> {
    runtime::tmux_version().map_err(anyhow::Error::msg)?;
    workspace::git_version().map_err(anyhow::Error::msg)?;
    Ok(())
}

pub fn run(ctx: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let checks = vec![
        tmux(),
        git(),
        home(ctx),
        journal(ctx),
        config(ctx),
        engine(ctx),
        tmux_server(ctx),
    ]
    .into_iter()
    .chain(intakes(ctx))
    .chain(hosts::hosts(ctx))
    .chain(agents(ctx))
    .collect::<Vec<_>>();
    let failed = checks.iter().any(|c| c.status == Status::Fail);
    if args.json {
        let out: Vec<_> = checks
            .iter()
            .map(|c| {
                let status = match c.status {
                    Status::Ok => "ok",
                    Status::Warn => "warn",
                    Status::Fail => "fail",
                };
                json!({"check": c.name, "status": status, "detail": c.detail})
            })
            .collect();
        println!("{}", serde_json::to_string(&out)?);
    } else {
        for c in &checks {
            let mark = match c.status {
                Status::Ok => paint(GREEN, "✓"),
                Status::Warn => paint(YELLOW, "!"),
                Status::Fail => paint(RED, "✗"),
            };
            anstream::println!("{mark} {:8} {}", c.name, visible(&c.detail));
        }
        if failed {
            anstream::eprintln!(
                "{}",
                paint(RED, "Some checks failed; the lines above say what to do.")
            );
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn tmux() -> Check {
    match runtime::tmux_version() {
        Ok(v) => match runtime::tmux_too_old(&v, "") {
            None => Check {
                name: "tmux",
                status: Status::Ok,
                detail: format!("tmux {v}"),
            },
            Some(why) => Check {
                name: "tmux",
                status: Status::Warn,
                detail: why,
            },
        },
        Err(e) => Check {
            name: "tmux",
            status: Status::Fail,
            detail: e,
        },
    }
}

fn git() -> Check {
    match workspace::git_version() {
        Ok(v) => Check {
            name: "git",
            status: Status::Ok,
            detail: format!("git {v}"),
        },
        Err(e) => Check {
            name: "git",
            status: Status::Fail,
            detail: e,
        },
    }
}

fn home(ctx: &Context) -> Check {
    let root = ctx.home.root();
    let probe = root.join(format!(".doctor-{}", std::process::id()));
    match std::fs::write(&probe, b"ok").and_then(|_| std::fs::remove_file(&probe)) {
        Ok(()) => Check {
            name: "home",
            status: Status::Ok,
            detail: format!("{} is writable", root.display()),
        },
        Err(e) => Check {
            name: "home",
            status: Status::Fail,
            detail: format!(
                "cannot write in {}: {e}; fix its permissions or pass another --home",
                root.display()
            ),
        },
    }
}

fn journal(ctx: &Context) -> Check {
    let result = ctx.journal().and_then(|j| {
        let integrity = j.integrity_check()?;
        let version = j.schema_version()?;
        let jobs: u64 = j.job_counts()?.iter().map(|(_, n)| n).sum();
        Ok((integrity, version, jobs))
    });
    match result {
        Ok((integrity, version, jobs)) if integrity == ["ok"] => Check {
            name: "journal",
            status: Status::Ok,
            detail: format!(
                "{} healthy (schema {version}, {jobs} job{})",
                ctx.home.journal_file().display(),
                if jobs == 1 { "" } else { "s" }
            ),
        },
        Ok((integrity, ..)) => Check {
            name: "journal",
            status: Status::Fail,
            detail: format!(
                "integrity check failed: {}; stop switchboard and restore the journal from a backup",
                integrity.join("; ")
            ),
        },
        Err(e) => Check {
            name: "journal",
            status: Status::Fail,
            detail: format!("{e:#}"),
        },
    }
}

fn config(ctx: &Context) -> Check {
    let path = ctx.home.config_file();
    match ctx
        .config()
        .and_then(|c| c.compile_patterns().map(|()| c).map_err(anyhow::Error::msg))
    {
        Ok(c) => Check {
            name: "config",
            status: Status::Ok,
            detail: if path.exists() {
                format!(
                    "{} loads ({} agent profiles)",
                    path.display(),
                    c.agents.len()
                )
            } else {
                format!(
                    "built-in defaults ({} has no config.toml)",
                    ctx.home.root().display()
                )
            },
        },
        Err(e) => Check {
            name: "config",
            status: Status::Fail,
            detail: format!("{e:#}"),
        },
    }
}

/// Each agent profile: the path its program resolves to, or that it is not
/// installed and how to install it (a warning: a profile nobody uses need
/// not be installed; a job that needs it fails at once with the same words).
fn agents(ctx: &Context) -> Vec<Check> {
    use crate::engine::Installed;
    let Ok(config) = ctx.config() else {
        return Vec::new();
    };
    let mut names: Vec<&String> = config.agents.keys().collect();
    names.sort();
    names
        .into_iter()
        .map(
            |name| match crate::engine::installed(&config.agents[name]) {
                Installed::BuiltIn => Check {
                    name: "agent",
                    status: Status::Ok,
                    detail: format!("{name}: built into switchboard"),
                },
                Installed::At(path) => Check {
                    name: "agent",
                    status: Status::Ok,
                    detail: format!("{name}: {}", path.display()),
                },
                Installed::Missing(program) => Check {
                    name: "agent",
                    status: Status::Warn,
                    detail: format!(
                        "{name}: {program} not found, {}",
                        crate::engine::install_hint(&program)
                    ),
                },
            },
        )
        .collect()
}

/// The engine of this home: running or not, any fault it waits out, and
/// whether it starts new agents (a pause or a drain, which outlive it).
fn engine(ctx: &Context) -> Check {
    let check = engine_process(ctx);
    let held = if ctx.home.drain_file().exists() {
        Some("draining: no new agent starts until `switchboard resume`")
    } else if ctx.home.paused_file().exists() {
        Some("paused: no new agent starts, running agents go on, until `switchboard resume`")
    } else {
        None
    };
    match held {
        Some(held) => Check {
            name: check.name,
            status: if check.status == Status::Fail {
                Status::Fail
            } else {
                Status::Warn
            },
            detail: format!("{}; {held}", check.detail),
        },
        None => check,
    }
}

/// The engine's process: running or not, and any fault it waits out.
fn engine_process(ctx: &Context) -> Check {
    use crate::engine::health;
    if !health::engine_running(&ctx.home) {
        return Check {
            name: "engine",
            status: Status::Ok,
            detail: "no engine runs on this home (`switchboard` or `switchboard run` starts one)"
                .into(),
        };
    }
    match health::read(&ctx.home) {
        Some(h) => match &h.fault {
            Some(f) => Check {
                name: "engine",
                status: Status::Warn,
                detail: f.line(),
            },
            None => {
                let mut detail = format!("running (pid {})", h.pid);
                if !h.recovered.is_empty() {
                    detail.push_str(&format!(
                        "; at start-up it recovered: {}",
                        h.recovered.join("; ")
                    ));
                }
                Check {
                    name: "engine",
                    status: Status::Ok,
                    detail,
                }
            }
        },
        None => Check {
            name: "engine",
            status: Status::Ok,
            detail: "running".into(),
        },
    }
}

/// The network intakes of the running engine: listening on, polling, last
/// message, last error.
fn intakes(ctx: &Context) -> Vec<Check> {
    let Some(status) = crate::net::status::read(&ctx.home) else {
        return Vec::new();
    };
    status
        .lines()
        .into_iter()
        .map(|line| Check {
            name: "intake",
            status: if line.contains("; last error ") {
                Status::Warn
            } else {
                Status::Ok
            },
            detail: line,
        })
        .collect()
}

/// The home's tmux server: control clients a crashed engine left behind.
fn tmux_server(ctx: &Context) -> Check {
    let socket = ctx.home.tmux_dir().join("server.sock");
    let stale = runtime::recover::stale_clients(&socket);
    if stale.is_empty() {
        return Check {
            name: "clients",
            status: Status::Ok,
            detail: "no stale tmux control client".into(),
        };
    }
    let names: Vec<String> = stale.iter().map(ToString::to_string).collect();
    Check {
        name: "clients",
        status: Status::Warn,
        detail: format!(
            "{}; the next engine start ends them (a running engine ends them when its client cannot attach)",
            names.join("; ")
        ),
    }
}
