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
    let raw: String = (1..=100).map(|i| format!("line {i}\n")).collect();
    app.set_live(
        Some(1),
        crate::tui::capture::read_capture(&raw),
        None,
        t(10),
    );
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
    // #4 is queued: nothing to retry, and the room says so in the CLI's words.
    assert!(handle_key(&mut app, key('r')).is_empty());
    assert_eq!(
        app.message.as_deref(),
        Some("job #4 is queued; only a failed or killed job can be retried")
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
    // Approve asks first, naming the branch, its diff stat and the base.
    assert!(handle_key(&mut app, key('y')).is_empty());
    assert!(matches!(
        app.mode,
        Mode::Confirm(Confirm::Approve { job: 2, .. })
    ));
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Merge job #2's switchboard/2 into main?")
            && screen.contains("2 files, +14 -3"),
        "{screen}"
    );
    // The yes carries the commit the question named: the engine merges
    // nothing if the branch moved on by the time it carries it out.
    let approve = vec![Intent::Command {
        kind: CommandKind::Approve,
        job: Some(2),
        text: Some(HEAD_2.into()),
    }];
    assert_eq!(handle_key(&mut app, key('y')), approve);
    // Configured off: approve merges at once, the commit shown with it.
    app.confirm_approve = false;
    assert_eq!(handle_key(&mut app, key('y')), approve);
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

/// A drain says in the status bar how it ends, as a pause does.
#[test]
fn the_status_bar_of_a_draining_engine_names_the_key_that_resumes() {
    let mut app = sample();
    app.engine = EngineState::Draining;
    let screen = render(&app, 160, 48);
    assert!(
        screen.contains("draining: nothing new starts (D resumes)"),
        "{screen}"
    );
}

#[test]
fn r_on_a_done_job_says_why_and_sends_nothing() {
    let mut app = sample();
    app.select_job(2);
    assert!(handle_key(&mut app, key('r')).is_empty());
    assert_eq!(
        app.message.as_deref(),
        Some("job #2 is done; only a failed or killed job can be retried")
    );
}

#[test]
fn the_chains_pane_points_at_its_job() {
    let mut app = sample();
    app.focus = Pane::Chains;
    assert_eq!(app.selected_job(), Some(3));
    handle_key(&mut app, key('K'));
    assert!(matches!(app.mode, Mode::Confirm(Confirm::Kill(3))));
}

/// The snapshot with job `id` moved to `state`.
fn moved(app: &App, id: i64, state: JobState) -> Snapshot {
    let mut snap = app.snapshot.clone();
    for job in &mut snap.jobs {
        if job.id == id {
            job.state = state.clone();
        }
    }
    snap
}

#[test]
fn the_selection_follows_its_job_through_reorders_and_filters() {
    let mut app = sample();
    assert_eq!(app.selected_job(), Some(1), "the first row, pinned");
    // #1 finishes: it moves to the bottom, and stays selected.
    let done = JobState::Done {
        attempt: 1,
        at: t(11),
    };
    app.set_snapshot(moved(&app, 1, done));
    assert_eq!(app.selected_job(), Some(1));
    assert_eq!(app.selection(Pane::Queue), 3);
    // Select #4 (queued), then a new job starts above it.
    app.select_job(4);
    let mut snap = app.snapshot.clone();
    let mut new = snap.jobs[0].clone();
    new.id = 5;
    new.state = JobState::Running {
        attempt: 1,
        since: t(12),
    };
    snap.jobs.push(new);
    app.set_snapshot(snap);
    assert_eq!(app.selected_job(), Some(4));
    assert_eq!(app.queue()[app.selection(Pane::Queue)].id, 4);
    assert_eq!(app.watched(), vec![], "Live shows #4, which has no agent");
    // A filter that hides #4, then none: #4 again.
    app.set_filter("docs".into());
    assert_eq!(app.selected_job(), Some(2), "the only row shown");
    app.set_filter(String::new());
    assert_eq!(app.selected_job(), Some(4));
    // The same through the filter's keys.
    handle_key(&mut app, key('/'));
    type_text(&mut app, "login");
    handle_key(&mut app, code(KeyCode::Esc));
    assert_eq!(app.selected_job(), Some(4));
}

