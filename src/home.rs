//! The home: the one directory that holds a switchboard's journal, config,
//! inbox, worktrees, logs and private tmux socket.
//!
//! ```text
//! <home>/config.toml      the operator's settings (optional)
//! <home>/journal.db       the journal (SQLite, WAL)
//! <home>/inbox/           drop message files here
//! <home>/inbox/rejected/  messages that could not be read, with the reason
//! <home>/worktrees/       one git worktree per attempt
//! <home>/logs/            switchboard.log
//! <home>/tmux/            the private tmux server's socket (0700)
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A switchboard home directory.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// The home to use: the one given (`--home` or `SWITCHBOARD_HOME`), else
    /// the platform's data directory.
    pub fn resolve(given: Option<PathBuf>) -> io::Result<Home> {
        let from_env = std::env::var_os("SWITCHBOARD_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        let root = match given.or(from_env) {
            Some(dir) => dir,
            None => dirs::data_dir()
                .map(|d| d.join("switchboard"))
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        "no data directory on this platform; pass --home DIR or set SWITCHBOARD_HOME",
                    )
                })?,
        };
        Ok(Home { root })
    }

    /// A home at exactly `root` (tests, benchmarks).
    pub fn at(root: impl Into<PathBuf>) -> Home {
        Home { root: root.into() }
    }

    /// Creates the home and its folders if they are missing, private to the
    /// user (0700).
    pub fn ensure(&self) -> io::Result<()> {
        if self.inbox_rejected().is_dir() && self.tmux_dir().is_dir() {
            return Ok(());
        }
        for dir in [
            self.root.clone(),
            self.inbox(),
            self.inbox_rejected(),
            self.worktrees(),
            self.logs(),
            self.tmux_dir(),
        ] {
            create_private_dir(&dir).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        Ok(())
    }

    /// Only the home and its logs directory: what logging needs, for
    /// commands that keep nothing else (simulate).
    pub fn ensure_logs(&self) -> io::Result<()> {
        for dir in [self.root.clone(), self.logs()] {
            create_private_dir(&dir).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        Ok(())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn config_file(&self) -> PathBuf {
        self.root.join("config.toml")
    }
    pub fn journal_file(&self) -> PathBuf {
        self.root.join("journal.db")
    }
    pub fn inbox(&self) -> PathBuf {
        self.root.join("inbox")
    }
    pub fn inbox_rejected(&self) -> PathBuf {
        self.root.join("inbox").join("rejected")
    }
    pub fn worktrees(&self) -> PathBuf {
        self.root.join("worktrees")
    }
    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }
    pub fn log_file(&self) -> PathBuf {
        self.logs().join("switchboard.log")
    }
    /// The directory of the private tmux server's socket.
    pub fn tmux_dir(&self) -> PathBuf {
        self.root.join("tmux")
    }
    /// The running engine's local socket, where `dispatch` hands it a task
    /// (see `engine::door`); there only while an engine runs.
    pub fn engine_socket(&self) -> PathBuf {
        self.root.join("engine.sock")
    }
    /// Written by the engine when a drain has finished.
    pub fn ready_file(&self) -> PathBuf {
        self.root.join("READY_FOR_SHUTDOWN")
    }
    /// A file that deploy scripts create to ask for a drain.
    pub fn drain_file(&self) -> PathBuf {
        self.root.join("DRAIN")
    }
    /// Written by the engine when the operator pauses the queue (no new
    /// agent starts, the engine keeps running); removed on resume. A file,
    /// as the drain's, so that the pause outlives an engine restart and
    /// every viewer sees it.
    pub fn paused_file(&self) -> PathBuf {
        self.root.join("PAUSED")
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        match fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
        {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let mode = fs::metadata(dir)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensure_makes_the_layout_private() {
        let tmp = tempfile::tempdir().unwrap();
        let home = Home::at(tmp.path().join("h"));
        home.ensure().unwrap();
        home.ensure().unwrap();
        for dir in [
            home.root().to_path_buf(),
            home.inbox_rejected(),
            home.worktrees(),
            home.logs(),
            home.tmux_dir(),
        ] {
            assert!(dir.is_dir(), "{}", dir.display());
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o700, "{}", dir.display());
            }
        }
    }

    #[test]
    fn an_explicit_home_wins() {
        let home = Home::resolve(Some(PathBuf::from("/x/y"))).unwrap();
        assert_eq!(home.journal_file(), PathBuf::from("/x/y/journal.db"));
    }
}
