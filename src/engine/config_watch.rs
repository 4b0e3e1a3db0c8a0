//! The operator's `config.toml`, read again when it changes.
//!
//! Every command reads the file anew, so without this an engine started
//! before an edit would refuse what the command line had just accepted
//! (a job dispatched to a profile added since fails with "no agent
//! profile"). The engine looks at the file's stamp each pass (one
//! `stat`); a changed file is loaded whole, and applies from that pass
//! on; a file that does not load is refused with its line, and the
//! engine keeps the settings it had. What is set up once at start (the
//! tmux server's scrollback, the network intake) is named as taking
//! effect at the next start. The control room keeps a watch of its own
//! on the same file (its keys, notifications, form and status bar follow
//! it), so the room's sections are not named.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::config::{Config, ConfigError};

/// What the file looked like: a changed mtime, length or inode (an
/// editor that writes a new file and renames it) is a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

/// The stamp of `path` now; `None` when there is no file (or no look).
pub(super) fn stamp(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some(Stamp {
        modified: meta.modified().ok(),
        len: meta.len(),
        inode: meta.ino(),
    })
}

/// The result of a look at the file.
#[derive(Debug)]
pub enum Reload {
    Unchanged,
    /// The file changed and loads: these settings apply now, except the
    /// sections named, which take effect when the engine starts again.
    Applied {
        config: Box<Config>,
        at_next_start: Vec<&'static str>,
    },
    /// The file changed and does not load: why (file, line, key).
    Refused(ConfigError),
}

/// The watched file and what it said when last read.
pub struct ConfigWatch {
    path: PathBuf,
    stamp: Option<Stamp>,
    table: toml::Table,
}

impl ConfigWatch {
    /// Watches `path` from what it is now (the engine's settings were
    /// read from it just before).
    pub fn new(path: &Path) -> ConfigWatch {
        ConfigWatch {
            path: path.to_path_buf(),
            stamp: stamp(path),
            table: Config::user_table(path).unwrap_or_default(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Looks at the file; reads it again only when its stamp changed.
    pub fn look(&mut self) -> Reload {
        let now = stamp(&self.path);
        if now == self.stamp {
            return Reload::Unchanged;
        }
        self.stamp = now;
        match Config::load(&self.path) {
            Err(e) => Reload::Refused(e),
            Ok(config) => {
                let table = Config::user_table(&self.path).unwrap_or_default();
                let at_next_start = at_next_start(&self.table, &table);
                self.table = table;
                Reload::Applied {
                    config: Box::new(config),
                    at_next_start,
                }
            }
        }
    }
}

/// The settings, as the operator wrote them, that an engine takes only
/// when it starts.
const SET_AT_START: [(&str, Option<&str>); 2] = [("tmux", Some("history_limit")), ("intake", None)];

/// Which of [`SET_AT_START`] differ between the operator's old and new
/// file, named as in the file (`[intake]`, `tmux.history_limit`).
pub fn at_next_start(old: &toml::Table, new: &toml::Table) -> Vec<&'static str> {
    SET_AT_START
        .iter()
        .filter(|(table, key)| {
            let pick = |t: &toml::Table| {
                let section = t.get(*table);
                match key {
                    None => section.cloned(),
                    Some(k) => section.and_then(|s| s.get(*k)).cloned(),
                }
            };
            pick(old) != pick(new)
        })
        .map(|(table, key)| match (*table, key) {
            ("tmux", Some(_)) => "tmux.history_limit",
            _ => "[intake]",
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> toml::Table {
        text.parse().expect("toml")
    }

    #[test]
    fn only_what_is_set_at_start_is_named() {
        let old = table("[scheduler]\nmax_agents = 2\n[tmux]\ndelay_enter = \"1s\"\n");
        let same = table("[scheduler]\nmax_agents = 9\n[tmux]\ndelay_enter = \"2s\"\n");
        assert!(at_next_start(&old, &same).is_empty());
        let more = table(
            "[tmux]\nhistory_limit = 5\n[intake.http]\nlisten = \"127.0.0.1:1\"\n[keys]\nquit = \"x\"\n",
        );
        // The room follows its own sections: they are not the engine's.
        assert_eq!(
            at_next_start(&old, &more),
            vec!["tmux.history_limit", "[intake]"]
        );
        assert_eq!(
            at_next_start(&more, &old),
            vec!["tmux.history_limit", "[intake]"]
        );
    }

    #[test]
    fn a_change_is_read_once_and_a_bad_file_is_refused_with_its_line() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("config.toml");
        let mut watch = ConfigWatch::new(&path);
        assert!(matches!(watch.look(), Reload::Unchanged));
        std::fs::write(&path, "[scheduler]\nmax_agents = 5\n").expect("write");
        match watch.look() {
            Reload::Applied {
                config,
                at_next_start,
            } => {
                assert_eq!(config.scheduler.max_agents, 5);
                assert!(at_next_start.is_empty());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(watch.look(), Reload::Unchanged));
        std::fs::write(&path, "[scheduler]\nmax_agents = \"many\"\n").expect("write");
        match watch.look() {
            Reload::Refused(why) => assert!(why.to_string().contains("line 2"), "{why}"),
            other => panic!("{other:?}"),
        }
        // Refused once, not again each pass.
        assert!(matches!(watch.look(), Reload::Unchanged));
    }
}
