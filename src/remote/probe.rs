//! What is installed on a host: the answer of
//! [`super::commands::find_programs`], read, and what a missing program
//! means for the host, said with how to install it. Pure.

use crate::runtime::{INSTALL_TMUX, tmux_too_old};
use crate::workspace::INSTALL_GIT;

/// The programs a host is looked at for when it is added: tmux and git
/// (agents cannot start without them), and `switchboard` (its agents'
/// hooks report through it).
pub const NEEDED: [&str; 3] = ["tmux", "git", "switchboard"];

/// The line of [`super::commands::find_programs`] that carries what the
/// host's `tmux -V` said.
const TMUX_VERSION: &str = "tmux -V";

/// The programs looked for on a host, and where each was found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    programs: Vec<(String, Option<String>)>,
    /// What the host's `tmux -V` said, when tmux is there.
    tmux_version: Option<String>,
}

impl Found {
    /// Reads `NAME<TAB>PATH` lines (PATH empty: not found) and the
    /// `tmux -V<TAB>VERSION` line.
    pub fn parse(stdout: &str) -> Found {
        let mut found = Found::default();
        for line in stdout.lines() {
            let Some((name, value)) = line.split_once('\t') else {
                continue;
            };
            let value = value.trim();
            if name == TMUX_VERSION {
                found.tmux_version = Some(value.to_string());
                continue;
            }
            found.programs.push((
                name.to_string(),
                (!value.is_empty()).then(|| value.to_string()),
            ));
        }
        found
    }

    /// What the host's `tmux -V` said (`tmux 3.3a`), if tmux is there.
    pub fn tmux_version(&self) -> Option<&str> {
        self.tmux_version.as_deref()
    }

    /// Where `program` is on the host, if it was found.
    pub fn path(&self, program: &str) -> Option<&str> {
        self.programs
            .iter()
            .find(|(name, _)| name == program)
            .and_then(|(_, path)| path.as_deref())
    }

    pub fn has(&self, program: &str) -> bool {
        self.path(program).is_some()
    }
}

/// One line a program of [`NEEDED`] missing on host `host`: what it
/// stops, and how to install it there. Empty when all are there.
pub fn missing(found: &Found, host: &str) -> Vec<String> {
    let mut said = Vec::new();
    if !found.has("tmux") {
        said.push(format!(
            "tmux is not on the PATH of host {host}: no agent can start there until it is; {INSTALL_TMUX} (on the host)"
        ));
    } else if let Some(why) = found
        .tmux_version()
        .and_then(|v| tmux_too_old(v, &format!(" on host {host}")))
    {
        said.push(format!("{why} (on the host)"));
    }
    if !found.has("git") {
        said.push(format!(
            "git is not on the PATH of host {host}: no worktree can be made there until it is; {INSTALL_GIT} (on the host)"
        ));
    }
    if !found.has("switchboard") {
        said.push(format!(
            "switchboard is not on the PATH of host {host}: its agents' hooks cannot report (`switchboard report`), and agents that run {{switchboard}} (the demo agent) cannot start; copy the binary there, e.g. `scp target/release/switchboard {host}:.local/bin/` (README: Hosts, Installing on a host)"
        ));
    }
    said
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_missing_program_is_named_with_its_install() {
        let all =
            Found::parse("tmux\t/usr/bin/tmux\ngit\t/usr/bin/git\nswitchboard\t/b/switchboard\n");
        assert!(missing(&all, "build1").is_empty());
        let none = Found::parse("tmux\t\ngit\t\nswitchboard\t\n");
        let said = missing(&none, "build1");
        assert_eq!(said.len(), 3, "{said:?}");
        assert!(
            said[0].starts_with("tmux is not on the PATH of host build1")
                && said[0].contains("apt-get install tmux")
        );
        assert!(said[1].starts_with("git is not on") && said[1].contains("apt-get install git"));
        assert!(said[2].contains("hooks cannot report") && said[2].contains("scp"));
    }

    #[test]
    fn a_tmux_too_old_on_the_host_is_named_and_a_new_one_is_not() {
        let old = Found::parse(
            "tmux\t/usr/bin/tmux\ngit\t/usr/bin/git\nswitchboard\t/b/sb\ntmux -V\ttmux 3.1c\n",
        );
        assert_eq!(old.tmux_version(), Some("tmux 3.1c"));
        assert!(!old.has("tmux -V"), "the version line is no program");
        let said = missing(&old, "build1");
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].starts_with("tmux 3.1c on host build1 is older than 3.2")
                && said[0].contains("apt-get install tmux"),
            "{said:?}"
        );
        let new = Found::parse(
            "tmux\t/usr/bin/tmux\ngit\t/usr/bin/git\nswitchboard\t/b/sb\ntmux -V\ttmux 3.3a\n",
        );
        assert!(missing(&new, "build1").is_empty());
    }

    #[test]
    fn found_and_missing_programs_are_told_apart() {
        let found =
            Found::parse("tmux\t/usr/bin/tmux\ngit\t\nswitchboard\t/home/o/bin/switchboard\n");
        assert_eq!(found.path("tmux"), Some("/usr/bin/tmux"));
        assert!(!found.has("git"));
        assert!(found.has("switchboard"));
        assert!(!found.has("gh"), "not asked is not found");
        assert_eq!(Found::parse(""), Found::default());
    }
}
