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

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use crate::config::{Config, ConfigError, Stamp, stamp};

/// The most notes kept while the journal cannot take them (the oldest go
/// first): a file edited again and again while the journal is full.
const NOTES_KEPT: usize = 16;

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

/// The watched file, what it said when last read, and what is still to
/// be said of it.
pub struct ConfigWatch {
    path: PathBuf,
    stamp: Option<Stamp>,
    table: toml::Table,
    /// Notes not journaled yet (the journal failed): said before any new
    /// one, so that none is lost.
    unsaid: VecDeque<String>,
}

impl ConfigWatch {
    /// Watches `path` from where `config` (the engine's settings) was
    /// read: its stamp taken before that read, so an edit since is seen
    /// at the first look. A config not loaded from `path` is watched from
    /// the file as it is now.
    pub fn new(path: &Path, config: &Config) -> ConfigWatch {
        let from_path = |config: &Config| {
            config
                .origin
                .as_deref()
                .filter(|origin| origin.path == path)
                .map(|origin| (origin.stamp, origin.table.clone()))
        };
        let (stamp, table) = from_path(config)
            .or_else(|| Config::load(path).ok().as_ref().and_then(from_path))
            .unwrap_or_else(|| (stamp(path), toml::Table::new()));
        ConfigWatch {
            path: path.to_path_buf(),
            stamp,
            table,
            unsaid: VecDeque::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Looks at the file; reads it again (once) only when its stamp
    /// changed.
    pub fn look(&mut self) -> Reload {
        let now = stamp(&self.path);
        if now == self.stamp {
            return Reload::Unchanged;
        }
        match Config::load(&self.path) {
            Err(e) => {
                // Stamped before the read: a mended file differs again.
                self.stamp = now;
                Reload::Refused(e)
            }
            Ok(config) => {
                let (stamp, table) = match config.origin.as_deref() {
                    Some(origin) => (origin.stamp, origin.table.clone()),
                    None => (now, toml::Table::new()),
                };
                let at_next_start = at_next_start(&self.table, &table);
                self.stamp = stamp;
                self.table = table;
                Reload::Applied {
                    config: Box::new(config),
                    at_next_start,
                }
            }
        }
    }

    /// Keeps `note` to be journaled ([`ConfigWatch::unsaid`]).
    pub fn keep_note(&mut self, note: String) {
        if self.unsaid.len() == NOTES_KEPT {
            self.unsaid.pop_front();
        }
        self.unsaid.push_back(note);
    }

    /// The oldest note not journaled yet.
    pub fn unsaid(&self) -> Option<&str> {
        self.unsaid.front().map(String::as_str)
    }

    /// The oldest note was journaled.
    pub fn said(&mut self) {
        self.unsaid.pop_front();
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
        let mut watch = ConfigWatch::new(&path, &Config::load(&path).expect("config"));
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
    /// The engine's settings are read before its watch begins: an edit in
    /// between is seen at the first look (before, the watch stamped the
    /// file as it found it, and the edit waited for the next one).
    #[test]
    fn an_edit_between_the_engine_s_read_and_its_watch_is_seen() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[scheduler]\nmax_agents = 2\n").expect("write");
        let config = Config::load(&path).expect("config");
        std::fs::write(&path, "[scheduler]\nmax_agents = 12\n[intake]\n").expect("write");
        let mut watch = ConfigWatch::new(&path, &config);
        match watch.look() {
            Reload::Applied {
                config,
                at_next_start,
            } => {
                assert_eq!(config.scheduler.max_agents, 12);
                assert_eq!(at_next_start, ["[intake]"], "against what was read");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(watch.look(), Reload::Unchanged));
        // A config made otherwise is watched from the file as it is.
        let made = Config::builtin().expect("built-in");
        assert!(matches!(
            ConfigWatch::new(&path, &made).look(),
            Reload::Unchanged
        ));
    }

    /// A look reads the file once: its settings and the table that names
    /// what waits for a start come from the same text. The file is a
    /// FIFO written once, so a second read would wait for a writer that
    /// never comes (before, a look read it three times).
    #[test]
    fn a_look_reads_the_file_once() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[scheduler]\nmax_agents = 2\n").expect("write");
        let mut watch = ConfigWatch::new(&path, &Config::load(&path).expect("config"));
        std::fs::remove_file(&path).expect("remove");
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a NUL-terminated path that lives for the call.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0, "mkfifo");
        let writer = std::thread::spawn({
            let path = path.clone();
            move || {
                let mut fifo = std::fs::File::options()
                    .write(true)
                    .open(&path)
                    .expect("open");
                std::io::Write::write_all(&mut fifo, b"[scheduler]\nmax_agents = 5\n[intake]\n")
                    .expect("write");
            }
        });
        let (tell, told) = std::sync::mpsc::channel();
        let looker = std::thread::spawn(move || {
            let _ = tell.send(watch.look());
        });
        let looked = told.recv_timeout(std::time::Duration::from_secs(20));
        if looked.is_err() {
            // Let the second read end, then fail.
            let _ = std::fs::File::options().write(true).open(&path);
        }
        writer.join().expect("writer");
        looker.join().expect("looker");
        match looked.expect("the look read the file a second time") {
            Reload::Applied {
                config,
                at_next_start,
            } => {
                assert_eq!(config.scheduler.max_agents, 5);
                assert_eq!(at_next_start, ["[intake]"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn notes_not_journaled_are_kept_in_order_up_to_a_limit() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("config.toml");
        let mut watch = ConfigWatch::new(&path, &Config::load(&path).expect("config"));
        assert_eq!(watch.unsaid(), None);
        for n in 0..NOTES_KEPT + 2 {
            watch.keep_note(format!("note {n}"));
        }
        assert_eq!(watch.unsaid(), Some("note 2"), "the oldest go first");
        watch.said();
        assert_eq!(watch.unsaid(), Some("note 3"));
    }
}
