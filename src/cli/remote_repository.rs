//! The seam where `project add --host` looks at the repository on its
//! host. The SSH transport implements [`InspectRemote`] (repository root
//! and checked-out branch, `--base` exists, found over the host's master
//! connection); [`inspector`] is the one place that picks the
//! implementation.
//!
//! Until the transport is wired in, [`Unchecked`] registers the path as
//! given: it must be absolute and `--base` must name the branch, since
//! neither can be asked of the host. `project add` says so.

use std::path::{Path, PathBuf};

use crate::home::Home;
use crate::model::Host;

/// A repository on a remote host, as found there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRepository {
    /// The root of its work tree (the path, resolved on the host).
    pub root: PathBuf,
    /// `--base` if it exists there, else the branch checked out.
    pub base_branch: String,
    /// Whether the host was actually asked (false: taken on trust).
    pub checked: bool,
}

/// Looks at a repository on a remote host.
pub trait InspectRemote {
    /// The repository containing `path` on `host`; `base` must be one of
    /// its branches when given. The error says what the operator can fix.
    fn inspect(
        &self,
        host: &Host,
        path: &Path,
        base: Option<&str>,
    ) -> Result<RemoteRepository, String>;
}

/// Refuses a relative `path` for a repository on `host`: there is no
/// working directory there to read it against.
pub fn absolute_on(host: &Host, path: &Path) -> Result<(), String> {
    if path.is_absolute() {
        Ok(())
    } else {
        Err(format!(
            "{} is not an absolute path; a path on host {} must start with '/'",
            path.display(),
            host.name
        ))
    }
}

/// Takes the path and base on trust (no SSH transport yet).
pub struct Unchecked;

impl InspectRemote for Unchecked {
    fn inspect(
        &self,
        host: &Host,
        path: &Path,
        base: Option<&str>,
    ) -> Result<RemoteRepository, String> {
        absolute_on(host, path)?;
        let Some(base) = base else {
            return Err(format!(
                "name the base branch with --base: the repository on host {} cannot be asked yet",
                host.name
            ));
        };
        Ok(RemoteRepository {
            root: path.to_path_buf(),
            base_branch: base.to_string(),
            checked: false,
        })
    }
}

/// The implementation `project add --host` uses: the host is asked over
/// SSH ([`crate::remote::inspect::OverSsh`]).
pub fn inspector(home: &Home) -> Box<dyn InspectRemote> {
    Box::new(crate::remote::inspect::OverSsh { home: home.clone() })
}
