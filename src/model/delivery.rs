//! Work delivered to a remote: pushed as a branch, or opened as a pull
//! (GitHub) or merge (GitLab) request, and where it stands there.

use serde::Serialize;

use super::Timestamp;

/// How approved work left for the remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryKind {
    /// The branch was pushed; it counts as merged once the remote's base
    /// contains it.
    Push,
    /// A GitHub pull request (`gh`).
    Pr,
    /// A GitLab merge request (`glab`).
    Mr,
}

impl DeliveryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryKind::Push => "push",
            DeliveryKind::Pr => "pr",
            DeliveryKind::Mr => "mr",
        }
    }

    /// The journal's word for it; `None` for a word it does not know.
    pub fn parse(word: &str) -> Option<DeliveryKind> {
        Some(match word {
            "push" => DeliveryKind::Push,
            "pr" => DeliveryKind::Pr,
            "mr" => DeliveryKind::Mr,
            _ => return None,
        })
    }
}

/// Where delivered work stands on the remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Pushed (and the request open): waiting for someone to merge it.
    Open,
    Merged,
    /// The request was closed without a merge.
    Closed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Open => "open",
            DeliveryState::Merged => "merged",
            DeliveryState::Closed => "closed",
        }
    }

    /// The journal's word for it; `None` for a word it does not know.
    pub fn parse(word: &str) -> Option<DeliveryState> {
        Some(match word {
            "open" => DeliveryState::Open,
            "merged" => DeliveryState::Merged,
            "closed" => DeliveryState::Closed,
            _ => return None,
        })
    }
}

/// One review item's delivery to its remote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteDelivery {
    pub kind: DeliveryKind,
    /// The git remote it went to (`origin`).
    pub remote: String,
    /// The pull request, or where one can be opened (a compare page).
    pub url: Option<String>,
    pub state: DeliveryState,
    /// When its state on the remote was last looked at.
    pub checked_at: Option<Timestamp>,
}

impl RemoteDelivery {
    /// In a few words for a list: `pr open`, `pushed`, `mr merged`.
    pub fn summary(&self) -> String {
        match (self.kind, self.state) {
            (DeliveryKind::Push, DeliveryState::Open) => "pushed".to_string(),
            (kind, state) => format!("{} {}", kind.as_str(), state.as_str()),
        }
    }

    /// In at most eight characters, for the room's state column.
    pub fn short(&self) -> &'static str {
        match (self.kind, self.state) {
            (DeliveryKind::Push, DeliveryState::Open) => "pushed",
            (DeliveryKind::Pr, DeliveryState::Open) => "pr open",
            (DeliveryKind::Mr, DeliveryState::Open) => "mr open",
            (_, DeliveryState::Merged) => "merged",
            (_, DeliveryState::Closed) => "closed",
        }
    }
}
