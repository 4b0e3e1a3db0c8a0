//! Keys in each mode that opens over the panes, the mouse, and the
//! notifications.

use ratatui::crossterm::event::{KeyCode, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};

use super::*;
use crate::config::{Desktop, Notify};
use crate::journal::CommandKind;
use crate::tui::app::{DiffView, Mode, Pane, Purpose, Scrolled};
use crate::tui::form::{DispatchRefused, DispatchRequest, Field};
use crate::tui::notice;
use crate::tui::update::{Intent, dispatched, handle_key, handle_mouse};

#[test]
fn the_dispatch_form_submits_with_ctrl_s() {
    let mut app = sample();
    handle_key(&mut app, key('d'));
    type_text(&mut app, "add a");
    handle_key(&mut app, code(KeyCode::Enter));
    type_text(&mut app, "health check");
    // Back to the project picker: web; the agent: claude; priority 7.
    handle_key(&mut app, code(KeyCode::Tab));
    let Mode::Dispatch(form) = &app.mode else {
        panic!("the form is open")
    };
    assert_eq!(form.field, Field::Project, "Tab wraps around");
    handle_key(&mut app, code(KeyCode::Right));
    handle_key(&mut app, code(KeyCode::Tab));
    handle_key(&mut app, code(KeyCode::Right));
    handle_key(&mut app, code(KeyCode::Tab));
    handle_key(&mut app, code(KeyCode::Backspace));
    type_text(&mut app, "7x");
    let intents = handle_key(&mut app, ctrl('s'));
    assert_eq!(
        intents,
        vec![Intent::Dispatch(DispatchRequest {
            project: "web".into(),
            agent: Some("claude".into()),
            priority: 7,
            after: vec![],
            prompt: "add a\nhealth check".into(),
        })]
    );
    assert!(
        matches!(app.mode, Mode::Dispatch(_)),
        "open until the room says the job is queued"
    );
    dispatched(&mut app, Ok(4));
    assert!(matches!(app.mode, Mode::Normal));
    assert_eq!(app.selected_job(), Some(4));
    assert_eq!(app.message.as_deref(), Some("queued #4"));
}

/// The form's After field: job ids as `dispatch --after` takes them; what
/// is not one is refused in the form, in the command line's words, and a
/// refusal of the journal's check (`check_after`) puts the cursor there.
#[test]
fn the_dispatch_form_takes_the_jobs_it_waits_for() {
    let mut app = sample();
    handle_key(&mut app, key('d'));
    type_text(&mut app, "after the others");
    // Prompt → (BackTab) After.
    handle_key(&mut app, code(KeyCode::BackTab));
    let Mode::Dispatch(form) = &app.mode else {
        panic!("the form is open")
    };
    assert_eq!(form.field, Field::After);
    type_text(&mut app, "3, x");
    assert!(handle_key(&mut app, ctrl('s')).is_empty(), "not sent");
    let Mode::Dispatch(form) = &app.mode else {
        panic!("the form stays")
    };
    assert_eq!(
        form.error.as_deref(),
        Some(crate::scheduler::parse_after("3, x").unwrap_err().as_str())
    );
    assert_eq!(form.field, Field::After);
    handle_key(&mut app, code(KeyCode::Backspace));
    type_text(&mut app, "#1,3");
    assert_eq!(
        handle_key(&mut app, ctrl('s')),
        vec![Intent::Dispatch(DispatchRequest {
            project: "api".into(),
            agent: None,
            priority: 0,
            // As typed: `dispatch` takes each once, in order.
            after: vec![3, 1, 3],
            prompt: "after the others".into(),
        })]
    );
    // The journal refuses a job that does not exist: the reason, and the
    // cursor back on After, from the prompt.
    let Mode::Dispatch(form) = &mut app.mode else {
        panic!("open until queued")
    };
    form.field = Field::Prompt;
    let why = crate::scheduler::AfterError::Unknown(3).to_string();
    dispatched(
        &mut app,
        Err(DispatchRefused {
            why: why.clone(),
            field: Some(Field::After),
        }),
    );
    let Mode::Dispatch(form) = &app.mode else {
        panic!("the form stays")
    };
    assert_eq!(form.field, Field::After);
    assert_eq!(form.after.lines(), ["3, #1,3"]);
    assert_eq!(
        form.error.as_deref(),
        Some(format!("not dispatched: {why}").as_str())
    );
    let screen = render(&app, 160, 48);
    assert!(
        screen.contains("there is no job #3 to wait for"),
        "{screen}"
    );
    assert!(screen.contains("After    3, #1,3"), "{screen}");
}

