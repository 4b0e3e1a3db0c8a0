//! The control room without a terminal: a sample state fed with recorded
//! agent output, drawn on ratatui's TestBackend (insta snapshots), and
//! driven through `update` key by key.

mod actions;
mod asking;
mod comments;
mod delivery;
mod hostile;
mod hosts;
mod modes;
mod snapshots;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{App, EngineState, Snapshot};
use super::capture::read_capture;
use crate::journal::ReviewView;
use crate::model::{Job, JobKind, JobState, Progress, Timestamp};
use crate::scheduler::Chain;

/// The demo agent's pane as tmux captured it with `-e`, mid-work.
/// The commit job #2's branch points at in [`sample`].
const HEAD_2: &str = "0123456789abcdef0123456789abcdef01234567";

const DEMO_BUSY: &str = include_str!("../../../tests/fixtures/screens/demo_colour_busy.ans");
/// ... and done, at its prompt.
const DEMO_DONE: &str = include_str!("../../../tests/fixtures/screens/demo_colour_done.ans");

fn t(minutes: i64) -> Timestamp {
    Timestamp::from_millis(1_800_000_000_000 + minutes * 60_000)
}

fn job(id: i64, state: JobState, title: &str) -> Job {
    Job {
        id,
        kind: if id % 3 == 0 {
            JobKind::Incident
        } else {
            JobKind::Task
        },
        state,
        project: Some("api".into()),
        title: title.into(),
        prompt: title.into(),
        agent: None,
        priority: 0,
        attempts: 1,
        created_at: t(id),
        progress: Progress {
            percent: (id == 1).then_some(40),
            note: None,
        },
        reason: (id == 4).then(|| "repository of project api claimed by #1".to_string()),
        after: Vec::new(),
    }
}

fn snapshot() -> Snapshot {
    Snapshot {
        jobs: vec![
            job(
                1,
                JobState::Running {
                    attempt: 1,
                    since: t(1),
                },
                "fix the login button",
            ),
            job(
                2,
                JobState::Done {
                    attempt: 1,
                    at: t(9),
                },
                "write the docs",
            ),
            job(
                3,
                JobState::Waiting {
                    attempt: 1,
                    since: t(8),
                    question: "Proceed? [y/n]".into(),
                },
                "HighCPU in 123456789012",
            ),
            job(
                4,
                JobState::Queued {
                    since: t(4),
                    not_before: None,
                },
                "add rate limiting",
            ),
        ],
        chains: vec![Chain {
            id: 1,
            account: "123456789012".into(),
            first_at: t(2),
            latest_at: t(8),
            alarms: 3,
            resolved: false,
            job: Some(3),
        }],
        reviews: vec![ReviewView {
            job: 2,
            project: "api".into(),
            branch: "switchboard/2".into(),
            state: "ready".into(),
            files: 2,
            insertions: 14,
            deletions: 3,
            created_at: t(9),
            url: None,
            delivery: None,
            head: Some(HEAD_2.into()),
        }],
        projects: vec!["api".into(), "web".into()],
        bases: [("api".to_string(), "main".to_string())].into(),
        delivers: Default::default(),
        max_agents: 8,
        task_priority: 0,
        chain_window: std::time::Duration::from_secs(3600),
        now: Some(t(10)),
        demo_fallback: Default::default(),
        missing_agents: Vec::new(),
        hosts: Default::default(),
        unreachable: Vec::new(),
    }
}

/// A room with four jobs, a chain, a review item, and job #1's agent on
/// screen from a recorded capture.
fn sample() -> App {
    let mut app = App::new(EngineState::Running);
    app.profiles = vec!["claude".into(), "demo".into()];
    app.set_snapshot(snapshot());
    app.set_live(Some(1), read_capture(DEMO_BUSY), Some("busy"), t(9));
    app.area = ratatui::layout::Rect::new(0, 0, 160, 48);
    app
}

fn draw(app: &App, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| super::draw::draw(app, f)).unwrap();
    terminal.backend().buffer().clone()
}

fn render(app: &App, width: u16, height: u16) -> String {
    let buffer = draw(app, width, height);
    let mut out = String::new();
    for y in 0..height {
        for x in 0..width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

fn key(c: char) -> KeyEvent {
    let modifiers = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    KeyEvent::new(KeyCode::Char(c), modifiers)
}

fn code(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ctrl(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
}

/// Types each character of `text` into whatever has the keys.
fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        super::update::handle_key(app, key(c));
    }
}