#[test]
fn a_question_about_a_job_that_ended_is_withdrawn() {
    let mut app = sample();
    handle_key(&mut app, key('K'));
    assert!(matches!(app.mode, Mode::Confirm(Confirm::Kill(1))));
    // #1 finishes before the operator answers.
    let done = JobState::Done {
        attempt: 1,
        at: t(11),
    };
    app.set_snapshot(moved(&app, 1, done));
    assert!(matches!(app.mode, Mode::Normal), "the question is gone");
    assert_eq!(
        app.message.as_deref(),
        Some("kill of #1 cancelled: job #1 is already done; there is nothing to kill")
    );
    // The Enter meant for the question kills nothing (it opens details of #1).
    let intents = handle_key(&mut app, code(KeyCode::Enter));
    assert!(
        !intents.iter().any(|i| matches!(i, Intent::Command { .. })),
        "{intents:?}"
    );
    // A Yes that races the snapshot is checked again too.
    let mut app = sample();
    handle_key(&mut app, key('K'));
    app.snapshot = moved(
        &app,
        1,
        JobState::Done {
            attempt: 1,
            at: t(11),
        },
    );
    assert!(handle_key(&mut app, key('y')).is_empty());
    assert!(app.message.as_deref().unwrap_or("").contains("cancelled"));
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
    assert!(
        app.message
            .as_deref()
            .unwrap_or("")
            .contains("no agent session"),
        "{:?}",
        app.message
    );
}