#[test]
fn the_form_marks_agents_not_installed_and_rows_say_when_auto_runs_the_demo() {
    let mut app = sample();
    let mut snap = app.snapshot.clone();
    snap.missing_agents = vec!["claude".into()];
    snap.demo_fallback = [4].into();
    app.set_snapshot(snap);
    let screen = render(&app, 240, 48);
    let row = screen
        .lines()
        .find(|l| l.contains("add rate limiting"))
        .unwrap_or_default();
    assert!(row.contains("demo (no agent installed)"), "{screen}");
    let others = screen.matches("no agent installed").count();
    assert_eq!(others, 1, "only #4 leaves its agent to auto: {screen}");
    handle_key(&mut app, key('d'));
    // The agent picker: claude (not installed), then demo.
    for k in [KeyCode::Tab, KeyCode::Tab, KeyCode::Right] {
        handle_key(&mut app, code(k));
    }
    assert!(
        render(&app, 160, 48).contains("claude (not installed)"),
        "{}",
        render(&app, 160, 48)
    );
    handle_key(&mut app, code(KeyCode::Right));
    let screen = render(&app, 160, 48);
    assert!(screen.contains("‹ demo ›"), "{screen}");
    assert!(!screen.contains("not installed"), "{screen}");
}

/// The form checks nothing of the task itself: an empty prompt goes the
/// one way every task goes and comes back refused in `dispatch`'s words,
/// the cursor on the prompt; a second Ctrl-S while the first is out
/// sends nothing; Esc cancels.
#[test]
fn an_empty_prompt_is_refused_by_the_one_path_and_esc_cancels() {
    let mut app = sample();
    handle_key(&mut app, key('d'));
    handle_key(&mut app, code(KeyCode::BackTab));
    let intents = handle_key(&mut app, ctrl('s'));
    assert!(
        matches!(&intents[..], [Intent::Dispatch(r)] if r.prompt.is_empty()),
        "{intents:?}"
    );
    assert!(handle_key(&mut app, ctrl('s')).is_empty(), "sent once");
    assert!(render(&app, 160, 48).contains("dispatching…"));
    let why = "the prompt is empty; say what the agent should do";
    dispatched(&mut app, Err(why.into()));
    let Mode::Dispatch(form) = &app.mode else {
        panic!("still open")
    };
    assert_eq!(
        form.error.as_deref(),
        Some(format!("not dispatched: {why}").as_str())
    );
    assert_eq!(form.field, Field::Prompt, "where the fix goes");
    assert_eq!(
        handle_key(&mut app, ctrl('s')).len(),
        1,
        "may be sent again"
    );
    assert!(handle_key(&mut app, code(KeyCode::Esc)).is_empty());
    assert!(matches!(app.mode, Mode::Normal));
}

/// The answer comes back while the room went on: a form closed since,
/// or another one opened, is not touched; the status bar says it.
#[test]
fn a_late_answer_to_a_dispatch_leaves_a_new_form_alone() {
    let mut app = sample();
    handle_key(&mut app, key('d'));
    type_text(&mut app, "first");
    assert_eq!(handle_key(&mut app, ctrl('s')).len(), 1);
    handle_key(&mut app, code(KeyCode::Esc));
    handle_key(&mut app, key('d'));
    type_text(&mut app, "second");
    dispatched(&mut app, Err("no agent profile \"gone\"".into()));
    let Mode::Dispatch(form) = &app.mode else {
        panic!("the new form stays open")
    };
    assert_eq!(form.error, None);
    assert_eq!(form.prompt.lines(), ["second"]);
    assert_eq!(
        app.message.as_deref(),
        Some("not dispatched: no agent profile \"gone\"")
    );
    dispatched(&mut app, Ok(4));
    assert!(matches!(app.mode, Mode::Dispatch(_)), "still the new form");
    assert_eq!(app.message.as_deref(), Some("queued #4"));
}

