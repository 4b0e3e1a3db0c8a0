//! The control room's state: a snapshot of the journal, what has focus,
//! what is selected. Changed only by `update`; drawn by `draw`.

use crate::journal::ReviewView;
use crate::model::{Job, StateName, Timestamp};
use crate::scheduler::Chain;

/// The four panes, in focus order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Queue,
    Live,
    Chains,
    Review,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Queue, Pane::Live, Pane::Chains, Pane::Review];

    pub fn title(self) -> &'static str {
        match self {
            Pane::Queue => "Queue",
            Pane::Live => "Live",
            Pane::Chains => "Chains",
            Pane::Review => "Review",
        }
    }
}

/// Who carries out commands for this control room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineState {
    /// The engine runs in this process.
    Running,
    /// Another process holds the home's engine; this room only views.
    Viewer,
    Draining,
}

/// What the journal says, read in one go.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub jobs: Vec<Job>,
    pub chains: Vec<Chain>,
    pub reviews: Vec<ReviewView>,
    pub max_agents: u32,
    pub chain_window: std::time::Duration,
    pub now: Option<Timestamp>,
}

/// A question the operator must answer before an action happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    Kill(i64),
}

/// The control room.
#[derive(Debug, Clone)]
pub struct App {
    pub snapshot: Snapshot,
    pub focus: Pane,
    pub selected: [usize; 4],
    /// The selected job's agent pane, as last captured.
    pub live: String,
    pub engine: EngineState,
    pub help: bool,
    pub confirm: Option<Confirm>,
    /// The last thing the room said (a command sent, an error).
    pub message: Option<String>,
    pub quit: bool,
}

impl App {
    pub fn new(engine: EngineState) -> App {
        App {
            snapshot: Snapshot::default(),
            focus: Pane::Queue,
            selected: [0; 4],
            live: String::new(),
            engine,
            help: false,
            confirm: None,
            message: None,
            quit: false,
        }
    }

    /// The jobs in the order the scheduler would start them: active first,
    /// then queued by priority and age, then the rest, newest first.
    pub fn queue(&self) -> Vec<&Job> {
        let mut jobs: Vec<&Job> = self.snapshot.jobs.iter().collect();
        jobs.sort_by_key(|j| {
            let name = j.state.name();
            let group = if name.is_active() {
                0
            } else if name == StateName::Queued {
                1
            } else {
                2
            };
            let order = if group == 2 { -j.id } else { j.id };
            (group, if group == 1 { -j.priority } else { 0 }, order)
        });
        jobs
    }

    fn index(&self, pane: Pane) -> usize {
        Pane::ALL.iter().position(|p| *p == pane).unwrap_or(0)
    }

    pub fn selection(&self, pane: Pane) -> usize {
        self.selected[self.index(pane)]
    }

    pub fn set_selection(&mut self, pane: Pane, value: usize) {
        let i = self.index(pane);
        self.selected[i] = value;
    }

    /// The job the operator points at: the selected row of the Queue, or
    /// of the Review pane when it has focus.
    pub fn selected_job(&self) -> Option<i64> {
        match self.focus {
            Pane::Review => self
                .snapshot
                .reviews
                .get(self.selection(Pane::Review))
                .map(|r| r.job),
            Pane::Chains => self
                .snapshot
                .chains
                .get(self.selection(Pane::Chains))
                .and_then(|c| c.job),
            _ => self.queue().get(self.selection(Pane::Queue)).map(|j| j.id),
        }
    }

    /// Rows in a pane, for moving the selection.
    pub fn rows(&self, pane: Pane) -> usize {
        match pane {
            Pane::Queue => self.snapshot.jobs.len(),
            Pane::Live => self.live.lines().count(),
            Pane::Chains => self.snapshot.chains.len(),
            Pane::Review => self.snapshot.reviews.len(),
        }
    }
}