#[test]
fn nudge_opens_a_text_box_for_a_job_with_an_agent() {
    let mut app = sample();
    app.set_selection(Pane::Queue, 2);
    handle_key(&mut app, key('n'));
    assert!(matches!(app.mode, Mode::Normal), "#4 has no agent");
    // #3's agent asks a question: a nudge would be typed into it.
    app.set_selection(Pane::Queue, 1);
    handle_key(&mut app, key('n'));
    assert!(matches!(app.mode, Mode::Normal), "#3 is asking");
    assert!(
        app.message
            .as_deref()
            .unwrap_or("")
            .contains("switchboard answer 3"),
        "{:?}",
        app.message
    );
    app.set_selection(Pane::Queue, 0);
    handle_key(&mut app, key('n'));
    assert!(matches!(app.mode, Mode::Text(Purpose::Nudge(1), _)));
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

/// The diff view offers approve as it offers reject: the same question
/// as from the list, for the job whose diff is shown.
#[test]
fn approve_from_the_diff_view_asks_the_same_question() {
    let mut app = sample();
    app.focus = Pane::Review;
    assert_eq!(handle_key(&mut app, key('v')), vec![Intent::LoadDiff(2)]);
    // The selection moves away; the view's job is the one approved.
    app.focus = Pane::Queue;
    assert!(handle_key(&mut app, key('y')).is_empty());
    assert!(matches!(
        app.mode,
        Mode::Confirm(Confirm::Approve { job: 2, .. })
    ));
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("Merge job #2's switchboard/2 into main?"),
        "{screen}"
    );
    assert_eq!(
        handle_key(&mut app, key('y')),
        vec![Intent::Command {
            kind: CommandKind::Approve,
            job: Some(2),
            text: Some(HEAD_2.into()),
        }]
    );
    // The footer of the diff view names it.
    app.mode = Mode::Normal;
    app.focus = Pane::Review;
    handle_key(&mut app, key('v'));
    let screen = render(&app, 160, 48);
    assert!(screen.contains("approve"), "{screen}");
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
    app.set_filter("x".into());
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

#[test]
fn live_wraps_long_lines_and_its_counter_stops_with_the_view() {
    let mut app = sample();
    app.area = ratatui::layout::Rect::new(0, 0, 80, 24);
    let mut raw: String = (1..=60).map(|i| format!("line {i}\n")).collect();
    raw.push_str(&format!(
        "{} Proceed with changes to DEMO.md? [y/n]",
        "x".repeat(70)
    ));
    app.set_live(
        Some(1),
        crate::tui::capture::read_capture(&raw),
        Some("asking"),
        t(10),
    );
    let screen = render(&app, 80, 24);
    assert!(
        screen.contains("[y/n]"),
        "the end of a long line shows:\n{screen}"
    );
    // Scrolled back as far as it goes: more k moves neither view nor counter.
    app.focus = Pane::Live;
    for _ in 0..500 {
        handle_key(&mut app, key('k'));
    }
    let top = app.live.scroll;
    assert!(top > 0 && top < 500, "{top}");
    let before = render(&app, 80, 24);
    handle_key(&mut app, key('k'));
    assert_eq!(app.live.scroll, top);
    assert_eq!(render(&app, 80, 24), before);
    assert!(
        before.contains("line 1\u{20}"),
        "the first line is in view:\n{before}"
    );
    assert!(before.contains(&format!("↑{top}")), "{before}");
}

#[test]
fn the_grid_tiles_are_selected_and_acted_on() {
    use crate::tui::app::GridCell;
    let mut app = sample();
    handle_key(&mut app, key('g'));
    app.grid = [1, 3]
        .map(|job| GridCell {
            job,
            title: format!("job {job}"),
            text: Default::default(),
        })
        .to_vec();
    assert_eq!(app.grid_job(), Some(1), "the first tile");
    handle_key(&mut app, key('j'));
    assert_eq!(app.grid_job(), Some(3));
    // #3 asks: a nudge is refused with the gate's words; attach goes.
    assert!(handle_key(&mut app, key('n')).is_empty());
    assert!(matches!(app.mode, Mode::Grid));
    assert!(app.message.as_deref().unwrap_or("").contains("asking"));
    assert_eq!(
        handle_key(&mut app, key('a')),
        vec![Intent::Attach { job: 3, attempt: 1 }]
    );
    handle_key(&mut app, code(KeyCode::Tab));
    assert_eq!(app.grid_job(), Some(1), "Tab wraps around");
    handle_key(&mut app, key('n'));
    assert!(matches!(app.mode, Mode::Text(Purpose::Nudge(1), _)));
    app.mode = Mode::Grid;
    assert_eq!(
        handle_key(&mut app, code(KeyCode::Enter)),
        vec![Intent::LoadDetails(1)]
    );
    assert!(matches!(&app.mode, Mode::Details(v) if v.job == 1));
    app.mode = Mode::Grid;
    let screen = render(&app, 120, 36);
    assert!(
        screen.contains("Enter details") && screen.contains("a attach"),
        "{screen}"
    );
    handle_key(&mut app, code(KeyCode::Esc));
    assert!(matches!(app.mode, Mode::Normal));
}

#[test]
fn p_pauses_the_queue_and_resumes_it_and_the_status_bar_says_so() {
    let mut app = sample();
    let bar = |app: &App| {
        render(app, 160, 48)
            .lines()
            .find(|l| l.contains("agents 2/8"))
            .unwrap_or_default()
            .to_string()
    };
    assert!(!bar(&app).contains("paused"), "{}", bar(&app));
    assert_eq!(
        handle_key(&mut app, key('P')),
        command(CommandKind::Pause, None)
    );
    // The room learns of the pause from the home (the engine carried it
    // out), whichever process runs the engine.
    app.paused = true;
    assert!(
        bar(&app).contains("engine running │ ⏸ paused: nothing new starts (P resumes)"),
        "{}",
        bar(&app)
    );
    assert_eq!(
        handle_key(&mut app, key('P')),
        command(CommandKind::Resume, None)
    );
    app.engine = EngineState::Viewer;
    assert!(bar(&app).contains("⏸ paused"), "viewers see it too");
    // The help lists the key.
    handle_key(&mut app, key('?'));
    assert!(render(&app, 160, 48).contains("pause/resume"));
}

/// The approve question names the work it merges; when that work moves
/// on while the question is open (the agent committed more, the branch
/// or the base changed), a yes does not approve what the operator did not
/// see: the question is withdrawn, and says why.
#[test]
fn an_approve_question_is_withdrawn_when_the_work_it_named_changes() {
    type Change = fn(&mut Snapshot);
    let changes: [(&str, Change); 5] = [
        ("another commit", |s| {
            s.reviews[0].head = Some("feed".into())
        }),
        ("more lines", |s| s.reviews[0].insertions += 5),
        ("another file", |s| s.reviews[0].files += 1),
        ("another branch", |s| s.reviews[0].branch = "other".into()),
        ("another base", |s| {
            let project = s.reviews[0].project.clone();
            s.bases.insert(project, "release".into());
        }),
    ];
    for (what, change) in changes {
        let mut app = sample();
        app.focus = Pane::Review;
        assert!(handle_key(&mut app, key('y')).is_empty());
        assert!(
            matches!(app.mode, Mode::Confirm(Confirm::Approve { job: 2, .. })),
            "{what}"
        );
        // The same work again: the question stands.
        app.set_snapshot(app.snapshot.clone());
        assert!(matches!(app.mode, Mode::Confirm(_)), "{what}");
        let mut moved = app.snapshot.clone();
        change(&mut moved);
        app.set_snapshot(moved);
        assert!(matches!(app.mode, Mode::Normal), "{what}");
        let said = app.message.clone().unwrap_or_default();
        assert!(
            said.starts_with("approve of #2 cancelled: its work changed"),
            "{what}: {said}"
        );
        // y asks again, about the work as it is now.
        assert!(handle_key(&mut app, key('y')).is_empty(), "{what}");
        assert!(matches!(app.mode, Mode::Confirm(_)), "{what}");
    }
}

/// A yes read in the same turn as the change (before the room set the
/// new snapshot's question aside) is checked again when it is read.
#[test]
fn a_yes_checks_the_work_named_again() {
    let mut app = sample();
    app.focus = Pane::Review;
    handle_key(&mut app, key('y'));
    let Mode::Confirm(Confirm::Approve { seen, .. }) = &mut app.mode else {
        panic!("asked")
    };
    seen.insertions += 1;
    assert!(handle_key(&mut app, key('y')).is_empty());
    assert!(
        app.message
            .as_deref()
            .unwrap_or("")
            .contains("its work changed since the question"),
        "{:?}",
        app.message
    );
}