#[test]
fn on_first_run_the_form_starts_on_the_prompt_and_offers_a_path() {
    let mut app = App::new(EngineState::Running);
    app.here = Some("/src/api".into());
    handle_key(&mut app, key('d'));
    let Mode::Dispatch(form) = &app.mode else {
        panic!("open")
    };
    assert!(form.wants_path());
    assert_eq!(form.field, Field::Prompt, "typing goes to the prompt");
    type_text(&mut app, "hello");
    // Back to the path (After, Priority, Agent, Path): the operator types
    // another.
    for _ in 0..4 {
        handle_key(&mut app, code(KeyCode::BackTab));
    }
    let Mode::Dispatch(form) = &app.mode else {
        panic!("open")
    };
    assert_eq!(form.field, Field::Path);
    assert_eq!(
        form.path.lines(),
        ["/src/api"],
        "the prompt's text stayed there"
    );
    for _ in 0.."/src/api".len() {
        handle_key(&mut app, code(KeyCode::Backspace));
    }
    type_text(&mut app, "/src/web");
    assert_eq!(
        handle_key(&mut app, ctrl('s')),
        vec![Intent::Dispatch(DispatchRequest {
            project: "/src/web".into(),
            agent: None,
            priority: 0,
            after: vec![],
            prompt: "hello".into(),
        })]
    );
}

#[test]
fn a_refused_dispatch_keeps_the_form_its_text_and_the_whole_reason() {
    let mut app = App::new(EngineState::Running);
    app.area = ratatui::layout::Rect::new(0, 0, 80, 24);
    handle_key(&mut app, key('d'));
    type_text(&mut app, "write the docs");
    handle_key(&mut app, ctrl('s'));
    let why = "no project named \"/tmp/nowhere\" and no directory at that path; \
               register one with `switchboard project add NAME PATH` or give a repository path";
    dispatched(&mut app, Err(why.into()));
    let Mode::Dispatch(form) = &app.mode else {
        panic!("the form stays")
    };
    assert_eq!(form.prompt.lines(), ["write the docs"]);
    assert_eq!(
        form.error.as_deref(),
        Some(format!("not dispatched: {why}").as_str())
    );
    assert_eq!(form.field, Field::Path, "where the fix goes");
    // All of it on screen, at the smallest size too.
    let screen: String = render(&app, 80, 24).split_whitespace().collect();
    let said: String = why.split_whitespace().collect();
    assert!(
        screen.replace(['│'], "").contains(&said),
        "{}",
        render(&app, 80, 24)
    );
}

#[test]
fn a_tilde_is_the_home_directory() {
    use crate::tui::form::expand_tilde;
    let home = std::path::Path::new("/home/op");
    assert_eq!(expand_tilde("~/src/api", Some(home)), "/home/op/src/api");
    assert_eq!(expand_tilde("~", Some(home)), "/home/op");
    assert_eq!(expand_tilde("~bob/x", Some(home)), "~bob/x");
    assert_eq!(expand_tilde("/a/~/b", Some(home)), "/a/~/b");
    assert_eq!(expand_tilde("~/x", None), "~/x");
}

#[test]
fn nudge_and_reject_send_their_text() {
    let mut app = sample();
    app.mode = Mode::Text(Purpose::Nudge(1), Default::default());
    type_text(&mut app, "use v2");
    handle_key(&mut app, code(KeyCode::Enter));
    type_text(&mut app, "thanks");
    assert_eq!(
        handle_key(&mut app, ctrl('s')),
        vec![Intent::Command {
            kind: CommandKind::Nudge,
            job: Some(1),
            text: Some("use v2\nthanks".into())
        }]
    );
    app.mode = Mode::Text(Purpose::Reject(2), Default::default());
    assert_eq!(
        handle_key(&mut app, ctrl('s')),
        vec![Intent::Command {
            kind: CommandKind::Reject,
            job: Some(2),
            text: None
        }],
        "an empty reason is a plain rejection"
    );
    app.mode = Mode::Text(Purpose::Reject(2), Default::default());
    type_text(&mut app, "q");
    assert!(!app.quit, "q is a letter in a text box");
    assert!(handle_key(&mut app, code(KeyCode::Esc)).is_empty());
    assert!(matches!(app.mode, Mode::Normal));
}

