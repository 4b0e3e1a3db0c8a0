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
//! effect at the next start.
//!
//! A change is read only once the file has settled: an editor that saves
//! in place empties the file and then writes it, and one that keeps a
//! backup moves the file away before writing the new one. Read in that
//! instant, the file is empty or missing, which loads as the built-in
//! settings (profiles gone, limits back to their defaults). A file last
//! written [`SETTLE`] ago or more is read at once; a newer one is read
//! when a later look finds it unchanged [`SETTLE`] after the first.
//! The control room keeps a watch of its own
//! on the same file (its keys, notifications, form and status bar follow
//! it), so the room's sections are not named.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::config::{Config, ConfigError, Stamp, stamp};

/// The most notes kept while the journal cannot take them (the oldest go
/// first): a file edited again and again while the journal is full.
const NOTES_KEPT: usize = 16;

/// How long a changed file must stay as it is before it is read.
pub const SETTLE: Duration = Duration::from_millis(250);

/// The longest a file that keeps changing is left unread.
const SETTLE_AT_MOST: Duration = Duration::from_secs(2);

/// A change seen and not read yet.
#[derive(Debug, Clone, Copy)]
struct Settling {
    /// The file's stamp when last looked at.
    stamp: Option<Stamp>,
    /// Since when it has had that stamp.
    since: SystemTime,
    /// Since when the file has been changing.
    first: SystemTime,
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

/// The watched file, what it said when last read, and what is still to
/// be said of it.
pub struct ConfigWatch {
    path: PathBuf,
    stamp: Option<Stamp>,
    table: toml::Table,
    /// A change seen but not read yet.
    settling: Option<Settling>,
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
            settling: None,
            unsaid: VecDeque::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a change waits to settle: look again within [`SETTLE`].
    pub fn settling(&self) -> bool {
        self.settling.is_some()
    }

    /// Looks at the file; reads it again (once) only when its stamp
    /// changed and has settled.
    pub fn look(&mut self) -> Reload {
        self.look_at(SystemTime::now())
    }

    /// [`look`](Self::look) at the time `at`.
    fn look_at(&mut self, at: SystemTime) -> Reload {
        let now = stamp(&self.path);
        if now == self.stamp {
            self.settling = None;
            return Reload::Unchanged;
        }
        let waited =
            |since: SystemTime, long: Duration| at.duration_since(since).is_ok_and(|d| d >= long);
        let settled = match self.settling {
            Some(s) if s.stamp == now => waited(s.since, SETTLE),
            // A file that keeps changing is read all the same.
            Some(s) if waited(s.first, SETTLE_AT_MOST) => true,
            // A change not seen before: settled when written long enough
            // ago (a missing file has no time, and waits).
            _ => now.and_then(|s| s.age(at)).is_some_and(|age| age >= SETTLE),
        };
        if !settled {
            self.settling = Some(match self.settling {
                Some(s) if s.stamp == now => s,
                Some(s) => Settling {
                    stamp: now,
                    since: at,
                    first: s.first,
                },
                None => Settling {
                    stamp: now,
                    since: at,
                    first: at,
                },
            });
            return Reload::Unchanged;
        }
        self.settling = None;
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

    /// A look made once any change has settled.
    fn later(watch: &mut ConfigWatch) -> Reload {
        watch.look_at(SystemTime::now() + SETTLE)
    }

    fn max_agents(reload: Reload) -> u32 {
        match reload {
            Reload::Applied { config, .. } => config.scheduler.max_agents,
            other => panic!("{other:?}"),
        }
    }

    /// An editor that saves in place empties the file, then writes it: a
    /// look in between does not take the empty file (the built-in
    /// settings) but waits, and reads the file once it has settled.
    #[test]
    fn a_file_being_saved_in_place_is_read_once_it_has_settled() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[scheduler]\nmax_agents = 7\n").expect("write");
        let mut watch = ConfigWatch::new(&path, &Config::load(&path).expect("config"));
        let t0 = SystemTime::now();
        std::fs::write(&path, "").expect("truncate");
        assert!(matches!(watch.look_at(t0), Reload::Unchanged));
        assert!(watch.settling(), "the engine looks again within SETTLE");
        std::fs::write(&path, "[scheduler]\nmax_agents = 9\n").expect("write");
        // Changed again since: its own wait starts.
        assert!(matches!(watch.look_at(t0 + SETTLE / 2), Reload::Unchanged));
        assert!(matches!(watch.look_at(t0 + SETTLE), Reload::Unchanged));
        assert_eq!(max_agents(watch.look_at(t0 + SETTLE * 3)), 9);
        assert!(!watch.settling());
        assert!(matches!(later(&mut watch), Reload::Unchanged));
    }

