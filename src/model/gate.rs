//! The one gate per operator action: "can this job take this action now?"
//! Both the command line's operator commands and the control room ask it,
//! so a key in the room is refused exactly when the command is, with the
//! same words.

use std::fmt;

use super::job::StateName;

/// What an operator can ask of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OperatorAction {
    Kill,
    Nudge,
    Retry,
    Approve,
    Reject,
    Attach,
    /// Answer the agent's question with its own keys.
    Answer,
}

impl OperatorAction {
    pub const ALL: [OperatorAction; 7] = [
        OperatorAction::Kill,
        OperatorAction::Nudge,
        OperatorAction::Retry,
        OperatorAction::Approve,
        OperatorAction::Reject,
        OperatorAction::Attach,
        OperatorAction::Answer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OperatorAction::Kill => "kill",
            OperatorAction::Nudge => "nudge",
            OperatorAction::Retry => "retry",
            OperatorAction::Approve => "approve",
            OperatorAction::Reject => "reject",
            OperatorAction::Attach => "attach",
            OperatorAction::Answer => "answer",
        }
    }
}

impl fmt::Display for OperatorAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a job's review item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewState {
    /// The agent's turn ended (the job shows done at once) and its work is
    /// being committed on its branch: ready in a moment.
    Committing,
    /// The work could not be committed (the reason is the item's last
    /// event): approve tries the commit again, reject sends it back.
    Uncommitted,
    /// Waiting for the operator.
    Ready,
    /// The last approve met a conflict; the base is unchanged.
    Conflict,
    Merged,
    Rejected,
    /// Pushed to the remote (with its pull request, if any): waiting for
    /// it to be merged there. Reject still sends it back.
    Delivered,
    /// Its pull request was closed without a merge: the operator decides
    /// (approve delivers it again, reject sends it back).
    Closed,
}

impl ReviewState {
    pub const ALL: [ReviewState; 8] = [
        ReviewState::Committing,
        ReviewState::Uncommitted,
        ReviewState::Ready,
        ReviewState::Conflict,
        ReviewState::Merged,
        ReviewState::Rejected,
        ReviewState::Delivered,
        ReviewState::Closed,
    ];

    /// The journal's word for it; `None` for a word it does not know.
    pub fn parse(word: &str) -> Option<ReviewState> {
        Some(match word {
            "committing" => ReviewState::Committing,
            "uncommitted" => ReviewState::Uncommitted,
            "ready" => ReviewState::Ready,
            "conflict" => ReviewState::Conflict,
            "merged" => ReviewState::Merged,
            "rejected" => ReviewState::Rejected,
            "delivered" => ReviewState::Delivered,
            "closed" => ReviewState::Closed,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Committing => "committing",
            ReviewState::Uncommitted => "uncommitted",
            ReviewState::Ready => "ready",
            ReviewState::Conflict => "conflict",
            ReviewState::Merged => "merged",
            ReviewState::Rejected => "rejected",
            ReviewState::Delivered => "delivered",
            ReviewState::Closed => "closed",
        }
    }

    /// Whether the operator still has to decide.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ReviewState::Uncommitted
                | ReviewState::Ready
                | ReviewState::Conflict
                | ReviewState::Closed
        )
    }
}

