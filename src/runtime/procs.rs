//! The processes an attempt's agent leaves behind its session: daemons it
//! started (Codex's app-server, which outlives its TUI and the tmux
//! session), servers it ran in the background, anything that left the
//! session's process group. They carry the session's environment, so they
//! are found by it: `SWITCHBOARD_HOME` and `SWITCHBOARD_JOB` (and
//! `SWITCHBOARD_ATTEMPT`) in `/proc/PID/environ`. Where there is no
//! `/proc` (macOS), none are found and only the session ends.

use std::path::Path;
use std::time::{Duration, Instant};

/// Whether an environment block (`NAME=value` entries separated by NULs)
/// is that of attempt `attempt` of job `job` of the home at `home`. An
/// environment without `SWITCHBOARD_ATTEMPT` (an agent started before it
/// was set) counts for every attempt of its job.
pub fn is_attempts(environ: &[u8], home: &Path, job: i64, attempt: u32) -> bool {
    let home = home.as_os_str().as_encoded_bytes();
    let (mut in_home, mut of_job, mut of_attempt) = (false, false, true);
    for entry in environ.split(|b| *b == 0) {
        if let Some(v) = entry.strip_prefix(b"SWITCHBOARD_HOME=") {
            in_home = v == home;
        } else if let Some(v) = entry.strip_prefix(b"SWITCHBOARD_JOB=") {
            of_job = v == job.to_string().as_bytes();
        } else if let Some(v) = entry.strip_prefix(b"SWITCHBOARD_ATTEMPT=") {
            of_attempt = v == attempt.to_string().as_bytes();
        }
    }
    in_home && of_job && of_attempt
}

/// The live processes of attempt `attempt` of job `job` (this process
/// left out).
pub fn attempt_processes(home: &Path, job: i64, attempt: u32) -> Vec<i32> {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let me = std::process::id() as i32;
    procs
        .flatten()
        .filter_map(|p| p.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| is_attempts(&env, home, job, attempt))
        })
        .collect()
}

fn alive(pid: i32) -> bool {
    // A zombie has ended; only its parent's wait is missing.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// Ends attempt `attempt` of job `job`'s processes: SIGTERM, then SIGKILL
/// to any still there after `grace`. Returns how many there were.
pub fn end_attempt_processes(home: &Path, job: i64, attempt: u32, grace: Duration) -> usize {
    let pids = attempt_processes(home, job, attempt);
    for pid in &pids {
        // SAFETY: kill(2) with a pid read from /proc and a constant signal.
        unsafe { libc::kill(*pid as libc::pid_t, libc::SIGTERM) };
    }
    let deadline = Instant::now() + grace;
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for pid in pids.iter().filter(|p| alive(**p)) {
        // SAFETY: as above.
        unsafe { libc::kill(*pid as libc::pid_t, libc::SIGKILL) };
    }
    pids.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attempt_is_told_by_its_environment() {
        let home = Path::new("/h/home");
        let env = |s: &str| s.replace(' ', "\0").into_bytes();
        let of = env("PATH=/bin SWITCHBOARD_HOME=/h/home SWITCHBOARD_JOB=12 SWITCHBOARD_ATTEMPT=2");
        assert!(is_attempts(&of, home, 12, 2));
        assert!(!is_attempts(&of, home, 12, 1), "another attempt");
        assert!(!is_attempts(&of, home, 1, 2), "another job");
        assert!(
            !is_attempts(&of, Path::new("/h/home2"), 12, 2),
            "another home"
        );
        assert!(
            !is_attempts(
                &env("SWITCHBOARD_HOME=/h/home SWITCHBOARD_JOB=123"),
                home,
                12,
                1
            ),
            "a job whose id starts the same"
        );
        assert!(
            is_attempts(
                &env("SWITCHBOARD_HOME=/h/home SWITCHBOARD_JOB=12"),
                home,
                12,
                3
            ),
            "no attempt named: any of the job's"
        );
        assert!(!is_attempts(&env("SWITCHBOARD_JOB=12"), home, 12, 1));
    }

    #[test]
    fn a_process_of_the_attempt_is_ended_and_others_are_not() {
        let home = tempfile::tempdir().unwrap();
        let spawn = |job: &str| {
            std::process::Command::new("sleep")
                .arg("30")
                .env("SWITCHBOARD_HOME", home.path())
                .env("SWITCHBOARD_JOB", job)
                .env("SWITCHBOARD_ATTEMPT", "1")
                .spawn()
                .unwrap()
        };
        let mut mine = spawn("7");
        let mut other = spawn("8");
        let ended = end_attempt_processes(home.path(), 7, 1, Duration::from_secs(2));
        assert_eq!(ended, 1);
        assert!(mine.wait().is_ok_and(|s| !s.success()));
        assert!(other.try_wait().unwrap().is_none(), "job 8's runs on");
        let _ = other.kill();
        let _ = other.wait();
    }
}
