//! The operator's settings: the embedded default (`assets/config.toml`)
//! with `<home>/config.toml` laid over it.

mod duration;
mod host;
mod intake;
mod keys;
mod locate;
mod origin;
mod profile;
mod project;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use host::HostSettings;
pub use intake::{HttpIntake, IntakeConfig, JiraIntake, SnsIntake, SqsIntake, parse_size};
pub use keys::{Desktop, KeyChord, KeyList, Keys, Notify, Room};
pub use origin::{Origin, Stamp, stamp};
pub use profile::{AgentProfile, Pattern, PromptDelivery};
pub use project::{Deliver, MergeStrategy, ProjectSettings};

use crate::model::JobKind;

/// The default configuration, commented, as shipped.
pub const DEFAULT_CONFIG: &str = include_str!("../../assets/config.toml");

/// Everything the operator can set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub scheduler: SchedulerConfig,
    pub tmux: TmuxConfig,
    pub priorities: Priorities,
    pub routing: Routing,
    pub agents: BTreeMap<String, AgentProfile>,
    pub keys: Keys,
    pub notify: Notify,
    pub room: Room,
    pub intake: IntakeConfig,
    /// `[projects.NAME]`: delivery, merge strategy, set-up and clean-up of
    /// registered projects; a project without a table gets the defaults.
    #[serde(default)]
    pub projects: BTreeMap<String, ProjectSettings>,
    /// `[hosts.NAME]`: remote hosts agents run on, beside those registered
    /// with `host add` (this file wins on a name in both).
    #[serde(default)]
    pub hosts: BTreeMap<String, HostSettings>,
    /// The file it was loaded from, as read ([`Config::load`]); `None` for
    /// a config made otherwise.
    #[serde(skip)]
    pub origin: Option<std::sync::Arc<Origin>>,
}

/// `[scheduler]`: limits, timings and retries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerConfig {
    pub max_agents: u32,
    #[serde(with = "duration")]
    pub chain_window: Duration,
    #[serde(with = "duration")]
    pub active_interval: Duration,
    #[serde(with = "duration")]
    pub idle_interval: Duration,
    #[serde(with = "duration")]
    pub stall_after: Duration,
    pub max_attempts: u32,
    #[serde(with = "duration")]
    pub retry_backoff: Duration,
    #[serde(with = "duration")]
    pub retry_backoff_max: Duration,
    #[serde(with = "duration")]
    pub job_timeout: Duration,
}

/// `[tmux]`: how agents' panes are kept and typed into.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TmuxConfig {
    pub history_limit: u32,
    #[serde(with = "duration")]
    pub delay_enter: Duration,
    pub enter_retries: u32,
}

/// `[priorities]`: the default priority of each kind of work.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Priorities {
    pub incident: i64,
    pub ticket: i64,
    pub task: i64,
}

impl Priorities {
    pub fn of(&self, kind: JobKind) -> i64 {
        match kind {
            JobKind::Incident => self.incident,
            JobKind::Ticket => self.ticket,
            JobKind::Task => self.task,
        }
    }
}

/// `[routing]`: which project and agent work goes to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routing {
    pub default_project: String,
    pub default_agent: String,
    pub accounts: BTreeMap<String, String>,
    pub jira: BTreeMap<String, String>,
}

/// A configuration that could not be used, with where the fault is.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}{}{}: {message}", path.display(), line.map(|l| format!(" line {l}")).unwrap_or_default(), key.as_ref().map(|k| format!(", key {k}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        key: Option<String>,
        message: String,
    },
}

impl ConfigError {
    /// Where the fault is, short enough for a status bar: the file's
    /// name, with its line and key when they are known.
    pub fn place(&self) -> String {
        let (path, line, key) = match self {
            ConfigError::Read { path, .. } => (path, None, None),
            ConfigError::Invalid {
                path, line, key, ..
            } => (path, *line, key.as_deref()),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        let line = line.map(|l| format!(" line {l}")).unwrap_or_default();
        let key = key.map(|k| format!(", key {k}")).unwrap_or_default();
        format!("{name}{line}{key}")
    }

    /// A fault of the file as a whole, without a line.
    fn about(path: &Path, e: impl std::fmt::Display) -> ConfigError {
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line: None,
            key: None,
            message: e.to_string(),
        }
    }
}

impl Config {
    /// The built-in configuration alone.
    pub fn builtin() -> Result<Config, ConfigError> {
        Self::from_texts(None, Path::new("<built-in config>"))
    }

