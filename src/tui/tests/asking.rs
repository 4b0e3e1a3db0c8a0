//! An asking agent in the room: its details show the question read from
//! its recorded screen and what decided its status; single keys answer
//! with the agent's own keys, through the same command as `switchboard
//! answer`.

use ratatui::crossterm::event::KeyCode;

use super::*;
use crate::agents::question::read_question;
use crate::journal::{CommandKind, Event, JobDetails};
use crate::tui::app::{Mode, Pane};
use crate::tui::capture::plain;
use crate::tui::update::{Intent, handle_key};

const CLAUDE_ASK: &str = include_str!("../../../tests/fixtures/screens/claude_ask.ans");
const CODEX_ASK: &str = include_str!("../../../tests/fixtures/screens/codex_ask.ans");

/// The room with job #3's details open, its agent's screen `screen`
/// (as tmux captured it with `-e`) read the way the room reads a capture.
fn asking(screen: &str) -> App {
    let mut app = sample();
    app.set_selection(Pane::Queue, 1);
    assert_eq!(
        handle_key(&mut app, code(KeyCode::Enter)),
        vec![Intent::LoadDetails(3)]
    );
    assert!(
        app.watched().iter().any(|(job, _)| *job == 3),
        "the asking job's pane is captured for its question"
    );
    let question = read_question(&plain(&read_capture(screen))).expect("a question");
    app.asking = Some((3, question));
    if let Mode::Details(view) = &mut app.mode {
        view.content = Some(JobDetails {
            job: app
                .snapshot
                .jobs
                .iter()
                .find(|j| j.id == 3)
                .unwrap()
                .clone(),
            events: vec![Event {
                id: 1,
                at: t(8),
                job: Some(3),
                kind: "status".into(),
                message:
                    "asking by title: /^\\[ . \\] Action Required/ on \"[ ! ] Action Required\""
                        .into(),
            }],
            attempts: Vec::new(),
            sources: Vec::new(),
            after: Vec::new(),
        });
    }
    app
}

fn answered(key_text: &str) -> Vec<Intent> {
    vec![Intent::Command {
        kind: CommandKind::Answer,
        job: Some(3),
        text: Some(key_text.into()),
    }]
}

#[test]
fn the_details_show_claudes_question_and_a_digit_answers_it() {
    let mut app = asking(CLAUDE_ASK);
    let screen = render(&app, 160, 48);
    assert!(screen.contains("The agent asks"), "{screen}");
    assert!(screen.contains("Do you want to proceed?"), "{screen}");
    assert!(screen.contains("[1] Yes"), "{screen}");
    assert!(screen.contains("[3] No"), "{screen}");
    // What decided the status, from the same model as `explain`.
    assert!(
        screen.contains("agent: asking by its title at "),
        "{screen}"
    );
    // A key no choice has does nothing.
    assert!(handle_key(&mut app, key('7')).is_empty());
    assert_eq!(handle_key(&mut app, key('3')), answered("3"));
    assert!(
        app.message
            .as_deref()
            .unwrap_or("")
            .contains("answer #3 with 3"),
        "{:?}",
        app.message
    );
    assert!(
        matches!(app.mode, Mode::Details(_)),
        "the details stay open"
    );
}

#[test]
fn codex_is_answered_with_its_own_shortcuts() {
    let mut app = asking(CODEX_ASK);
    let screen = render(&app, 160, 48);
    assert!(
        screen.contains("Would you like to run the following command?"),
        "{screen}"
    );
    assert!(screen.contains("[1] Yes, proceed"), "{screen}");
    assert_eq!(handle_key(&mut app, key('1')), answered("y"));
    assert_eq!(handle_key(&mut app, key('2')), answered("2"));
    assert_eq!(handle_key(&mut app, key('3')), answered("Escape"));
    // Esc still closes the view; it answers nothing.
    assert!(handle_key(&mut app, code(KeyCode::Esc)).is_empty());
    assert!(matches!(app.mode, Mode::Normal));
}

#[test]
fn no_answer_once_the_job_no_longer_asks() {
    let mut app = asking(CLAUDE_ASK);
    let mut snap = app.snapshot.clone();
    for j in &mut snap.jobs {
        if j.id == 3 {
            j.state = JobState::Running {
                attempt: 1,
                since: t(10),
            };
        }
    }
    app.set_snapshot(snap);
    assert!(!render(&app, 160, 48).contains("The agent asks"));
    assert!(
        handle_key(&mut app, key('1')).is_empty(),
        "nothing to answer"
    );
}

#[test]
fn the_details_of_a_working_job_take_no_answer_keys() {
    let mut app = sample();
    handle_key(&mut app, code(KeyCode::Enter));
    assert!(matches!(&app.mode, Mode::Details(v) if v.job == 1));
    assert!(handle_key(&mut app, key('1')).is_empty());
    assert!(handle_key(&mut app, key('y')).is_empty());
}

#[test]
fn a_nudge_to_the_asking_job_is_refused_with_the_hint() {
    let mut app = sample();
    app.set_selection(Pane::Queue, 1);
    assert!(handle_key(&mut app, key('n')).is_empty());
    assert!(matches!(app.mode, Mode::Normal));
    let said = app.message.clone().unwrap_or_default();
    assert!(said.contains("switchboard answer 3"), "{said}");
}
