//! Helpers the benchmarks share.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../../tests/common/terminal.rs"]
mod terminal;
// The terminal's waits.
#[path = "../../tests/common/wait.rs"]
mod wait;
use wait::wait_until;

#[allow(unused_imports)]
pub use terminal::{Terminal, cpu_seconds, cpu_share};

/// A git repository `name` under `dir` with one empty commit on main.
pub fn empty_repository(dir: &Path, name: &str) -> PathBuf {
    let repo = dir.join(name);
    std::fs::create_dir_all(&repo).unwrap();
    for args in [
        &["init", "-q", "-b", "main"][..],
        &[
            "-c",
            "user.name=b",
            "-c",
            "user.email=b@b",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "init",
        ],
    ] {
        let status = Command::new("git")
            .args(args)
            .current_dir(&repo)
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }
    repo
}
