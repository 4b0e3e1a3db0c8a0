//! A worktree on a remote host set up as [`super::setup`] does here, over
//! the host's connection: `include` copies from the project's repository
//! on the host into the worktree there, `setup` runs in the worktree on
//! the host, its output streamed back into the job's log here. The argv
//! and the paths travel as words of fixed commands
//! (`remote::commands::{copy_files, run_in}`), never spliced into a shell
//! string.

use std::path::Path;
use std::time::{Duration, Instant};

use super::setup::{
    END_GRACE, Finish, Marker, SetupOf, failed, include_list, last_lines, run_logged, timed_out,
};
use crate::config::ProjectSettings;
use crate::remote::commands::{
    self, COPIED, MISSING, NOT_A_FILE, OUT_OF_REPOSITORY, OUT_OF_WORKTREE,
};
use crate::remote::{Ssh, SshError, ssh::classify};
use crate::workspace::{Place, private_dir_on};

/// How long past the setup's own deadline the ssh client is given (the
/// host stops the command at the deadline; this covers a link that went
/// quiet meanwhile).
const GRACE: Duration = Duration::from_secs(15);

/// [`super::setup::prepare`] on the host `ssh` reaches.
pub(super) fn prepare(
    ssh: &std::sync::Arc<Ssh>,
    worktree: &Path,
    source: &Path,
    settings: &ProjectSettings,
    log: &Path,
    of: &SetupOf,
) -> anyhow::Result<()> {
    let place = Place::Host(ssh.clone());
    let private = private_dir_on(&place, worktree)?;
    let marker = private.join("setup.done");
    if place.exists(&marker)? {
        return Ok(());
    }
    if !settings.include.is_empty() {
        let copied = include(ssh, worktree, source, &settings.include)?;
        place.write(&private.join("include"), include_list(&copied).as_bytes())?;
    }
    if !settings.setup.is_empty()
        && let Err(e) = run_setup(
            ssh,
            worktree,
            &settings.setup,
            settings.setup_timeout,
            log,
            of,
        )
    {
        end_left_over(ssh, of);
        return Err(e);
    }
    place.write(&marker, b"")?;
    Ok(())
}

/// Copies the `include` files on the host; the paths copied.
fn include(
    ssh: &Ssh,
    worktree: &Path,
    source: &Path,
    paths: &[String],
) -> anyhow::Result<Vec<String>> {
    let out = ssh
        .run(&commands::copy_files(source, worktree, paths))
        .map_err(|e| match e {
            SshError::Remote { stderr, .. } => {
                anyhow::anyhow!("include on {}: cannot copy: {stderr}", ssh.address())
            }
            other => anyhow::anyhow!("include: {other}"),
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut copied = Vec::new();
    let mut words = text.lines();
    for rel in paths {
        let from = source.join(rel);
        match words.next() {
            Some(COPIED) => copied.push(rel.clone()),
            Some(MISSING) => {
                tracing::info!("include {rel}: not in {}, skipped", from.display());
            }
            Some(NOT_A_FILE) => anyhow::bail!(
                "include {rel}: {} on {} is not a regular file",
                from.display(),
                ssh.address()
            ),
            Some(OUT_OF_REPOSITORY) => anyhow::bail!(
                "include {rel}: its directory on {} ({}) leads out of the repository (a link); include copies only files inside the repository: copy the file into it, or list the path it leads to in setup instead",
                ssh.address(),
                from.parent().unwrap_or(&from).display()
            ),
            Some(OUT_OF_WORKTREE) => anyhow::bail!(
                "include {rel}: its place in the worktree on {} leads out of the worktree (a link in the base commit); nothing was copied",
                ssh.address()
            ),
            other => anyhow::bail!(
                "include {rel}: the copy on {} stopped without a word for it ({other:?})",
                ssh.address()
            ),
        }
    }
    Ok(copied)
}

/// Ends, on the host, every process still marked with the attempt of a
/// set-up that did not succeed (one that left its group with `setsid`
/// escapes the group's kill). A host out of reach is told in the log.
fn end_left_over(ssh: &Ssh, of: &SetupOf) {
    let Marker::Place(place) = &of.marker else {
        return;
    };
    let tenths = u32::try_from(END_GRACE.as_millis() / 100).unwrap_or(5);
    match ssh.run(&commands::end_attempt_processes(
        place, of.job, of.attempt, tenths,
    )) {
        Ok(out) => {
            let n = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if n != "0" {
                tracing::info!(
                    job = of.job,
                    "setup: ended {n} process(es) it left on {}",
                    ssh.address()
                );
            }
        }
        Err(e) => tracing::warn!(
            job = of.job,
            "setup: the processes it left on {} could not be ended: {e}",
            ssh.address()
        ),
    }
}

/// Runs the setup argv in the worktree on the host, its output to `log`,
/// its processes marked with the attempt (`of`).
fn run_setup(
    ssh: &Ssh,
    worktree: &Path,
    argv: &[String],
    timeout: Duration,
    log: &Path,
    of: &SetupOf,
) -> anyhow::Result<()> {
    let shown = argv.join(" ");
    let secs = timeout.as_secs().max(1);
    let cmd = ssh.command(
        &commands::run_in_with(worktree, secs, &of.env, argv).map_err(anyhow::Error::msg)?,
    )?;
    let began = Instant::now();
    let finish = run_logged(cmd, timeout + GRACE, log)
        .map_err(|e| anyhow::anyhow!("setup `{shown}` could not start: {e}"))?;
    let status = match finish {
        Finish::TimedOut => return Err(timed_out(&shown, timeout, log)),
        Finish::Exited(s) => s,
    };
    if status.success() {
        return Ok(());
    }
    let host = ssh.address();
    match status.code() {
        // ssh's own failure: the host, not the setup.
        Some(255) => {
            let said = last_lines(log, 5);
            let e = classify(
                &host.to_string(),
                &ssh.known_hosts().display().to_string(),
                &said,
            );
            anyhow::bail!("setup `{shown}` did not run on {host}: {e}")
        }
        Some(125) => anyhow::bail!(
            "setup `{shown}` could not start on {host}: cannot enter {}",
            worktree.display()
        ),
        Some(127) => anyhow::bail!(
            "setup `{shown}` could not start on {host}: {} is not on the host's PATH (its last lines:\n{})",
            argv.first().map(String::as_str).unwrap_or(""),
            last_lines(log, 3)
        ),
        _ if began.elapsed() >= timeout => Err(timed_out(&shown, timeout, log)),
        _ => Err(failed(&shown, &format!("{status}, on {host}"), log)),
    }
}