#[test]
fn the_filter_narrows_the_queue_as_it_is_typed() {
    let mut app = sample();
    handle_key(&mut app, key('/'));
    type_text(&mut app, "RATE");
    assert_eq!(app.filter, "RATE");
    let ids: Vec<i64> = app.queue().iter().map(|j| j.id).collect();
    assert_eq!(ids, [4]);
    assert_eq!(app.selected_job(), Some(4));
    handle_key(&mut app, code(KeyCode::Enter));
    assert!(matches!(app.mode, Mode::Normal));
    assert_eq!(app.filter, "RATE", "Enter keeps it");
    handle_key(&mut app, key('/'));
    handle_key(&mut app, code(KeyCode::Esc));
    assert_eq!(app.filter, "", "Esc clears it");
    assert_eq!(app.queue().len(), 4);
}

#[test]
fn full_views_scroll_and_close() {
    let mut app = sample();
    let mut diff = Scrolled::new(2);
    diff.content = Some(DiffView::new(
        (0..100).map(|n| format!("+line {n}")).collect(),
        Vec::new(),
    ));
    app.mode = Mode::Diff(diff);
    // In the diff, up and down move the selected line; the view follows.
    let cursor = |app: &App| match &app.mode {
        Mode::Diff(v) => v.content.as_ref().map(|d| (d.cursor, v.scroll)),
        _ => None,
    };
    handle_key(&mut app, key('j'));
    handle_key(&mut app, key('j'));
    handle_key(&mut app, key('k'));
    assert_eq!(cursor(&app), Some((1, 0)));
    handle_key(&mut app, code(KeyCode::PageDown));
    assert!(cursor(&app).is_some_and(|(c, s)| c > 10 && s > 0 && c >= s));
    for _ in 0..50 {
        handle_key(&mut app, code(KeyCode::PageDown));
    }
    assert!(
        cursor(&app).is_some_and(|(c, _)| c == 99),
        "the selection stops at the last line"
    );
    handle_key(&mut app, key('q'));
    assert!(matches!(app.mode, Mode::Normal));
    assert!(!app.quit, "q leaves the view, not the room");
    app.mode = Mode::Details(Scrolled::new(1));
    handle_key(&mut app, code(KeyCode::Esc));
    assert!(matches!(app.mode, Mode::Normal));
    app.mode = Mode::Grid;
    handle_key(&mut app, key('g'));
    assert!(matches!(app.mode, Mode::Normal));
    app.mode = Mode::Help;
    handle_key(&mut app, key('x'));
    assert!(matches!(app.mode, Mode::Normal), "any key closes the help");
}

fn mouse(kind: MouseEventKind, column: u16, row: u16) -> MouseEvent {
    MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }
}

#[test]
fn a_click_selects_and_focuses_and_the_wheel_scrolls() {
    let mut app = sample();
    let layout = crate::tui::layout::RoomLayout::of(app.area);
    // The Review pane's first item: under its border and header.
    let review = layout.pane(Pane::Review);
    handle_mouse(
        &mut app,
        mouse(
            MouseEventKind::Down(MouseButton::Left),
            review.x + 3,
            review.y + 2,
        ),
    );
    assert_eq!(app.focus, Pane::Review);
    assert_eq!(app.selected_job(), Some(2));
    // The Queue's third row.
    let queue = layout.pane(Pane::Queue);
    handle_mouse(
        &mut app,
        mouse(
            MouseEventKind::Down(MouseButton::Left),
            queue.x + 3,
            queue.y + 3,
        ),
    );
    assert_eq!(app.focus, Pane::Queue);
    assert_eq!(app.selected_job(), Some(4));
    // Below the last row: focus, selection kept.
    handle_mouse(
        &mut app,
        mouse(
            MouseEventKind::Down(MouseButton::Left),
            queue.x + 3,
            queue.y + 20,
        ),
    );
    assert_eq!(app.selected_job(), Some(4));
    // The wheel over Live scrolls it back; over the Queue it moves.
    let raw: String = (1..=100).map(|i| format!("line {i}\n")).collect();
    app.set_live(Some(4), read_capture(&raw), None, t(10));
    let live = layout.pane(Pane::Live);
    handle_mouse(
        &mut app,
        mouse(MouseEventKind::ScrollUp, live.x + 2, live.y + 2),
    );
    assert_eq!(app.live.scroll, 3);
    handle_mouse(
        &mut app,
        mouse(MouseEventKind::ScrollDown, queue.x + 2, queue.y + 2),
    );
    assert_eq!(app.selected_job(), Some(2));
    app.mode = Mode::Diff(Scrolled::new(2));
    handle_mouse(&mut app, mouse(MouseEventKind::ScrollDown, 5, 5));
    assert!(matches!(&app.mode, Mode::Diff(v) if v.scroll == 3));
}

