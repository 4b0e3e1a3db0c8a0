//! Every action of the main view, through the keymap.

use ratatui::crossterm::event::KeyCode;

use super::*;
use crate::journal::CommandKind;
use crate::tui::action::Action;
use crate::tui::app::{Confirm, Mode, Pane, Purpose};
use crate::tui::update::{Intent, handle_key, update};

fn command(kind: CommandKind, job: Option<i64>) -> Vec<Intent> {
    vec![Intent::Command {
        kind,
        job,
        text: None,
    }]
}

#[test]
fn the_queue_is_in_start_order() {
    let app = sample();
    let ids: Vec<i64> = app.queue().iter().map(|j| j.id).collect();
    assert_eq!(ids, [1, 3, 4, 2], "active, then queued, then over");
}

#[test]
fn focus_and_selection_move() {
    let mut app = sample();
    assert_eq!(handle_key(&mut app, code(KeyCode::Tab)), vec![]);
    assert_eq!(app.focus, Pane::Live);
    handle_key(&mut app, code(KeyCode::BackTab));
    handle_key(&mut app, code(KeyCode::BackTab));
    assert_eq!(app.focus, Pane::Review);
    handle_key(&mut app, code(KeyCode::Tab));
    assert_eq!(app.focus, Pane::Queue);
    handle_key(&mut app, key('j'));
    handle_key(&mut app, code(KeyCode::Down));
    assert_eq!(app.selected_job(), Some(4));
    for _ in 0..10 {
        handle_key(&mut app, key('j'));
    }
    assert_eq!(app.selected_job(), Some(2), "stops at the last row");
    handle_key(&mut app, key('k'));
    assert_eq!(app.selected_job(), Some(4));
    handle_key(&mut app, code(KeyCode::PageUp));
    assert_eq!(app.selected_job(), Some(1), "a page up reaches the top");
    handle_key(&mut app, code(KeyCode::PageDown));
    assert_eq!(app.selected_job(), Some(2));
}

#[test]
fn live_scrolls_back_and_follows_again() {
    let mut app = sample();
    app.focus = Pane::Live;
    handle_key(&mut app, key('k'));
    handle_key(&mut app, key('k'));
    assert_eq!(app.live.scroll, 2);
    handle_key(&mut app, key('j'));
    assert_eq!(app.live.scroll, 1);
    handle_key(&mut app, code(KeyCode::PageDown));
    assert_eq!(app.live.scroll, 0, "back to following new output");
    for _ in 0..1000 {
        handle_key(&mut app, key('k'));
    }
    assert!(app.live.scroll <= app.live.text.lines.len());
}

#[test]
fn retry_kill_approve_drain_and_resume_send_commands() {
    let mut app = sample();
    app.set_selection(Pane::Queue, 2);
    assert_eq!(
        handle_key(&mut app, key('r')),
        command(CommandKind::Retry, Some(4))
    );
    // Kill asks first; any key but y keeps the job.
    assert!(handle_key(&mut app, key('K')).is_empty());
    assert!(matches!(app.mode, Mode::Confirm(Confirm::Kill(4))));
    assert!(handle_key(&mut app, key('n')).is_empty());
    assert!(matches!(app.mode, Mode::Normal));
    handle_key(&mut app, key('K'));
    assert_eq!(
        handle_key(&mut app, key('y')),
        command(CommandKind::Kill, Some(4))
    );
    assert!(matches!(app.mode, Mode::Normal));
    // Approve needs a review item: #4 has none; the Review pane's has.
    assert!(handle_key(&mut app, key('y')).is_empty());
    assert!(
        app.message
            .as_deref()
            .unwrap_or("")
            .contains("nothing in review")
    );
    app.focus = Pane::Review;
    assert_eq!(
        handle_key(&mut app, key('y')),
        command(CommandKind::Approve, Some(2))
    );
    assert_eq!(
        handle_key(&mut app, key('D')),
        command(CommandKind::Drain, None)
    );
    app.engine = EngineState::Draining;
    assert_eq!(
        handle_key(&mut app, key('D')),
        command(CommandKind::Resume, None)
    );
}

#[test]
fn the_chains_pane_points_at_its_job() {
    let mut app = sample();
    app.focus = Pane::Chains;
    assert_eq!(app.selected_job(), Some(3));
    assert_eq!(
        handle_key(&mut app, key('r')),
        command(CommandKind::Retry, Some(3))
    );
}

