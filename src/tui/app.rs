//! The control room's state: a snapshot of the journal, the live captures,
//! what has focus, what is selected, which view or question is open.
//! Changed only by `update` (and by the room loop handing it new
//! snapshots and captures); drawn by `draw`.

use ratatui::layout::Rect;
use ratatui::text::Text;
use ratatui_textarea::TextArea;

use super::action::Action;
use super::form::DispatchForm;
use super::grid::{self, GridPage};
use super::keymap::Keymap;
use super::layout::RoomLayout;
use crate::agents::question::Question;
use crate::config::Config;
use crate::journal::{JobDetails, ReviewView};
use crate::model::{
    Freshness, HostName, Job, OperatorAction, Refusal, ReviewComment, ReviewState, StateName,
    Timestamp, gate,
};
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

    fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }
}

/// Who carries out commands for this control room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineState {
    /// The engine runs in this process.
    Running,
    /// Another process holds the home's engine; this room only views.
    Viewer,
    /// The engine starts nothing new; agents finish.
    Draining,
    /// The engine has stopped (a drain completed, or it failed).
    Stopped,
}

/// What the journal says, read in one go.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub jobs: Vec<Job>,
    pub chains: Vec<Chain>,
    pub reviews: Vec<ReviewView>,
    /// Registered project names, for the dispatch form.
    pub projects: Vec<String>,
    /// Each project's base branch, where approve merges.
    pub bases: std::collections::BTreeMap<String, String>,
    /// Projects whose approve pushes (`push`) or opens a pull request
    /// (`pr`) instead of merging here; the others are not listed.
    pub delivers: std::collections::BTreeMap<String, crate::config::Deliver>,
    pub max_agents: u32,
    /// The priority a dispatched task gets unless the operator says.
    pub task_priority: i64,
    pub chain_window: std::time::Duration,
    pub now: Option<Timestamp>,
    /// Jobs that leave their agent to `auto` while none of claude, codex,
    /// aider is installed: they run the demo agent, and their rows say so.
    pub demo_fallback: std::collections::BTreeSet<i64>,
    /// Agent profiles whose program is not installed, for the dispatch
    /// form.
    pub missing_agents: Vec<String>,
    /// Each project on a remote host, with its host (projects on the
    /// engine's machine are not listed).
    pub hosts: std::collections::BTreeMap<String, HostName>,
    /// The hosts the engine cannot reach now, each with since when, by
    /// name.
    pub unreachable: Vec<(HostName, Timestamp)>,
}

impl Snapshot {
    /// The remote host of a job's project; `None` on the engine's machine.
    pub fn host_of(&self, job: &Job) -> Option<&HostName> {
        self.hosts.get(job.project.as_deref()?)
    }

    /// Since when `host` cannot be reached, if it cannot.
    pub fn unreachable_since(&self, host: &HostName) -> Option<Timestamp> {
        self.unreachable
            .iter()
            .find(|(h, _)| h == host)
            .map(|(_, since)| *since)
    }
}

/// A question the operator must answer before an action happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirm {
    Kill(i64),
    /// Merge the job's review item (when `[room] confirm_approve`), as
    /// the question named it.
    Approve {
        job: i64,
        seen: ReviewSeen,
    },
}

impl Confirm {
    /// The action asked about, and the job it acts on.
    pub fn action(&self) -> (OperatorAction, i64) {
        match self {
            Confirm::Kill(job) => (OperatorAction::Kill, *job),
            Confirm::Approve { job, .. } => (OperatorAction::Approve, *job),
        }
    }
}

/// What the approve question names of a review item: the branch, where
/// it goes and its changes. A yes approves these: when the agent's work
/// moves on while the question is open, the question is withdrawn, not
/// answered for work the operator did not see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewSeen {
    pub branch: String,
    pub base: Option<String>,
    pub files: u64,
    pub insertions: u64,
    pub deletions: u64,
    /// The commit shown, for an item ready for review: the approve names
    /// it, and the engine merges nothing if the branch moved on since.
    pub head: Option<String>,
}

impl ReviewSeen {
    /// Job `job`'s review item as `snapshot` shows it.
    pub fn of(snapshot: &Snapshot, job: i64) -> Option<ReviewSeen> {
        let item = snapshot.reviews.iter().find(|r| r.job == job)?;
        Some(ReviewSeen {
            branch: item.branch.clone(),
            base: snapshot.bases.get(&item.project).cloned(),
            files: item.files,
            insertions: item.insertions,
            deletions: item.deletions,
            head: item.head.clone().filter(|_| item.state == "ready"),
        })
    }
}