/// Why a job cannot take an action now, in the operator's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// Whether job `id`, in `state` with its review item in `review` (if it
/// has one), can take `action` now.
pub fn check(
    action: OperatorAction,
    id: i64,
    state: StateName,
    review: Option<ReviewState>,
) -> Result<(), Refusal> {
    let refuse = |why: String| Err(Refusal(why));
    match action {
        OperatorAction::Kill if state.is_over() => refuse(format!(
            "job #{id} is already {state}; there is nothing to kill"
        )),
        OperatorAction::Nudge if !state.is_active() => refuse(format!(
            "job #{id} is {state}; only a job with a live agent (starting, running, waiting, stalled) can be nudged"
        )),
        // Text typed into an agent's question is not an answer: Codex's
        // menu ignores it and takes the Enter that follows as "yes".
        OperatorAction::Nudge if state == StateName::Waiting => refuse(format!(
            "job #{id}'s agent is asking a question; a nudge would be typed into the question (Codex takes the Enter after it as \"yes\"). Answer with the agent's own keys: `switchboard answer {id} CHOICE` (1, 2, 3, y, n, enter, esc), or attach"
        )),
        OperatorAction::Answer if state != StateName::Waiting => refuse(if state.is_active() {
            format!(
                "job #{id} is {state}, not asking a question; nothing to answer (`switchboard nudge {id} TEXT` types to a working agent)"
            )
        } else {
            format!("job #{id} is {state}, not asking a question; nothing to answer")
        }),
        OperatorAction::Retry if !matches!(state, StateName::Failed | StateName::Killed) => refuse(
            format!("job #{id} is {state}; only a failed or killed job can be retried"),
        ),
        OperatorAction::Approve | OperatorAction::Reject => match review {
            None => refuse(format!(
                "job #{id} has nothing in review to {action}; `switchboard review` lists what has"
            )),
            Some(ReviewState::Committing) => refuse(format!(
                "job #{id}'s work is being committed on its branch; its review item is ready in a moment"
            )),
            Some(ReviewState::Delivered) if action == OperatorAction::Reject => Ok(()),
            Some(ReviewState::Delivered) => refuse(format!(
                "job #{id} is already delivered to its remote and waits to be merged there; `switchboard review` shows where"
            )),
            Some(r) if !r.is_open() => {
                refuse(format!("job #{id}'s review item is already {}", r.as_str()))
            }
            Some(_) => Ok(()),
        },
        OperatorAction::Attach
            if matches!(state, StateName::Queued | StateName::Killed)
                || review == Some(ReviewState::Merged) =>
        {
            refuse(format!(
                "job #{id} is {}; it has no agent session to attach to",
                if review == Some(ReviewState::Merged) {
                    "merged"
                } else {
                    state.as_str()
                }
            ))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action in every state: which are allowed, as a table. A
    /// change to the rules shows here as a changed line.
    #[test]
    fn the_table_of_actions_and_states() {
        let mut table = String::new();
        for state in StateName::ALL {
            for review in std::iter::once(None).chain(ReviewState::ALL.map(Some)) {
                if review.is_some() && state != StateName::Done {
                    continue;
                }
                let allowed: Vec<&str> = OperatorAction::ALL
                    .iter()
                    .filter(|a| check(**a, 1, state, review).is_ok())
                    .map(|a| a.as_str())
                    .collect();
                let review = review.map_or("-", ReviewState::as_str);
                table.push_str(&format!(
                    "{:<8} {review:<8} {}\n",
                    state.as_str(),
                    allowed.join(" ")
                ));
            }
        }
        assert_eq!(
            table,
            "\
queued   -        kill
starting -        kill nudge attach
running  -        kill nudge attach
waiting  -        kill attach answer
stalled  -        kill nudge attach
done     -        attach
done     committing attach
done     uncommitted approve reject attach
done     ready    approve reject attach
done     conflict approve reject attach
done     merged   
done     rejected attach
done     delivered reject attach
done     closed   approve reject attach
failed   -        retry attach
killed   -        retry
"
        );
    }

    #[test]
    fn a_refusal_says_why() {
        let no = check(OperatorAction::Retry, 6, StateName::Done, None).unwrap_err();
        assert_eq!(
            no.to_string(),
            "job #6 is done; only a failed or killed job can be retried"
        );
    }

    /// An answer to a job with no question points to a nudge only where
    /// a nudge is taken: a done job's refusal sent the operator on to a
    /// second refusal.
    #[test]
    fn an_answer_refused_points_to_a_nudge_only_where_one_is_taken() {
        for state in StateName::ALL {
            let Err(no) = check(OperatorAction::Answer, 6, state, None) else {
                continue;
            };
            let nudge_taken = check(OperatorAction::Nudge, 6, state, None).is_ok();
            assert_eq!(
                no.to_string().contains("switchboard nudge"),
                nudge_taken,
                "{state}: {no}"
            );
        }
    }
}
