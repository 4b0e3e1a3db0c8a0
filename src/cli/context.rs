//! What every subcommand needs: the home, opened on demand.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::config::Config;
use crate::home::Home;
use crate::journal::Journal;

pub struct Context {
    pub home: Home,
}

impl Context {
    pub fn new(home: Option<PathBuf>) -> anyhow::Result<Context> {
        let home = Home::resolve(home)?;
        home.ensure()?;
        Ok(Context { home })
    }

    /// The home without its working directories (inbox, worktrees, tmux):
    /// for commands that only read the config, such as simulate.
    pub fn reading(home: Option<PathBuf>) -> anyhow::Result<Context> {
        Ok(Context {
            home: Home::resolve(home)?,
        })
    }

    /// The journal, migrated to this version's schema.
    pub fn journal(&self) -> anyhow::Result<Journal> {
        let path = self.home.journal_file();
        Journal::open(&path).with_context(|| format!("cannot open the journal {}", path.display()))
    }

    /// The built-in config with the home's config.toml over it.
    pub fn config(&self) -> anyhow::Result<Config> {
        Ok(Config::load(&self.home.config_file())?)
    }
}
