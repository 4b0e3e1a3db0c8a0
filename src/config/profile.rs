//! Agent profiles: how to run one kind of agent and how to read its screen.

use serde::{Deserialize, Deserializer};

/// How the task text reaches the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PromptDelivery {
    /// As one whole argv element, in place of `{prompt}`.
    Argv,
    /// Pasted into the agent once its `ready` pattern shows.
    Paste,
}

/// A regular expression from the config, compiled when the config loads so
/// that a bad one is reported with its key and line.
#[derive(Debug, Clone)]
pub struct Pattern(pub regex::Regex);

impl Pattern {
    pub fn is_match(&self, screen: &str) -> bool {
        self.0.is_match(screen)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        regex::Regex::new(&text)
            .map(Pattern)
            .map_err(|e| serde::de::Error::custom(format!("not a regular expression: {e}")))
    }
}

/// `[agents.NAME]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentProfile {
    /// argv; `{prompt}` and `{switchboard}` elements are replaced whole.
    pub command: Vec<String>,
    #[serde(default = "default_delivery")]
    pub prompt: PromptDelivery,
    #[serde(default)]
    pub ready: Option<Pattern>,
    #[serde(default)]
    pub busy: Option<Pattern>,
    #[serde(default)]
    pub ask: Option<Pattern>,
}

fn default_delivery() -> PromptDelivery {
    PromptDelivery::Argv
}
