//! Helpers for tests that run the real `switchboard` binary against a temp
//! home and real git repositories.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub mod cluster;
pub mod fake_api;
pub mod hosts;
pub mod real_agents;
pub mod remote;
pub mod terminal;
pub mod wait;

#[allow(unused_imports)] // each test binary uses some of them
pub use wait::{wait_secs, wait_until};

use switchboard::journal::Journal;

pub mod engine;

pub const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A temp home (and room for repositories) that disappears after the test.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

/// What one run of the binary did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Runs `cmd` to the end.
    pub fn of(cmd: &mut Command) -> Run {
        Run::from(cmd.output().expect("run the command"))
    }

    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts failure with `code` and returns stderr.
    #[track_caller]
    pub fn fails(&self, code: i32) -> &str {
        assert_eq!(
            self.code, code,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        &self.stderr
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.stdout))
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// The binary with this sandbox's home, no colour and a clean env.
    pub fn cmd(&self, args: &[&str]) -> Command {
        command(&self.home(), args)
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd(args).output().expect("run switchboard"))
    }

    /// Runs with `input` on stdin.
    pub fn run_with_input(&self, args: &[&str], input: &[u8]) -> Run {
        use std::io::Write;
        let mut child = self
            .cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn switchboard");
        let mut stdin = child.stdin.take().expect("stdin");
        let input = input.to_vec();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let output = child.wait_with_output().expect("wait");
        writer.join().expect("writer");
        Run::from(output)
    }

    /// A git repository with one commit on `main`.
    pub fn repo(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::create_dir_all(&path).expect("mkdir");
        git(&path, &["init", "-q", "-b", "main"]);
        std::fs::write(path.join("README.md"), format!("# {name}\n")).expect("write");
        git(&path, &["add", "."]);
        git(&path, &["commit", "-q", "-m", "first"]);
        path
    }

    /// A repository registered as project `name`.
    pub fn project(&self, name: &str) -> PathBuf {
        let path = self.repo(name);
        self.run(&["project", "add", name, path.to_str().unwrap()])
            .ok();
        path
    }

    /// Registers `repo` as project `name`, run by `agent`, with `more`
    /// options after (`--max-agents`, `2`).
    pub fn add_project(&self, name: &str, repo: &Path, agent: &str, more: &[&str]) {
        let mut args = vec![
            "project",
            "add",
            name,
            repo.to_str().expect("utf-8 path"),
            "--agent",
            agent,
        ];
        args.extend_from_slice(more);
        self.run(&args).ok();
    }

    pub fn journal(&self) -> Journal {
        Journal::open(&self.home().join("journal.db")).expect("journal")
    }

    /// Runs SQL against the journal directly (for rows that later engines
    /// write: chains, review items).
    pub fn sql(&self, sql: &str) {
        let conn = rusqlite::Connection::open(self.home().join("journal.db")).expect("db");
        conn.execute_batch(sql).expect("sql");
    }
}

/// The binary with `home`, no colour and a clean env.
pub fn command(home: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--home").arg(home).args(args);
    cmd.env_remove("SWITCHBOARD_HOME")
        .env_remove("CLICOLOR_FORCE")
        .env("NO_COLOR", "1");
    cmd.stdin(Stdio::null());
    cmd
}

pub fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .status()
        .expect("git");
    assert!(status.success(), "git {args:?}");
}

/// A git command's stdout (empty when it fails).
pub fn git_output(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("git");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
