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

/// Which attempt a set-up is for, and how its processes are marked: the
/// environment an attempt's agent gets (`SWITCHBOARD_JOB`,
/// `SWITCHBOARD_ATTEMPT`, and `SWITCHBOARD_HOME` here or
/// `SWITCHBOARD_PLACE` on a host), so that a child that left the setup's
/// process group (`setsid`) is still found and ended
/// ([`crate::runtime::procs`], `remote::commands::end_attempt_processes`).
#[derive(Debug, Clone)]
pub struct SetupOf {
    pub job: i64,
    pub attempt: u32,
    /// The environment entries that mark the attempt's processes.
    pub env: Vec<(String, String)>,
    /// The home here (found by `SWITCHBOARD_HOME`), or this home's place
    /// on the host (found by `SWITCHBOARD_PLACE`).
    pub marker: Marker,
}

/// Where a set-up's processes are looked for when it is ended.
#[derive(Debug, Clone)]
pub enum Marker {
    Home(PathBuf),
    Place(String),
}

impl SetupOf {
    /// The mark of attempt `attempt` of `job` for a set-up here (`home`) or
    /// on a host (`place`: this home's directory name there).
    pub fn new(job: i64, attempt: u32, marker: Marker) -> SetupOf {
        let (name, value) = match &marker {
            Marker::Home(home) => ("SWITCHBOARD_HOME", home.to_string_lossy().into_owned()),
            Marker::Place(place) => (crate::remote::commands::PLACE_VAR, place.clone()),
        };
        SetupOf {
            job,
            attempt,
            env: vec![
                (name.to_string(), value),
                ("SWITCHBOARD_JOB".into(), job.to_string()),
                ("SWITCHBOARD_ATTEMPT".into(), attempt.to_string()),
            ],
            marker,
        }
    }
}

/// How long a process of a set-up that did not succeed is given between
/// TERM and KILL.
pub(super) const END_GRACE: Duration = Duration::from_millis(500);

/// Sets up `worktree` (cut from the checkout at `source`, both paths at
/// `place`) by `settings` for the attempt `of`; an error says why, with
/// the last lines of the set-up's output. A set-up that fails or runs out
/// of time leaves no process behind: its process group is killed, then
/// every process still marked with its attempt (one that called `setsid`).
pub fn prepare(
    place: &Place,
    worktree: &Path,
    source: &Path,
    settings: &ProjectSettings,
    log: &Path,
    of: &SetupOf,
) -> anyhow::Result<()> {
    if !wanted(settings) {
        return Ok(());
    }
    if let Place::Host(ssh) = place {
        return super::setup_host::prepare(ssh, worktree, source, settings, log, of);
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
        cmd.envs(of.env.iter().map(|(k, v)| (k, v)));
        let shown = settings.setup.join(" ");
        let timeout = settings.setup_timeout;
        let finish = run_logged(cmd, timeout, log)
            .map_err(|e| anyhow::anyhow!("setup `{shown}` could not start: {e}"))?;
        let error = match finish {
            Finish::Exited(s) if s.success() => None,
            Finish::Exited(s) => Some(failed(&shown, &s.to_string(), log)),
            Finish::TimedOut => Some(timed_out(&shown, timeout, log)),
        };
        if let Some(e) = error {
            if let Marker::Home(home) = &of.marker {
                let left = crate::runtime::procs::end_attempt_processes(
                    home, of.job, of.attempt, END_GRACE,
                );
                if left > 0 {
                    tracing::info!(job = of.job, "setup: ended {left} process(es) it left");
                }
            }
            return Err(e);
        }
    }
    std::fs::write(marker, "")?;
    Ok(())
}

/// Copies each `include` path that is a regular file in the source
/// checkout (a link is never followed) and lists it in
/// `.switchboard/include`, which commits and the uncommitted check leave
/// out. A path missing from the source is skipped. A path whose
/// directory is a link (or under one) leading out of the repository, or
/// whose place in the worktree is under a link leading out of the
/// worktree, stops the set-up: include copies files from inside the
/// repository to inside the worktree, nothing else.
fn include(worktree: &Path, source: &Path, paths: &[String], private: &Path) -> anyhow::Result<()> {
    let source_root = std::fs::canonicalize(source)
        .map_err(|e| anyhow::anyhow!("include: cannot resolve {}: {e}", source.display()))?;
    let worktree_root = std::fs::canonicalize(worktree)
        .map_err(|e| anyhow::anyhow!("include: cannot resolve {}: {e}", worktree.display()))?;
    let mut copied = Vec::new();
    for rel in paths {
        let from = source.join(rel);
        if let Some(dir) = from.parent()
            && let Some(there) = leaves(&source_root, dir)?
        {
            anyhow::bail!(
                "include {rel}: {} leads out of the repository (to {}); include copies only files inside the repository: copy the file into it, or list the path it leads to in setup instead",
                dir.display(),
                there.display()
            );
        }
        match std::fs::symlink_metadata(&from) {
            Ok(meta) if meta.is_file() => {
                let to = worktree.join(rel);
                if let Some(dir) = to.parent() {
                    if let Some(there) = leaves(&worktree_root, dir)? {
                        anyhow::bail!(
                            "include {rel}: {} leads out of the worktree (to {}: a link in the base commit); nothing was copied",
                            dir.display(),
                            there.display()
                        );
                    }
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

/// Where `dir` really is, when that is outside `root` (a resolved path):
/// its nearest existing ancestor (itself, when it exists) resolved,
/// links and all. `None` when it stays inside, or nothing of it exists
/// below `root`'s own place.
fn leaves(root: &Path, dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    let mut at = dir;
    loop {
        match std::fs::symlink_metadata(at) {
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match at.parent() {
                Some(up) => at = up,
                None => return Ok(None),
            },
            Err(e) => anyhow::bail!("cannot look at {}: {e}", at.display()),
        }
    }
    match std::fs::canonicalize(at) {
        Ok(real) if real.starts_with(root) => Ok(None),
        Ok(real) => Ok(Some(real)),
        // A link to nowhere: it leads out of anything.
        Err(_) => Ok(Some(at.to_path_buf())),
    }
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