#[test]
fn an_agent_that_asks_and_new_review_work_call_the_operator() {
    let before = snapshot();
    let mut after = snapshot();
    assert!(notice::news(&before, &after).is_empty(), "nothing new");
    after.jobs[0].state = JobState::Waiting {
        attempt: 1,
        since: t(10),
        question: "Allow\x1b]0;evil\x07 rm?".into(),
    };
    after.reviews.push(ReviewView {
        job: 4,
        state: "ready".into(),
        branch: "switchboard/4".into(),
        ..before.reviews[0].clone()
    });
    let news = notice::news(&before, &after);
    assert_eq!(news.len(), 2, "{news:?}");
    assert!(news[0].starts_with("#1 asks: Allow"));
    assert_eq!(news[1], "#4 is ready for review (switchboard/4)");
    let bytes = notice::bytes(
        &news,
        &Notify {
            bell: true,
            desktop: Desktop::Osc777,
        },
        false,
    );
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with('\x07'), "the bell first");
    assert!(text.contains("\x1b]777;notify;switchboard;#4 is ready for review"));
    assert_eq!(
        text.matches('\x1b').count(),
        2,
        "the agent's escape cannot open another sequence: {text:?}"
    );
    let quiet = notice::bytes(
        &news,
        &Notify {
            bell: false,
            desktop: Desktop::Off,
        },
        false,
    );
    assert!(quiet.is_empty());
    let osc9 = Notify {
        bell: false,
        desktop: Desktop::Osc9,
    };
    assert_eq!(
        String::from_utf8(notice::bytes(&news[1..], &osc9, false)).unwrap(),
        "\x1b]9;switchboard: #4 is ready for review (switchboard/4)\x07"
    );
    assert_eq!(
        String::from_utf8(notice::bytes(&news[1..], &osc9, true)).unwrap(),
        "\x1bPtmux;\x1b\x1b]9;switchboard: #4 is ready for review (switchboard/4)\x07\x1b\\",
        "inside tmux, wrapped for passthrough"
    );
}

/// Every action in the full views and the help: they scroll, close, or do
/// nothing; none sends a command or quits the room.
#[test]
fn every_action_in_every_full_view() {
    use crate::tui::action::Action;
    use crate::tui::update::update;
    let views: Vec<(&str, Mode)> = vec![
        ("details", Mode::Details(Scrolled::new(1))),
        ("diff", {
            let mut d = Scrolled::new(2);
            d.content = Some(DiffView::new(vec!["+a".into(); 100], Vec::new()));
            Mode::Diff(d)
        }),
        ("grid", Mode::Grid),
        ("help", Mode::Help),
    ];
    for (name, mode) in views {
        for action in Action::ALL {
            let mut app = sample();
            app.mode = mode.clone();
            let intents = update(&mut app, action);
            assert!(intents.is_empty(), "{name} {action:?}: {intents:?}");
            assert!(!app.quit, "{name} {action:?} quit the room");
            // In the grid, Enter is the selected tile's details (there is
            // no tile here), so only Back, Quit and Grid close it.
            let closes = name == "help"
                || matches!(action, Action::Back | Action::Quit | Action::Grid)
                || (name != "grid" && matches!(action, Action::Details | Action::Diff));
            // The diff's own reject opens the reject box on its job, its
            // approve the question.
            let expected = if name == "diff" && matches!(action, Action::Reject | Action::Approve) {
                "other"
            } else if closes {
                "normal"
            } else if action == Action::Help {
                "help"
            } else {
                name
            };
            let now = match &app.mode {
                Mode::Normal => "normal",
                Mode::Help => "help",
                Mode::Details(_) => "details",
                Mode::Diff(_) => "diff",
                Mode::Grid => "grid",
                _ => "other",
            };
            assert_eq!(now, expected, "{name} {action:?}");
        }
    }
}

