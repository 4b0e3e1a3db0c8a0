use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::{App, Confirm, EngineState, Pane, Snapshot};
use super::update::{Action, Intent, action_for, update};
use crate::journal::{CommandKind, ReviewView};
use crate::model::{Job, JobKind, JobState, Progress, Timestamp};
use crate::scheduler::Chain;

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
        reason: (id == 4).then(|| "repo api claimed by #1".to_string()),
    }
}

fn sample() -> App {
    let mut app = App::new(EngineState::Running);
    app.snapshot = Snapshot {
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
        }],
        max_agents: 8,
        chain_window: std::time::Duration::from_secs(3600),
        now: Some(t(10)),
    };
    app.live = "● task: fix the login button\n⠿ working: step 2/5: planning the change\n".into();
    app
}

fn render(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| super::draw::draw(app, f)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..height {
        for x in 0..width {
            out.push_str(buffer[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

#[test]
fn the_room_at_80x24() {
    insta::assert_snapshot!(render(&sample(), 80, 24));
}

#[test]
fn the_room_at_160x48() {
    insta::assert_snapshot!(render(&sample(), 160, 48));
}

#[test]
fn the_help_overlay_and_the_kill_question() {
    let mut app = sample();
    app.help = true;
    insta::assert_snapshot!("help", render(&app, 80, 24));
    app.help = false;
    app.confirm = Some(Confirm::Kill(1));
    insta::assert_snapshot!("confirm_kill", render(&app, 80, 24));
}

#[test]
fn a_viewer_says_so() {
    let mut app = sample();
    app.engine = EngineState::Viewer;
    assert!(render(&app, 160, 48).contains("viewer: another engine runs this home"));
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

#[test]
fn the_queue_is_in_start_order() {
    let app = sample();
    let ids: Vec<i64> = app.queue().iter().map(|j| j.id).collect();
    assert_eq!(ids, [1, 3, 4, 2], "active, then queued, then over");
}

#[test]
fn every_action_does_what_it_says() {
    let mut app = sample();
    assert_eq!(update(&mut app, Action::FocusNext), vec![]);
    assert_eq!(app.focus, Pane::Live);
    update(&mut app, Action::FocusPrev);
    update(&mut app, Action::FocusPrev);
    assert_eq!(app.focus, Pane::Review);
    update(&mut app, Action::FocusNext);
    assert_eq!(app.focus, Pane::Queue);
    update(&mut app, Action::Down);
    update(&mut app, Action::Down);
    assert_eq!(app.selected_job(), Some(4));
    for _ in 0..10 {
        update(&mut app, Action::Down);
    }
    assert_eq!(app.selected_job(), Some(2), "stops at the last row");
    update(&mut app, Action::Up);
    assert_eq!(app.selected_job(), Some(4));
    assert_eq!(
        update(&mut app, Action::Retry),
        vec![Intent::Command {
            kind: CommandKind::Retry,
            job: Some(4),
            text: None
        }]
    );
    // Kill asks first; any key but y keeps the job.
    assert!(update(&mut app, Action::Kill).is_empty());
    assert_eq!(app.confirm, Some(Confirm::Kill(4)));
    assert_eq!(action_for(&app, key('n')), Some(Action::No));
    update(&mut app, Action::No);
    assert_eq!(app.confirm, None);
    update(&mut app, Action::Kill);
    assert_eq!(action_for(&app, key('y')), Some(Action::Yes));
    assert_eq!(
        update(&mut app, Action::Yes),
        vec![Intent::Command {
            kind: CommandKind::Kill,
            job: Some(4),
            text: None
        }]
    );
    // Approve in the Review pane approves its item.
    app.focus = Pane::Review;
    assert_eq!(
        update(&mut app, Action::Approve),
        vec![Intent::Command {
            kind: CommandKind::Approve,
            job: Some(2),
            text: None
        }]
    );
    assert_eq!(
        update(&mut app, Action::Drain),
        vec![Intent::Command {
            kind: CommandKind::Drain,
            job: None,
            text: None
        }]
    );
    app.engine = EngineState::Draining;
    assert_eq!(
        update(&mut app, Action::Drain),
        vec![Intent::Command {
            kind: CommandKind::Resume,
            job: None,
            text: None
        }]
    );
    // Attach: the Queue's selected job with an agent; a queued job has none.
    app.focus = Pane::Queue;
    app.set_selection(Pane::Queue, 0);
    assert_eq!(
        update(&mut app, Action::Attach),
        vec![Intent::Attach { job: 1, attempt: 1 }]
    );
    app.set_selection(Pane::Queue, 2);
    assert_eq!(update(&mut app, Action::Attach), vec![]);
    assert!(app.message.as_deref().unwrap_or("").contains("no agent"));
    assert_eq!(action_for(&app, key('a')), Some(Action::Attach));
    update(&mut app, Action::Help);
    assert!(app.help);
    assert_eq!(
        action_for(&app, key('x')),
        Some(Action::Help),
        "any key closes help"
    );
    update(&mut app, Action::Help);
    assert_eq!(action_for(&app, key('q')), Some(Action::Quit));
    update(&mut app, Action::Quit);
    assert!(app.quit);
}