    /// A file rewritten at every look is read all the same, once it has
    /// been changing for [`SETTLE_AT_MOST`].
    #[test]
    fn a_file_that_keeps_changing_is_read_after_a_while() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("config.toml");
        let mut watch = ConfigWatch::new(&path, &Config::load(&path).expect("config"));
        let t0 = SystemTime::now();
        let mut at = t0;
        let mut n = 2;
        loop {
            std::fs::write(&path, format!("[scheduler]\nmax_agents = {n}\n")).expect("write");
            match watch.look_at(at) {
                Reload::Unchanged => assert!(at < t0 + SETTLE_AT_MOST, "never read"),
                other => {
                    assert_eq!(max_agents(other), n);
                    break;
                }
            }
            n += 1;
            at += SETTLE / 2;
        }
    }

    /// An editor that keeps a backup moves the file away, then writes a
    /// new one: the moment with no file is not read as the built-in
    /// settings. A file that stays away is, once it has settled.
    #[test]
    fn a_file_moved_away_for_a_moment_is_not_read_as_missing() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("config.toml");
        std::fs::write(&path, "[scheduler]\nmax_agents = 7\n").expect("write");
        let mut watch = ConfigWatch::new(&path, &Config::load(&path).expect("config"));
        let backup = dir.path().join("config.toml~");
        std::fs::rename(&path, &backup).expect("move away");
        let t0 = SystemTime::now() + SETTLE * 2;
        assert!(matches!(watch.look_at(t0), Reload::Unchanged));
        std::fs::write(&path, "[scheduler]\nmax_agents = 8\n").expect("write");
        assert_eq!(max_agents(watch.look_at(t0 + SETTLE)), 8);
        std::fs::remove_file(&path).expect("remove");
        let t1 = t0 + SETTLE * 4;
        assert!(matches!(watch.look_at(t1), Reload::Unchanged));
        assert!(matches!(watch.look_at(t1 + SETTLE / 2), Reload::Unchanged));
        let builtin = Config::builtin().expect("built-in").scheduler.max_agents;
        assert_eq!(max_agents(watch.look_at(t1 + SETTLE)), builtin);
    }

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
        assert!(matches!(later(&mut watch), Reload::Unchanged));
        std::fs::write(&path, "[scheduler]\nmax_agents = 5\n").expect("write");
        match later(&mut watch) {
            Reload::Applied {
                config,
                at_next_start,
            } => {
                assert_eq!(config.scheduler.max_agents, 5);
                assert!(at_next_start.is_empty());
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(later(&mut watch), Reload::Unchanged));
        std::fs::write(&path, "[scheduler]\nmax_agents = \"many\"\n").expect("write");
        match later(&mut watch) {
            Reload::Refused(why) => assert!(why.to_string().contains("line 2"), "{why}"),
            other => panic!("{other:?}"),
        }
        // Refused once, not again each pass.
        assert!(matches!(later(&mut watch), Reload::Unchanged));
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
        match later(&mut watch) {
            Reload::Applied {
                config,
                at_next_start,
            } => {
                assert_eq!(config.scheduler.max_agents, 12);
                assert_eq!(at_next_start, ["[intake]"], "against what was read");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(later(&mut watch), Reload::Unchanged));
        // A config made otherwise is watched from the file as it is.
        let made = Config::builtin().expect("built-in");
        let mut made_watch = ConfigWatch::new(&path, &made);
        assert!(matches!(later(&mut made_watch), Reload::Unchanged));
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
            let _ = tell.send(later(&mut watch));
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