/// What a text box's words are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Nudge(i64),
    Reject(i64),
}

/// A review item's diff as the diff view shows it: a line can be
/// selected and commented on.
#[derive(Debug, Clone, Default)]
pub struct DiffView {
    pub lines: Vec<String>,
    /// The comments not yet sent to the agent, oldest first.
    pub comments: Vec<ReviewComment>,
    /// The selected line.
    pub cursor: usize,
    /// The comment being typed on the selected line: its file and line,
    /// and the one-line box.
    pub input: Option<(String, u32, TextArea<'static>)>,
}

impl DiffView {
    pub fn new(lines: Vec<String>, comments: Vec<ReviewComment>) -> DiffView {
        DiffView {
            lines,
            comments,
            ..DiffView::default()
        }
    }
}

/// A scrolled, full-screen view of one job.
#[derive(Debug, Clone)]
pub struct Scrolled<T> {
    pub job: i64,
    /// `None` until the room has read it.
    pub content: Option<T>,
    /// Lines from the top.
    pub scroll: usize,
}

impl<T> Scrolled<T> {
    pub fn new(job: i64) -> Scrolled<T> {
        Scrolled {
            job,
            content: None,
            scroll: 0,
        }
    }
}

/// What is on screen over the panes, and so gets the keys first.
#[derive(Debug, Clone, Default)]
pub enum Mode {
    #[default]
    Normal,
    Help,
    Confirm(Confirm),
    /// Typing the queue's filter.
    Filter(TextArea<'static>),
    Dispatch(Box<DispatchForm>),
    Text(Purpose, TextArea<'static>),
    Details(Scrolled<JobDetails>),
    /// A review item's diff, a line each, with its comments.
    Diff(Scrolled<DiffView>),
    Grid,
}

/// The selected job's agent pane, as last captured.
#[derive(Debug, Clone, Default)]
pub struct Live {
    /// Whose pane this is.
    pub job: Option<i64>,
    /// The capture, with the pane's colours read from its escapes.
    pub text: Text<'static>,
    /// Lines scrolled back from the newest; 0 follows new output.
    pub scroll: usize,
    /// The agent's status from its screen: busy, idle, asking, stalled.
    pub status: Option<&'static str>,
    /// When the pane last changed.
    pub last_output: Option<Timestamp>,
}

/// One agent in the grid.
#[derive(Debug, Clone)]
pub struct GridCell {
    pub job: i64,
    pub title: String,
    pub text: Text<'static>,
}

/// The control room.
#[derive(Debug, Clone)]
pub struct App {
    pub snapshot: Snapshot,
    pub focus: Pane,
    /// What each pane's selection points at: a job id (Queue, Review) or
    /// a chain id (Chains). The row is derived from it, so a reorder, a
    /// filter or a new snapshot never moves the selection to another job.
    picked: [Option<i64>; 4],
    /// The row each pane's selection was last seen at: where it stays
    /// when the picked item is gone (filtered out, or no more listed).
    last_row: [usize; 4],
    pub live: Live,
    pub grid: Vec<GridCell>,
    /// The grid's selected tile, by job id (the first tile when none).
    pub grid_pick: Option<i64>,
    pub mode: Mode,
    /// The queue shows jobs whose line contains this (any case).
    pub filter: String,
    pub engine: EngineState,
    /// The operator has paused the queue (the home's `PAUSED`): nothing
    /// new starts, whichever process runs the engine.
    pub paused: bool,
    /// A fault the engine is waiting out (a full disk, tmux away), as one
    /// line for the status bar.
    pub engine_fault: Option<String>,
    /// The network intakes (HTTP, SQS), as one short segment for the
    /// status bar; `None` when none runs.
    pub intakes: Option<String>,
    /// Whether an engine runs to keep the hosts' reachability current;
    /// without one the status bar says it is only the last known.
    pub hosts_freshness: Freshness,
    pub keymap: Keymap,
    /// Agent profile names, for the dispatch form.
    pub profiles: Vec<String>,
    /// The current directory, when it is a git repository: the dispatch
    /// form offers it when no project is registered.
    pub here: Option<String>,
    /// Approve asks first (`[room] confirm_approve`).
    pub confirm_approve: bool,
    /// Colours off (NO_COLOR): only bold, reverse and the like.
    pub no_color: bool,
    /// The terminal's size at the last draw, for mouse clicks.
    pub area: Rect,
    /// The question an asking job's agent shows, read from its latest
    /// capture: the details view shows it and answers it with single keys.
    pub asking: Option<(i64, Question)>,
    /// Where the operator's config.toml fails to load, when its last
    /// edit did not (`config.toml line 2, key …`): the room keeps the
    /// last settings that loaded, and the status bar says so until the
    /// file is mended.
    pub config_refused: Option<String>,
    /// The last thing the room said (a command sent, an error).
    pub message: Option<String>,
    pub quit: bool,
}

impl App {
    pub fn new(engine: EngineState) -> App {
        App {
            snapshot: Snapshot::default(),
            focus: Pane::Queue,
            picked: [None; 4],
            last_row: [0; 4],
            live: Live::default(),
            grid: Vec::new(),
            grid_pick: None,
            mode: Mode::Normal,
            filter: String::new(),
            engine,
            paused: false,
            engine_fault: None,
            intakes: None,
            hosts_freshness: Freshness::Live,
            keymap: Keymap::builtin(),
            profiles: Vec::new(),
            here: None,
            confirm_approve: true,
            no_color: false,
            area: Rect::default(),
            asking: None,
            config_refused: None,
            message: None,
            quit: false,
        }
    }

    /// Takes the room's settings from `config`: at start, and each time
    /// the operator's file is read again (the keys, the form's profiles,
    /// whether approve asks first). What the status bar shows of the
    /// config (the agents' limit) comes with the next snapshot.
    pub fn take_config(&mut self, config: &Config) {
        self.keymap = Keymap::new(&config.keys);
        self.profiles = config.agent_names();
        self.confirm_approve = config.room.confirm_approve;
    }

    /// The jobs in the order the scheduler would start them: active first,
    /// then queued by priority and age, then the rest, newest first; only
    /// those that match the filter.
    pub fn queue(&self) -> Vec<&Job> {
        let needle = self.filter.to_lowercase();
        let mut jobs: Vec<&Job> = self
            .snapshot
            .jobs
            .iter()
            .filter(|j| needle.is_empty() || matches_filter(j, &needle))
            .collect();
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

    /// What identifies each row of a pane, in the order drawn.
    fn ids(&self, pane: Pane) -> Vec<i64> {
        match pane {
            Pane::Queue => self.queue().iter().map(|j| j.id).collect(),
            Pane::Chains => self.snapshot.chains.iter().map(|c| c.id).collect(),
            Pane::Review => self.snapshot.reviews.iter().map(|r| r.job).collect(),
            Pane::Live => Vec::new(),
        }
    }

    /// The row of a pane's selection: where its picked item is now, else
    /// the row it was last seen at (kept in range).
    pub fn selection(&self, pane: Pane) -> usize {
        let ids = self.ids(pane);
        let i = pane.index();
        self.picked[i]
            .and_then(|id| ids.iter().position(|x| *x == id))
            .unwrap_or_else(|| self.last_row[i].min(ids.len().saturating_sub(1)))
    }

    /// Selects the item at row `value` of a pane (the operator moved).
    pub fn set_selection(&mut self, pane: Pane, value: usize) {
        let i = pane.index();
        self.last_row[i] = value;
        if let Some(id) = self.ids(pane).get(value) {
            self.picked[i] = Some(*id);
        }
    }

    /// Pins every pane's selection to the item on its row now: the first
    /// snapshot's, and a fallback row's once its item is gone, so that
    /// the next reorder does not move it.
    fn pin_selections(&mut self) {
        for pane in [Pane::Queue, Pane::Chains, Pane::Review] {
            let i = pane.index();
            let ids = self.ids(pane);
            match self.picked[i].and_then(|id| ids.iter().position(|x| *x == id)) {
                Some(row) => self.last_row[i] = row,
                // A filtered-out job stays picked: unfiltering brings it back.
                None if pane == Pane::Queue && !self.filter.is_empty() => {}
                None => {
                    let row = self.last_row[i].min(ids.len().saturating_sub(1));
                    self.last_row[i] = row;
                    self.picked[i] = ids.get(row).copied();
                }
            }
        }
    }

    /// The job the Queue's selection points at.
    pub fn queue_job(&self) -> Option<&Job> {
        // The picked job when it shows: no need to sort the queue for it
        // (the footer, Live and every key ask this on each frame).
        let needle = self.filter.to_lowercase();
        let picked = self.picked[Pane::Queue.index()]
            .and_then(|id| self.snapshot.jobs.iter().find(|j| j.id == id))
            .filter(|j| needle.is_empty() || matches_filter(j, &needle));
        picked.or_else(|| self.queue().get(self.selection(Pane::Queue)).copied())
    }

    /// The job the operator points at: the selected row of the pane that
    /// has focus (the Queue's for Live).
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
            _ => self.queue_job().map(|j| j.id),
        }
    }

    /// Selects job `id` in the Queue (after a dispatch).
    pub fn select_job(&mut self, id: i64) {
        if let Some(i) = self.queue().iter().position(|j| j.id == id) {
            self.set_selection(Pane::Queue, i);
            self.focus = Pane::Queue;
        }
    }

    /// The job the operator picked in the Queue, filtered out or not.
    pub fn picked_job(&self) -> Option<i64> {
        self.picked[Pane::Queue.index()]
    }

    /// Rows in a pane, for moving the selection.
    pub fn rows(&self, pane: Pane) -> usize {
        match pane {
            Pane::Queue => self.queue().len(),
            Pane::Live => self.live.text.lines.len(),
            Pane::Chains => self.snapshot.chains.len(),
            Pane::Review => self.snapshot.reviews.len(),
        }
    }

    /// Takes a new snapshot; each selection stays on its item.
    pub fn set_snapshot(&mut self, snapshot: Snapshot) {
        self.snapshot = snapshot;
        self.pin_selections();
        // A question about a job that can no longer take the action is
        // withdrawn, and the operator told why.
        if let Mode::Confirm(confirm) = &self.mode {
            let (action, job) = confirm.action();
            if let Err(no) = self.still_asked(confirm) {
                self.mode = Mode::Normal;
                self.message = Some(format!("{action} of #{job} cancelled: {no}"));
            }
        }
    }

    /// Whether an open question still stands as it was asked: its job can
    /// take the action, and (approve) its review item is the one named.
    pub fn still_asked(&self, confirm: &Confirm) -> Result<(), String> {
        let (action, job) = confirm.action();
        self.can(action, job).map_err(|no| no.to_string())?;
        match confirm {
            Confirm::Approve { seen, .. } => match ReviewSeen::of(&self.snapshot, job) {
                Some(now) if now == *seen => Ok(()),
                Some(now) => Err(format!(
                    "its work changed since the question ({}, +{} -{} now); ask again",
                    crate::workspace::files_changed(now.files),
                    now.insertions,
                    now.deletions
                )),
                None => Err("it has nothing in review now".into()),
            },
            Confirm::Kill(_) => Ok(()),
        }
    }

    /// The keys the footer offers now: those that apply to the focused
    /// pane and the selected job (by the same gate as the keys), then help
    /// and quit, which are always there.
    pub fn footer_actions(&self) -> Vec<Action> {
        use OperatorAction as Op;
        let mut out = vec![Action::Dispatch];
        let job = self.selected_job();
        let can = |op| job.is_some_and(|id| self.can(op, id).is_ok());
        let reviewed = job.is_some_and(|id| self.snapshot.reviews.iter().any(|r| r.job == id));
        if self.focus == Pane::Live {
            out.push(Action::Up);
        }
        if job.is_some() {
            out.push(Action::Details);
        }
        for (op, action) in [(Op::Approve, Action::Approve), (Op::Reject, Action::Reject)] {
            if can(op) {
                out.push(action);
            }
        }
        if reviewed {
            out.push(Action::Diff);
        }
        for (op, action) in [
            (Op::Nudge, Action::Nudge),
            (Op::Attach, Action::Attach),
            (Op::Retry, Action::Retry),
            (Op::Kill, Action::Kill),
        ] {
            if can(op) {
                out.push(action);
            }
        }
        if self.focus == Pane::Queue {
            out.push(Action::Filter);
        }
        if self
            .snapshot
            .jobs
            .iter()
            .any(|j| j.state.name().is_active())
        {
            out.push(Action::Grid);
        }
        out.extend([Action::Help, Action::Quit]);
        out
    }

    /// Every job with an agent, in the grid's order.
    pub fn grid_agents(&self) -> Vec<(i64, u32)> {
        self.snapshot
            .jobs
            .iter()
            .filter(|j| j.state.name().is_active())
            .filter_map(|j| Some((j.id, j.state.attempt()?)))
            .collect()
    }

    /// The grid's page on screen: the one holding the selected agent.
    pub fn grid_page(&self, agents: &[(i64, u32)]) -> GridPage {
        let selected = agents
            .iter()
            .position(|(job, _)| Some(*job) == self.grid_pick)
            .unwrap_or(0);
        grid::page(agents.len(), selected, RoomLayout::of(self.area).main)
    }

    /// The grid's selected tile's job.
    pub fn grid_job(&self) -> Option<i64> {
        self.grid
            .iter()
            .find(|c| Some(c.job) == self.grid_pick)
            .or(self.grid.first())
            .map(|c| c.job)
    }

    /// Whether job `id` can take `action` now, by what this room last
    /// read: the same gate as the command line's.
    pub fn can(&self, action: OperatorAction, id: i64) -> Result<(), Refusal> {
        let job = self
            .snapshot
            .jobs
            .iter()
            .find(|j| j.id == id)
            .ok_or_else(|| Refusal(format!("job #{id} is not in the journal")))?;
        let review = self
            .snapshot
            .reviews
            .iter()
            .find(|r| r.job == id)
            .and_then(|r| ReviewState::parse(&r.state));
        gate(action, id, job.state.name(), review)
    }

    /// The queue's filter changed: the selection stays on its job when
    /// that job still shows.
    pub fn set_filter(&mut self, filter: String) {
        self.filter = filter;
        self.pin_selections();
    }

    /// Takes a new capture of the Live pane's agent (`raw`, with colour
    /// escapes). A capture of another job than before starts following.
    pub fn set_live(
        &mut self,
        job: Option<i64>,
        text: Text<'static>,
        status: Option<&'static str>,
        at: Timestamp,
    ) {
        if self.live.job != job {
            self.live.scroll = 0;
        }
        if self.live.job != job || self.live.text != text {
            self.live.last_output = Some(at);
        }
        self.live.job = job;
        self.live.text = text;
        self.live.status = status;
    }

    /// The sessions the room should watch, given what is on screen: every
    /// active agent's in the grid, else the selected job's.
    pub fn watched(&self) -> Vec<(i64, u32)> {
        if matches!(self.mode, Mode::Grid) {
            // Only the page on screen: the others are neither drawn nor
            // captured.
            let all = self.grid_agents();
            let page = self.grid_page(&all);
            return all[page.first..page.first + page.count].to_vec();
        }
        let mut watched: Vec<(i64, u32)> = self
            .queue_job()
            .and_then(|j| Some((j.id, j.state.attempt()?)))
            .into_iter()
            .collect();
        // An asking job's details show its question, read from its pane.
        if let Some(job) = self.details_job()
            && let Some(attempt) = self
                .snapshot
                .jobs
                .iter()
                .find(|j| j.id == job && j.state.name() == StateName::Waiting)
                .and_then(|j| j.state.attempt())
            && !watched.iter().any(|(j, _)| *j == job)
        {
            watched.push((job, attempt));
        }
        watched
    }

    /// The job whose details are open.
    pub fn details_job(&self) -> Option<i64> {
        match &self.mode {
            Mode::Details(view) => Some(view.job),
            _ => None,
        }
    }

    /// The question job `id`'s agent asks, when the job waits for an
    /// answer and its screen shows one.
    pub fn question_of(&self, id: i64) -> Option<&Question> {
        let waiting = self
            .snapshot
            .jobs
            .iter()
            .any(|j| j.id == id && j.state.name() == StateName::Waiting);
        self.asking
            .as_ref()
            .filter(|(job, _)| waiting && *job == id)
            .map(|(_, q)| q)
    }
}

fn matches_filter(job: &Job, needle: &str) -> bool {
    let line = format!(
        "#{} {} {} {} {} {}",
        job.id,
        job.state.name(),
        job.kind.as_str(),
        job.project.as_deref().unwrap_or(""),
        job.title,
        job.reason.as_deref().unwrap_or("")
    );
    line.to_lowercase().contains(needle)
}
