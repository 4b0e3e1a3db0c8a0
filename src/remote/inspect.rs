//! `project add --host`: the repository is looked at on its host, over
//! the host's master connection (the root of its work tree, its branch).
//! A host that cannot be reached at that moment leaves the project
//! registered as given (absolute path, `--base` named), said so.

use std::path::Path;

use crate::cli::remote_repository::{InspectRemote, RemoteRepository, absolute_on};
use crate::home::Home;
use crate::model::Host;
use crate::workspace::{Git, Place};

use super::Ssh;

/// Asks the host itself.
pub struct OverSsh {
    pub home: Home,
}

impl InspectRemote for OverSsh {
    fn inspect(
        &self,
        host: &Host,
        path: &Path,
        base: Option<&str>,
    ) -> Result<RemoteRepository, String> {
        absolute_on(host, path)?;
        let ssh = Ssh::for_host(&self.home, host).map_err(|e| e.to_string())?;
        // A host that cannot be reached now (down, not yet in DNS): the
        // project is registered as given, and `project add` says it was
        // not checked. A refused key or login is an error.
        match ssh.run(&super::commands::home_dir()) {
            Err(e) if e.is_unreachable() => {
                tracing::warn!("project add: {e}; registered unchecked");
                return crate::cli::remote_repository::Unchecked.inspect(host, path, base);
            }
            Err(e) => return Err(e.to_string()),
            Ok(_) => {}
        }
        let place = Place::Host(std::sync::Arc::new(ssh));
        let git = Git::on(&place, path);
        let root = git
            .run(&["rev-parse", "--show-toplevel"])
            .map_err(|e| match e {
                crate::workspace::GitError::Host(reason) => reason,
                other => format!(
                    "{} on host {} is not a git repository (git says: {other})",
                    path.display(),
                    host.name
                ),
            })?;
        let root = std::path::PathBuf::from(root);
        let git = Git::on(&place, &root);
        let base_branch = match base {
            Some(b) if git.has_branch(b) => b.to_string(),
            Some(b) => {
                return Err(format!(
                    "{} on host {} has no branch {b}",
                    root.display(),
                    host.name
                ));
            }
            None => git
                .run(&["symbolic-ref", "--quiet", "--short", "HEAD"])
                .map_err(|_| {
                    format!(
                        "{} on host {} has no branch checked out; pass --base BRANCH",
                        root.display(),
                        host.name
                    )
                })?,
        };
        Ok(RemoteRepository {
            root,
            base_branch,
            checked: true,
        })
    }
}