    /// The built-in configuration with the file at `path` laid over it; a
    /// missing file is the same as an empty one. The file is read once,
    /// its stamp taken before ([`Config::origin`]).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let stamp = origin::stamp(path);
        let text = match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let (mut config, table) = Self::from_user_text(text.as_deref(), path)?;
        config.origin = Some(std::sync::Arc::new(Origin {
            path: path.to_path_buf(),
            stamp,
            table: table.unwrap_or_default(),
        }));
        Ok(config)
    }

    /// The operator's file at `path` as a table (empty if there is none),
    /// checked by loading it.
    pub fn user_table(path: &Path) -> Result<toml::Table, ConfigError> {
        let config = Self::load(path)?;
        Ok(config
            .origin
            .map(|origin| origin.table.clone())
            .unwrap_or_default())
    }

    /// The built-in configuration with `user` (the text of `path`) over it.
    pub fn from_texts(user: Option<&str>, path: &Path) -> Result<Config, ConfigError> {
        Self::from_user_text(user, path).map(|(config, _)| config)
    }

    /// [`Config::from_texts`], and the operator's table it read.
    fn from_user_text(
        user: Option<&str>,
        path: &Path,
    ) -> Result<(Config, Option<toml::Table>), ConfigError> {
        let invalid = |line, key, message| ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            key,
            message,
        };
        let mut merged: toml::Table = DEFAULT_CONFIG
            .parse()
            .map_err(|e: toml::de::Error| invalid(None, None, format!("built-in config: {e}")))?;
        let mut user_agents = None;
        let mut user_table = None;
        if let Some(text) = user {
            let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
                let line = e.span().map(|s| locate::line_of(text, s.start));
                invalid(line, None, e.message().trim().to_string())
            })?;
            user_agents = table.get("agents").and_then(|a| a.as_table()).cloned();
            user_table = Some(table.clone());
            overlay(&mut merged, table);
        }
        let config: Config =
            serde_path_to_error::deserialize(toml::Value::Table(merged)).map_err(|e| {
                let message = e.inner().message().trim().to_string();
                let mut key: Vec<String> = locate::segments(e.path());
                if let Some(field) = locate::unknown_field(&message)
                    && key.last() != Some(&field)
                {
                    key.push(field);
                }
                let line = user.and_then(|text| locate::line_of_key(text, &key));
                invalid(line, Some(key.join(".")).filter(|k| !k.is_empty()), message)
            })?;
        // The operator's patterns are checked here, with their line; the
        // built-in ones are checked by a test, not on every start (parsing
        // them all was a tenth of a dispatch's time).
        if let (Some(text), Some(agents)) = (user, &user_agents) {
            config.check_patterns(agents).map_err(|(key, message)| {
                let line = locate::line_of_key(text, &key);
                invalid(line, Some(key.join(".")), message)
            })?;
        }
        config.check().map_err(|(key, message)| {
            let line_of = |key: &str| {
                let segments: Vec<String> = key.split('.').map(str::to_string).collect();
                user.and_then(|text| locate::line_of_key(text, &segments))
            };
            // A key bound twice: the binding the user wrote (the later
            // line when both are theirs), not a built-in default.
            let key = match message.rsplit_once(" is also bound to ") {
                Some((_, earlier)) if key.starts_with("keys.") => {
                    let other = format!("keys.{earlier}");
                    if line_of(&other) > line_of(&key) {
                        other
                    } else {
                        key
                    }
                }
                _ => key,
            };
            invalid(line_of(&key), Some(key), message)
        })?;
        Ok((config, user_table))
    }

    /// The built-in configuration with a table laid over it (the
    /// simulator's `{"config": …}` lines).
    pub fn from_table(over: toml::Table) -> Result<Config, ConfigError> {
        let path = Path::new("<scenario config>");
        let mut merged: toml::Table = DEFAULT_CONFIG
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::about(path, e))?;
        overlay(&mut merged, over);
        let text = toml::to_string(&merged).map_err(|e| ConfigError::about(path, e))?;
        Self::from_texts(Some(&text), path)
    }

    /// Rules that types alone do not say; the error names the key.
    fn check(&self) -> Result<(), (String, String)> {
        if self.scheduler.max_agents == 0 {
            return Err(("scheduler.max_agents".into(), "must be at least 1".into()));
        }
        if self.scheduler.max_attempts == 0 {
            return Err(("scheduler.max_attempts".into(), "must be at least 1".into()));
        }
        let agent = &self.routing.default_agent;
        if agent != "auto" && !self.agents.contains_key(agent) {
            return Err((
                "routing.default_agent".into(),
                format!(
                    "no agent profile {agent:?}; known: auto, {}",
                    self.agent_names().join(", ")
                ),
            ));
        }
        if let Some((name, message)) = self.keys.conflict() {
            return Err((format!("keys.{name}"), message));
        }
        for (name, settings) in &self.projects {
            settings
                .check()
                .map_err(|message| (format!("projects.{name}"), message))?;
        }
        self.check_hosts()?;
        for (name, profile) in &self.agents {
            if profile.command.is_empty() || profile.command[0].trim().is_empty() {
                return Err((
                    format!("agents.{name}.command"),
                    "must name a program".into(),
                ));
            }
        }
        Ok(())
    }

    /// Checks the syntax of the patterns that `agents` (the operator's
    /// `[agents]` table) sets; the error names the key.
    fn check_patterns(&self, agents: &toml::Table) -> Result<(), (Vec<String>, String)> {
        for (name, profile) in &self.agents {
            let Some(set) = agents.get(name).and_then(|p| p.as_table()) else {
                continue;
            };
            for (key, pattern) in profile.patterns() {
                if set.contains_key(key) {
                    pattern.check().map_err(|message| {
                        (
                            vec!["agents".into(), name.clone(), key.to_string()],
                            message,
                        )
                    })?;
                }
            }
        }
        Ok(())
    }

    /// The settings of project `name` (the defaults when it has no table).
    pub fn project(&self, name: &str) -> ProjectSettings {
        self.projects.get(name).cloned().unwrap_or_default()
    }

    /// Compiles every pattern of every profile, as the monitor will; the
    /// error names the key. (Loading checks only their syntax.)
    pub fn compile_patterns(&self) -> Result<(), String> {
        for (name, profile) in &self.agents {
            for (key, pattern) in profile.patterns() {
                pattern
                    .regex()
                    .map_err(|e| format!("agents.{name}.{key}: {e}"))?;
            }
        }
        Ok(())
    }

    /// The agent profile names, sorted.
    pub fn agent_names(&self) -> Vec<String> {
        self.agents.keys().cloned().collect()
    }
}

/// Lays `over` onto `base`: tables merge key by key, anything else replaces.
pub fn overlay(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => overlay(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
