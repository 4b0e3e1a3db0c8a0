//! What is installed on a host: the answer of
//! [`super::commands::find_programs`], read. Pure.

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

#[cfg(test)]
mod tests {
    use super::*;

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
