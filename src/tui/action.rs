//! What the operator can ask of the control room: the keymap's vocabulary
//! and the input of `update`.

/// One command of the control room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Move focus to the next pane.
    FocusNext,
    /// Move focus to the previous pane.
    FocusPrev,
    /// Select the row above (in Live: scroll back a line).
    Up,
    /// Select the row below (in Live: scroll forward a line).
    Down,
    /// A page up: in Live and the full views, scroll back a screen.
    PageUp,
    /// A page down.
    PageDown,
    /// The selected job's events, attempts, branch and sources.
    Details,
    /// The dispatch form.
    Dispatch,
    /// Type a nudge to the selected job's agent.
    Nudge,
    /// Kill the selected job's agent (asks first).
    Kill,
    /// The terminal goes to the selected agent's tmux session.
    Attach,
    /// Queue the selected job again.
    Retry,
    /// Merge the selected review item.
    Approve,
    /// Reject the selected review item, with a reason for the agent.
    Reject,
    /// The selected review item's diff.
    Diff,
    /// In the diff view: comment on the selected line (sent to the agent
    /// with the next rejection).
    Comment,
    /// Every live agent's pane at once.
    Grid,
    /// Filter the queue.
    Filter,
    /// Stop starting new work, or start again.
    Drain,
    /// Pause the queue (the engine runs on, nothing new starts), or
    /// resume it.
    Pause,
    /// The keys.
    Help,
    /// Leave the control room; agents keep running.
    Quit,
    /// Close a view or a question.
    Back,
    /// Answer yes to a question.
    Yes,
}

impl Action {
    /// Every action, for tests that try each in each mode.
    pub const ALL: [Action; 24] = [
        Action::FocusNext,
        Action::FocusPrev,
        Action::Up,
        Action::Down,
        Action::PageUp,
        Action::PageDown,
        Action::Details,
        Action::Dispatch,
        Action::Nudge,
        Action::Kill,
        Action::Attach,
        Action::Retry,
        Action::Approve,
        Action::Reject,
        Action::Diff,
        Action::Comment,
        Action::Grid,
        Action::Filter,
        Action::Drain,
        Action::Pause,
        Action::Help,
        Action::Quit,
        Action::Back,
        Action::Yes,
    ];

    /// The footer's words: shorter than the help's where the help
    /// explains more.
    pub fn footer_words(self) -> &'static str {
        match self {
            Action::Attach => "attach",
            Action::Up => "scroll",
            other => other.describe(),
        }
    }

    /// The words of the footer and the help overlay.
    pub fn describe(self) -> &'static str {
        match self {
            Action::FocusNext => "next pane",
            Action::FocusPrev => "previous pane",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Details => "details",
            Action::Dispatch => "dispatch",
            Action::Nudge => "nudge",
            Action::Kill => "kill",
            Action::Attach => "attach (C-b d detaches)",
            Action::Retry => "retry",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Diff => "diff",
            Action::Comment => "comment on the line",
            Action::Grid => "grid",
            Action::Filter => "filter",
            Action::Drain => "drain/resume",
            Action::Pause => "pause/resume",
            Action::Help => "help",
            Action::Quit => "quit",
            Action::Back => "back",
            Action::Yes => "yes",
        }
    }
}