#[test]
fn attach_goes_to_the_selected_agent_only() {
    let mut app = sample();
    assert_eq!(
        handle_key(&mut app, key('a')),
        vec![Intent::Attach { job: 1, attempt: 1 }]
    );
    app.set_selection(Pane::Queue, 2);
    assert_eq!(handle_key(&mut app, key('a')), vec![]);
    assert!(app.message.as_deref().unwrap_or("").contains("no agent"));
}

#[test]
fn nudge_opens_a_text_box_for_a_job_with_an_agent() {
    let mut app = sample();
    app.set_selection(Pane::Queue, 2);
    handle_key(&mut app, key('n'));
    assert!(matches!(app.mode, Mode::Normal), "#4 has no agent");
    app.set_selection(Pane::Queue, 1);
    handle_key(&mut app, key('n'));
    assert!(matches!(app.mode, Mode::Text(Purpose::Nudge(3), _)));
}

#[test]
fn reject_and_diff_open_for_a_review_item() {
    let mut app = sample();
    assert!(handle_key(&mut app, key('x')).is_empty());
    assert!(matches!(app.mode, Mode::Normal), "#1 has nothing in review");
    assert!(handle_key(&mut app, key('v')).is_empty());
    app.focus = Pane::Review;
    handle_key(&mut app, key('x'));
    assert!(matches!(app.mode, Mode::Text(Purpose::Reject(2), _)));
    app.mode = Mode::Normal;
    assert_eq!(handle_key(&mut app, key('v')), vec![Intent::LoadDiff(2)]);
    assert!(matches!(&app.mode, Mode::Diff(v) if v.job == 2));
}

#[test]
fn enter_opens_the_details_of_the_selection() {
    let mut app = sample();
    assert_eq!(
        handle_key(&mut app, code(KeyCode::Enter)),
        vec![Intent::LoadDetails(1)]
    );
    assert!(matches!(&app.mode, Mode::Details(v) if v.job == 1 && v.content.is_none()));
}

#[test]
fn dispatch_grid_filter_and_help_open_their_views() {
    let mut app = sample();
    handle_key(&mut app, key('d'));
    assert!(matches!(&app.mode, Mode::Dispatch(f) if f.projects[0] == "api"));
    app.mode = Mode::Normal;
    handle_key(&mut app, key('g'));
    assert!(matches!(app.mode, Mode::Grid));
    assert_eq!(
        app.watched(),
        vec![(1, 1), (3, 1)],
        "the grid watches every agent"
    );
    app.mode = Mode::Normal;
    assert_eq!(app.watched(), vec![(1, 1)], "else only the selected one");
    handle_key(&mut app, key('/'));
    assert!(matches!(app.mode, Mode::Filter(_)));
    app.mode = Mode::Normal;
    handle_key(&mut app, key('?'));
    assert!(matches!(app.mode, Mode::Help));
}

#[test]
fn escape_clears_the_filter_then_the_message_and_q_quits() {
    let mut app = sample();
    app.filter = "x".into();
    app.message = Some("hello".into());
    handle_key(&mut app, code(KeyCode::Esc));
    assert_eq!(app.filter, "");
    assert!(app.message.is_some());
    handle_key(&mut app, code(KeyCode::Esc));
    assert!(app.message.is_none());
    assert!(!app.quit);
    handle_key(&mut app, ctrl('c'));
    assert!(app.quit, "Ctrl-C quits too");
    let mut app = sample();
    handle_key(&mut app, key('q'));
    assert!(app.quit);
}

#[test]
fn the_keymap_comes_from_the_config() {
    let config = crate::config::Config::from_texts(
        Some("[keys]\ndispatch = \"ctrl-n\"\nnudge = \"d\"\n"),
        std::path::Path::new("config.toml"),
    )
    .unwrap();
    let mut app = sample();
    app.keymap = crate::tui::keymap::Keymap::new(&config.keys);
    handle_key(&mut app, ctrl('n'));
    assert!(matches!(app.mode, Mode::Dispatch(_)));
    app.mode = Mode::Normal;
    handle_key(&mut app, key('d'));
    assert!(
        matches!(app.mode, Mode::Text(Purpose::Nudge(1), _)),
        "d nudges now"
    );
    let help = app.keymap.help();
    assert!(help.contains(&("C-n".to_string(), "dispatch")), "{help:?}");
    // update() itself takes actions, whatever key brought them.
    app.mode = Mode::Normal;
    assert!(
        update(&mut app, Action::Yes).is_empty(),
        "yes with no question"
    );
}
