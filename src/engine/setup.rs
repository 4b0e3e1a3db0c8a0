//! A new worktree set up before its agent starts: the project's `include`
//! files copied from the source checkout (never committed back), then its
//! `setup` argv run there with a deadline, its output kept in the job's
//! log. Done once per worktree (a marker in `.switchboard/`), so a restart
//! or an engine restart does not run it again.
//!
//! On a remote host the same happens there, over the host's connection
//! ([`super::setup_host`]): the files come from the project's repository
//! on the host, the argv runs in the worktree on the host, and its output
//! comes back into the same log here.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::config::ProjectSettings;
use crate::workspace::{Place, private_dir};

/// The log of a job's worktree set-up.
pub fn log_file(logs: &Path, job: i64) -> PathBuf {
    logs.join(format!("job-{job}-setup.log"))
}

/// Whether `settings` ask for worktrees to be set up at all.
pub fn wanted(settings: &ProjectSettings) -> bool {
    !(settings.include.is_empty() && settings.setup.is_empty())
}

/// Sets up `worktree` (cut from the checkout at `source`, both paths at
/// `place`) by `settings`; an error says why, with the last lines of the
/// set-up's output.
pub fn prepare(
    place: &Place,
    worktree: &Path,
    source: &Path,
    settings: &ProjectSettings,
    log: &Path,
) -> anyhow::Result<()> {
    if !wanted(settings) {
        return Ok(());
    }
    if let Place::Host(ssh) = place {
        return super::setup_host::prepare(ssh, worktree, source, settings, log);
    }
    let private = private_dir(worktree)?;
    let marker = private.join("setup.done");
    if marker.exists() {
        return Ok(());
    }
    include(worktree, source, &settings.include, &private)?;
    if !settings.setup.is_empty() {
        let (program, args) = settings
            .setup
            .split_first()
            .ok_or_else(|| anyhow::anyhow!("setup is empty"))?;
        let mut cmd = Command::new(program);
        cmd.args(args).current_dir(worktree);
        let shown = settings.setup.join(" ");
        let timeout = settings.setup_timeout;
        let finish = run_logged(cmd, timeout, log)
            .map_err(|e| anyhow::anyhow!("setup `{shown}` could not start: {e}"))?;
        match finish {
            Finish::Exited(s) if s.success() => {}
            Finish::Exited(s) => return Err(failed(&shown, &s.to_string(), log)),
            Finish::TimedOut => return Err(timed_out(&shown, timeout, log)),
        }
    }
    std::fs::write(marker, "")?;
    Ok(())
}

/// Copies each `include` path that is a regular file in the source
/// checkout (a link is never followed) and lists it in
/// `.switchboard/include`, which commits and the uncommitted check leave
/// out. A path missing from the source is skipped.
fn include(worktree: &Path, source: &Path, paths: &[String], private: &Path) -> anyhow::Result<()> {
    let mut copied = Vec::new();
    for rel in paths {
        let from = source.join(rel);
        match std::fs::symlink_metadata(&from) {
            Ok(meta) if meta.is_file() => {
                let to = worktree.join(rel);
                if let Some(dir) = to.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                std::fs::copy(&from, &to).map_err(|e| {
                    anyhow::anyhow!("include {rel}: cannot copy {}: {e}", from.display())
                })?;
                copied.push(rel.clone());
            }
            Ok(_) => anyhow::bail!("include {rel}: {} is not a regular file", from.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::info!("include {rel}: not in {}, skipped", source.display());
            }
            Err(e) => anyhow::bail!("include {rel}: {e}"),
        }
    }
    std::fs::write(private.join("include"), include_list(&copied))?;
    Ok(())
}

/// The text of `.switchboard/include`: the copied paths, a line each.
pub(super) fn include_list(copied: &[String]) -> String {
    let mut list = copied.join("\n");
    list.push('\n');
    list
}

/// How a set-up command ended.
pub(super) enum Finish {
    Exited(ExitStatus),
    /// Killed at its deadline.
    TimedOut,
}

/// Runs `cmd` (stdin empty, stdout and stderr to `log`) in a process
/// group of its own; the whole group (children it started too) is killed
/// once `timeout` has passed.
pub(super) fn run_logged(
    mut cmd: Command,
    timeout: Duration,
    log: &Path,
) -> std::io::Result<Finish> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let out = std::fs::File::create(log)?;
    let err = out.try_clone()?;
    use std::os::unix::process::CommandExt;
    let mut child = cmd
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()?;
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Finish::Exited(status));
        }
        if Instant::now() >= deadline {
            // The group's id is the child's pid (process_group(0)).
            if let Ok(group) = libc::pid_t::try_from(child.id()) {
                // SAFETY: kill(2) with a negative pid signals that group;
                // no memory is touched.
                unsafe { libc::kill(-group, libc::SIGKILL) };
            }
            let _ = child.kill();
            let _ = child.wait();
            return Ok(Finish::TimedOut);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `setup `…` failed (how)`, with its last lines.
pub(super) fn failed(shown: &str, how: &str, log: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "setup `{shown}` failed ({how}); its last lines:\n{}\n(all of it in {})",
        last_lines(log, 10),
        log.display()
    )
}

/// `setup `…` did not finish within …`, with its last lines.
pub(super) fn timed_out(shown: &str, timeout: Duration, log: &Path) -> anyhow::Error {
    anyhow::anyhow!(
        "setup `{shown}` did not finish within {}; its last lines:\n{}\n(all of it in {})",
        humantime::format_duration(timeout),
        last_lines(log, 10),
        log.display()
    )
}

/// The last `n` lines of a file, as text.
pub(super) fn last_lines(path: &Path, n: usize) -> String {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let mut bytes = Vec::new();
        let _ = f.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
