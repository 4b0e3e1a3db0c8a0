//! Hosts other than the engine's own machine, reached over SSH: the
//! transport ([`ssh`]), the one quoting function ([`quote`]) and every
//! command run on a host ([`commands`]).

pub mod commands;
pub mod inspect;
pub mod probe;
pub mod quote;
pub mod report;
pub mod ssh;

pub use commands::RemoteCommand;
pub use ssh::{KeyPolicy, RemoteOutput, Ssh, SshError};

/// Makes `dir` (and its parents) private to the user: 0700.
pub(crate) fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
