//! What is installed on a host: the answer of
//! [`super::commands::find_programs`], read, and what a missing program
//! means for the host, said with how to install it. Pure.

use crate::runtime::INSTALL_TMUX;
use crate::workspace::INSTALL_GIT;

/// The programs a host is looked at for when it is added: tmux and git
/// (agents cannot start without them), and `switchboard` (its agents'
/// hooks report through it).
pub const NEEDED: [&str; 3] = ["tmux", "git", "switchboard"];

/// The programs looked for on a host, and where each was found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    programs: Vec<(String, Option<String>)>,
}

impl Found {
    /// Reads `NAME<TAB>PATH` lines (PATH empty: not found).
    pub fn parse(stdout: &str) -> Found {
        let programs = stdout
            .lines()
            .filter_map(|line| {
                let (name, path) = line.split_once('\t')?;
                let path = path.trim();
                Some((
                    name.to_string(),
                    (!path.is_empty()).then(|| path.to_string()),
                ))
            })
            .collect();
        Found { programs }
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
