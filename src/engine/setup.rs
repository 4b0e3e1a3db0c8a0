//! A new worktree set up before its agent starts: the project's `include`
//! files copied from the source checkout (never committed back), then its
//! `setup` argv run there with a deadline, its output kept in the job's
//! log. Done once per worktree (a marker in `.switchboard/`), so a restart
//! or an engine restart does not run it again.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::config::ProjectSettings;
use crate::workspace::private_dir;

/// The log of a job's worktree set-up.
pub fn log_file(logs: &Path, job: i64) -> PathBuf {
    logs.join(format!("job-{job}-setup.log"))
}

/// Whether `settings` ask for worktrees to be set up at all.
pub fn wanted(settings: &ProjectSettings) -> bool {
    !(settings.include.is_empty() && settings.setup.is_empty())
}

/// Sets up `worktree` (cut from the checkout at `source`) by `settings`;
/// an error says why, with the last lines of the set-up's output.
pub fn prepare(
    worktree: &Path,
    source: &Path,
    settings: &ProjectSettings,
    log: &Path,
) -> anyhow::Result<()> {
    if settings.include.is_empty() && settings.setup.is_empty() {
        return Ok(());
    }
    let private = private_dir(worktree)?;
    let marker = private.join("setup.done");
    if marker.exists() {
        return Ok(());
    }
    include(worktree, source, &settings.include, &private)?;
    if !settings.setup.is_empty() {
        run_setup(worktree, &settings.setup, settings.setup_timeout, log)?;
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
    let mut list = copied.join("\n");
    list.push('\n');
    std::fs::write(private.join("include"), list)?;
    Ok(())
}

/// Runs `argv` in `worktree` (no shell), output to `log`, ended at
/// `timeout`.
fn run_setup(
    worktree: &Path,
    argv: &[String],
    timeout: Duration,
    log: &Path,
) -> anyhow::Result<()> {
    if let Some(dir) = log.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let out = std::fs::File::create(log)?;
    let err = out.try_clone()?;
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("setup is empty"))?;
    let shown = argv.join(" ");
    let mut child = Command::new(program)
        .args(args)
        .current_dir(worktree)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| anyhow::anyhow!("setup `{shown}` could not start: {e}"))?;
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let tail = last_lines(log, 10);
    match status {
        Some(s) if s.success() => Ok(()),
        Some(s) => anyhow::bail!(
            "setup `{shown}` failed ({s}); its last lines:\n{tail}\n(all of it in {})",
            log.display()
        ),
        None => anyhow::bail!(
            "setup `{shown}` did not finish within {}; its last lines:\n{tail}\n(all of it in {})",
            humantime::format_duration(timeout),
            log.display()
        ),
    }
}

/// The last `n` lines of a file, as text.
fn last_lines(path: &Path, n: usize) -> String {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let mut bytes = Vec::new();
        let _ = f.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
