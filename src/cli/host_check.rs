//! `host add` contacts the host at once, as `project add --host` does: a
//! fresh ssh login (BatchMode, the home's pinned keys; an unknown key is
//! taken and pinned only with `--accept-new-key`), which looks for tmux,
//! git and switchboard on the login's PATH in one round trip. A key
//! refused (unknown, changed) or a login refused is an error and nothing
//! is registered; a host that cannot be reached now is registered with a
//! warning, and its state shows it.

use crate::home::Home;
use crate::model::Host;
use crate::remote::probe::{Found, NEEDED, missing};
use crate::remote::{Ssh, SshError, commands};

/// What the contact found.
pub(super) enum Contact {
    /// Logged in: where each needed program is.
    Reached(Found),
    /// Not reachable now (down, no route, not in DNS): ssh's error.
    Unreachable(SshError),
}

impl Contact {
    /// The lines `host add` prints after its own, warnings marked.
    pub fn lines(&self, host: &Host) -> Vec<Line> {
        match self {
            Contact::Reached(found) => {
                let mut lines = vec![Line::Said(format!(
                    "Reached it over ssh: {}.",
                    NEEDED
                        .iter()
                        .map(|p| match found.path(p) {
                            Some(path) => format!("{p} at {path}"),
                            None => format!("no {p}"),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                ))];
                lines.extend(
                    missing(found, host.name.as_str())
                        .into_iter()
                        .map(Line::Warning),
                );
                lines
            }
            Contact::Unreachable(e) => vec![Line::Warning(format!(
                "host {} cannot be reached now ({e}): registered unchecked; `host list` shows it unreachable, and the engine tries it again when it runs (tmux, git and switchboard are looked for at the next `host add` of it, or see README: Installing on a host)",
                host.name
            ))],
        }
    }
}

/// A line for the operator.
pub(super) enum Line {
    Said(String),
    Warning(String),
}

/// Contacts `host` as the engine of `home` would (a master connection of
/// an earlier contact is closed first, so the host key is checked now).
pub(super) fn contact(home: &Home, host: &Host) -> anyhow::Result<Contact> {
    let ssh = Ssh::for_host(home, host)?;
    ssh.close_master();
    match ssh.run(&commands::find_programs(&NEEDED)) {
        Ok(out) => Ok(Contact::Reached(Found::parse(&String::from_utf8_lossy(
            &out.stdout,
        )))),
        Err(e) if e.is_unreachable() => Ok(Contact::Unreachable(e)),
        Err(e) => anyhow::bail!("{e}; host {} was not registered", host.name),
    }
}
