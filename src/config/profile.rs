//! Agent profiles: how to run one kind of agent and how to read its screen.

use std::sync::OnceLock;

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

/// A regular expression from the config. The syntax of the operator's
/// patterns is checked when the config loads, so a bad one is reported with
/// its key and line (the built-in ones are checked by a test); it is
/// compiled the first time it is used, so commands that never read a
/// screen (`dispatch`, `jobs`) do not pay for compiling every profile.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    compiled: OnceLock<Result<regex::Regex, String>>,
}

impl Pattern {
    /// A pattern whose syntax is valid.
    pub fn new(source: &str) -> Result<Pattern, String> {
        let pattern = Pattern::unchecked(source);
        pattern.check()?;
        Ok(pattern)
    }

    /// A pattern whose syntax is checked later ([`Pattern::check`]).
    fn unchecked(source: &str) -> Pattern {
        Pattern {
            source: source.to_string(),
            compiled: OnceLock::new(),
        }
    }

    /// Whether its syntax is that of a regular expression.
    pub fn check(&self) -> Result<(), String> {
        regex_syntax::Parser::new()
            .parse(&self.source)
            .map(|_| ())
            .map_err(|e| format!("not a regular expression: {e}"))
    }

    /// The compiled expression, or why it cannot be compiled (too big).
    pub fn regex(&self) -> Result<&regex::Regex, &str> {
        self.compiled
            .get_or_init(|| regex::Regex::new(&self.source).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(String::as_str)
    }

    /// Whether the screen matches; a pattern that cannot compile matches
    /// nothing (`switchboard doctor` reports it).
    pub fn is_match(&self, screen: &str) -> bool {
        self.regex().is_ok_and(|r| r.is_match(screen))
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Checked by Config::from_texts for the operator's patterns.
        Ok(Pattern::unchecked(&String::deserialize(d)?))
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
    /// On screen when the agent's turn ended on an error (the model API
    /// failed after the agent's own retries): the attempt fails.
    #[serde(default)]
    pub error: Option<Pattern>,
    /// Matched against the pane title the agent sets: it works (Claude
    /// Code and Codex draw a braille spinner, U+2800 to U+28FF).
    #[serde(default)]
    pub title_busy: Option<Pattern>,
    /// Matched against the pane title: it asks (Codex: `[ ! ] Action
    /// Required`, the `!` blinking).
    #[serde(default)]
    pub title_ask: Option<Pattern>,
    /// How many of the screen's last lines that are not blank the screen
    /// rules read: an
    /// answered question or an old spinner above them is history.
    #[serde(default = "default_screen_lines")]
    pub screen_lines: usize,
    /// How to bring a dead agent back into its own conversation in the
    /// same worktree (argv, `{switchboard}` and `{job}` as in `command`;
    /// `{prompt}` is a note that it was restarted); without it a dead
    /// agent is started afresh with a checkpoint.
    #[serde(default)]
    pub resume: Option<Vec<String>>,
    /// The agent reads an answer to its question as a line (Aider's
    /// "(Y)es/(N)o … [Yes]:"): Enter follows the answer's key.
    #[serde(default)]
    pub answer_enter: bool,
    /// The agent runs its input as commands (a shell): only an operator's
    /// own tasks may go to it, never the text of tickets or alarms.
    #[serde(default)]
    pub operator_tasks_only: bool,
    /// How long a `prompt = "paste"` agent may take to show `ready` before
    /// its attempt fails (its task is typed in only once it shows).
    #[serde(default = "default_ready_within", with = "super::duration")]
    pub ready_within: std::time::Duration,
}

impl AgentProfile {
    /// Every pattern of the profile with its key name.
    pub fn patterns(&self) -> impl Iterator<Item = (&'static str, &Pattern)> {
        [
            ("ready", &self.ready),
            ("busy", &self.busy),
            ("ask", &self.ask),
            ("error", &self.error),
            ("title_busy", &self.title_busy),
            ("title_ask", &self.title_ask),
        ]
        .into_iter()
        .filter_map(|(k, p)| p.as_ref().map(|p| (k, p)))
    }
}

fn default_delivery() -> PromptDelivery {
    PromptDelivery::Argv
}

fn default_ready_within() -> std::time::Duration {
    std::time::Duration::from_secs(60)
}

fn default_screen_lines() -> usize {
    15
}
