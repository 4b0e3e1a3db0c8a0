//! Running a program that talks to the network (git fetch and push, `gh`,
//! `glab`) with a deadline: the engine's pass never hangs on a remote that
//! does not answer.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long one network command may take.
pub const NETWORK_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a bounded run did not give an output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundedError {
    #[error("{program} is not installed (not on PATH)")]
    Missing { program: String },
    #[error("cannot run {program}: {why}")]
    Spawn { program: String, why: String },
    #[error("{program} did not finish within {}; it was stopped", humantime::format_duration(*.timeout))]
    TimedOut { program: String, timeout: Duration },
}

/// Runs `cmd` (stdin closed, output captured) and waits at most
/// `timeout` for it; the program is killed when the time is up.
pub fn run_bounded(mut cmd: Command, timeout: Duration) -> Result<Output, BoundedError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => BoundedError::Missing {
                program: program.clone(),
            },
            _ => BoundedError::Spawn {
                program: program.clone(),
                why: e.to_string(),
            },
        })?;
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(BoundedError::TimedOut { program, timeout });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                return Err(BoundedError::Spawn {
                    program,
                    why: e.to_string(),
                });
            }
        }
    };
    Ok(Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_that_hangs_is_stopped_at_the_deadline() {
        let mut cmd = Command::new("sleep");
        cmd.arg("30");
        let started = Instant::now();
        let e = run_bounded(cmd, Duration::from_millis(200)).unwrap_err();
        assert!(matches!(e, BoundedError::TimedOut { .. }), "{e}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn output_and_status_come_back() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo out; echo err >&2; exit 3"]);
        let out = run_bounded(cmd, Duration::from_secs(10)).unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
    }

    #[test]
    fn a_missing_program_is_named() {
        let cmd = Command::new("switchboard-no-such-program");
        let e = run_bounded(cmd, Duration::from_secs(1)).unwrap_err();
        assert!(matches!(e, BoundedError::Missing { .. }), "{e}");
    }
}
