//! Where a message came from: which intake, in the operator's words, and
//! the id its delivery carried (an SNS or SQS MessageId), so that `jobs ID`
//! can say where the work behind a job arrived and a redelivery is known.

use serde::{Deserialize, Serialize};

/// The intake a message came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Intake {
    /// `switchboard ingest`, `dispatch` or the demo.
    Cli,
    /// A file dropped into `<home>/inbox/`.
    Inbox,
    /// `POST /messages`.
    Http,
    /// `POST /jira`.
    Jira,
    /// `POST /sns`, an SNS HTTP(S) subscription.
    Sns,
    /// The SQS queue the engine polls.
    Sqs,
}

impl Intake {
    pub fn as_str(self) -> &'static str {
        match self {
            Intake::Cli => "cli",
            Intake::Inbox => "inbox",
            Intake::Http => "http",
            Intake::Jira => "jira",
            Intake::Sns => "sns",
            Intake::Sqs => "sqs",
        }
    }

    /// Reads what [`Intake::as_str`] wrote; `None` for anything else.
    pub fn parse(text: &str) -> Option<Intake> {
        [
            Intake::Cli,
            Intake::Inbox,
            Intake::Http,
            Intake::Jira,
            Intake::Sns,
            Intake::Sqs,
        ]
        .into_iter()
        .find(|i| i.as_str() == text)
    }
}

impl std::fmt::Display for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a batch of messages came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub intake: Intake,
    /// In the operator's words: a file name, `stdin`, `inbox/NAME`,
    /// `HTTP POST /messages from 127.0.0.1:4711`, `SQS message ID from URL`.
    pub label: String,
    /// The id of the delivery as a whole (an SQS MessageId, `sqs:ID`): a
    /// delivery whose id was journaled before is skipped whole.
    pub delivery: Option<String>,
}

impl Source {
    pub fn new(intake: Intake, label: impl Into<String>) -> Source {
        Source {
            intake,
            label: label.into(),
            delivery: None,
        }
    }

    /// Messages given on the command line (`ingest`, the demo, tests).
    pub fn cli(label: impl Into<String>) -> Source {
        Source::new(Intake::Cli, label)
    }

    pub fn with_delivery(mut self, id: impl Into<String>) -> Source {
        self.delivery = Some(id.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_intake_reads_back_what_it_wrote() {
        for intake in [
            Intake::Cli,
            Intake::Inbox,
            Intake::Http,
            Intake::Jira,
            Intake::Sns,
            Intake::Sqs,
        ] {
            assert_eq!(Intake::parse(intake.as_str()), Some(intake));
        }
        assert_eq!(Intake::parse("carrier pigeon"), None);
    }
}