/// Every action in the main view does something visible: a mode, an
/// intent, a message, a moved focus or selection, or quitting.
#[test]
fn every_action_in_the_main_view_has_an_effect() {
    use crate::tui::action::Action;
    use crate::tui::update::update;
    for action in Action::ALL {
        let mut app = sample();
        app.focus = Pane::Review;
        app.set_selection(Pane::Review, 0);
        app.set_filter("doc".into());
        app.message = Some("before".into());
        let before = (
            app.focus,
            app.selection(Pane::Review),
            app.filter.clone(),
            app.message.clone(),
        );
        let intents = update(&mut app, action);
        let changed = !intents.is_empty()
            || !matches!(app.mode, Mode::Normal)
            || app.quit
            || (
                app.focus,
                app.selection(Pane::Review),
                app.filter.clone(),
                app.message.clone(),
            ) != before;
        // Yes with no question, and Down/PageDown on the last row, rightly
        // do nothing.
        let idle = matches!(
            action,
            Action::Yes | Action::Down | Action::PageDown | Action::Up | Action::PageUp
        );
        assert!(changed || idle, "{action:?} did nothing");
    }
}

#[test]
fn a_job_that_waits_for_others_shows_them_in_the_queue_and_its_details() {
    use crate::journal::JobDetails;
    use crate::scheduler::AfterState;
    let mut app = sample();
    let mut snap = snapshot();
    snap.jobs[3].reason = Some("after #1 (running), #2 (in review)".into());
    snap.jobs[3].after = vec![1, 2];
    app.set_snapshot(snap);
    let screen = render(&app, 200, 48);
    assert!(
        screen.contains("add rate limiting — after #1 (running), #2 (in review)"),
        "{screen}"
    );
    let mut view = crate::tui::app::Scrolled::new(4);
    view.content = Some(JobDetails {
        job: app.snapshot.jobs[3].clone(),
        events: Vec::new(),
        attempts: Vec::new(),
        sources: Vec::new(),
        after: vec![(1, AfterState::Running), (2, AfterState::InReview)],
    });
    app.mode = crate::tui::app::Mode::Details(view);
    let screen = render(&app, 200, 48);
    assert!(
        screen.contains("starts after #1 (running), #2 (in review)"),
        "{screen}"
    );
}

/// 200 agents in the grid: only the page on screen is watched (captured)
/// and drawn, and moving past its last tile turns the page.
#[test]
fn the_grid_watches_only_the_tiles_on_screen() {
    use crate::model::JobState;
    let mut app = sample();
    app.snapshot.jobs = (1..=200)
        .map(|id| {
            super::job(
                id,
                JobState::Running {
                    attempt: 1,
                    since: super::t(1),
                },
                "quiet",
            )
        })
        .collect();
    app.set_snapshot(app.snapshot.clone());
    app.area = ratatui::layout::Rect::new(0, 0, 80, 24);
    app.mode = Mode::Grid;
    let watched = app.watched();
    let page = app.grid_page(&app.grid_agents());
    assert!(page.count < 20, "{page:?}");
    assert_eq!(watched.len(), page.count);
    assert_eq!(watched[0], (1, 1));
    // Past the page's last tile: the next page, holding the pick.
    for _ in 0..page.count {
        handle_key(&mut app, code(KeyCode::Down));
        app.grid = app
            .watched()
            .into_iter()
            .map(|(job, _)| crate::tui::app::GridCell {
                job,
                title: String::new(),
                text: Default::default(),
            })
            .collect();
    }
    let next = app.watched();
    assert_eq!(next.len(), page.count);
    assert_eq!(next[0].0, page.count as i64 + 1, "{next:?}");
    assert_eq!(app.grid_job(), Some(page.count as i64 + 1));
    let screen = render(&app, 80, 24);
    assert!(screen.contains("page 2 of"), "{screen}");
    assert!(!screen.contains("#1 "), "{screen}");
}
