//! Every pane, modal, overlay, view and the grid, at 80×24 and 160×48.

use ratatui::style::Color;

use super::*;
use crate::journal::{Attempt, Event, JobDetails};
use crate::tui::app::{Confirm, GridCell, Mode, Pane, Purpose, Scrolled};
use crate::tui::update::handle_key;

/// Snapshots of `app` at both sizes, named `name_80x24` and `name_160x48`.
fn both(name: &str, app: &App) {
    insta::assert_snapshot!(format!("{name}_80x24"), render(app, 80, 24));
    insta::assert_snapshot!(format!("{name}_160x48"), render(app, 160, 48));
}

#[test]
fn the_room() {
    both("room", &sample());
}

#[test]
fn the_room_empty_on_first_run() {
    let mut app = App::new(EngineState::Running);
    app.snapshot.max_agents = 8;
    app.snapshot.now = Some(t(0));
    both("room_empty", &app);
}

#[test]
fn the_room_as_a_viewer_with_a_filter_and_the_agent_done() {
    let mut app = sample();
    app.engine = EngineState::Viewer;
    app.set_filter("login".into());
    app.set_live(Some(1), read_capture(DEMO_DONE), Some("idle"), t(10));
    app.focus = Pane::Live;
    both("room_viewer_filtered", &app);
    assert!(render(&app, 160, 48).contains("viewer: another process runs this home's engine"));
}

#[test]
fn the_help_overlay() {
    let mut app = sample();
    app.mode = Mode::Help;
    both("help", &app);
}

#[test]
fn the_kill_question() {
    let mut app = sample();
    app.mode = Mode::Confirm(Confirm::Kill(1));
    both("confirm_kill", &app);
}

#[test]
fn the_dispatch_form() {
    let mut app = sample();
    handle_key(&mut app, key('d'));
    type_text(&mut app, "add a health check");
    both("dispatch", &app);
}

#[test]
fn the_dispatch_form_on_first_run_offers_the_current_repository() {
    let mut app = App::new(EngineState::Running);
    app.here = Some("/home/op/src/api".into());
    app.profiles = vec!["demo".into()];
    handle_key(&mut app, key('d'));
    both("dispatch_first_run", &app);
    assert!(render(&app, 80, 24).contains("/home/op/src/api"));
}

#[test]
fn the_nudge_and_reject_boxes() {
    let mut app = sample();
    app.mode = Mode::Text(Purpose::Nudge(1), Default::default());
    type_text(&mut app, "use the v2 API");
    both("nudge", &app);
    app.mode = Mode::Text(Purpose::Reject(2), Default::default());
    both("reject", &app);
}

#[test]
fn the_filter_box() {
    let mut app = sample();
    handle_key(&mut app, key('/'));
    type_text(&mut app, "rate");
    both("filter", &app);
}

fn details() -> JobDetails {
    let snapshot = snapshot();
    let event = |id, minute, kind: &str, message: &str| Event {
        id,
        at: t(minute),
        job: Some(3),
        kind: kind.into(),
        message: message.into(),
    };
    JobDetails {
        job: snapshot.jobs[2].clone(),
        events: vec![
            event(1, 3, "queued", "incident for api from chain 1 (3 alarms)"),
            event(2, 3, "waiting", "repository of project api claimed by #1"),
            event(3, 5, "start", "agent 2 of 8; api 1 of 1"),
            event(4, 8, "waiting", "agent asks: Proceed? [y/n]"),
        ],
        attempts: vec![Attempt {
            job: 3,
            number: 1,
            session: "sb-3-1".into(),
            worktree: Some("/home/op/.local/share/switchboard/worktrees/job-3".into()),
            branch: Some("switchboard/3".into()),
            base_commit: Some("4b825dc".into()),
            started_at: t(5),
            ended_at: None,
            exit_code: None,
            restarts: 0,
        }],
        sources: vec![crate::journal::Origin {
            kind: crate::journal::OriginKind::Alarm,
            what: "alarm 2027-01-15T08:02:00Z ALARM HighCPU in 123456789012 (eu-west-1): CPU above 90%"
                .into(),
            // Journaled before intakes were recorded: shown as it was.
            intake: None,
            source: None,
            delivery: None,
        }],
        after: Vec::new(),
    }
}

#[test]
fn the_details_view() {
    let mut app = sample();
    let mut view = Scrolled::new(3);
    view.content = Some(details());
    app.mode = Mode::Details(view);
    both("details", &app);
    app.mode = Mode::Details(Scrolled::new(3));
    assert!(
        render(&app, 80, 24).contains("reading…"),
        "before the journal answers"
    );
}

#[test]
fn the_diff_view() {
    let mut app = sample();
    let mut view = Scrolled::new(2);
    view.content = Some(crate::tui::app::DiffView::new(
        "diff --git a/DOCS.md b/DOCS.md\n--- a/DOCS.md\n+++ b/DOCS.md\n@@ -1,3 +1,4 @@\n # Docs\n-old line\n+new line\n+another line"
            .lines()
            .map(str::to_string)
            .collect(),
        Vec::new(),
    ));
    app.mode = Mode::Diff(view);
    both("diff", &app);
    let buffer = draw(&app, 80, 24);
    let added = (0..24)
        .find(|y| buffer[(1, *y)].symbol() == "+" && buffer[(2, *y)].symbol() == "n")
        .expect("an added line");
    assert_eq!(buffer[(1, added)].fg, Color::Green, "added lines are green");
}

#[test]
fn the_grid_of_every_live_agent() {
    let mut app = sample();
    app.mode = Mode::Grid;
    app.grid = vec![
        GridCell {
            job: 1,
            title: "fix the login button".into(),
            text: read_capture(DEMO_BUSY),
        },
        GridCell {
            job: 3,
            title: "HighCPU in 123456789012".into(),
            text: read_capture(DEMO_DONE),
        },
    ];
    both("grid", &app);
    app.grid.clear();
    assert!(render(&app, 80, 24).contains("No agent is running."));
}

#[test]
fn live_keeps_the_agents_colours_and_no_color_drops_them() {
    let mut app = sample();
    let buffer = draw(&app, 160, 48);
    let spinner = buffer
        .content
        .iter()
        .find(|c| c.symbol() == "⠿")
        .expect("the spinner is on screen");
    assert_eq!(spinner.fg, Color::Yellow, "the demo agent prints it yellow");
    app.no_color = true;
    let buffer = draw(&app, 160, 48);
    assert!(
        buffer
            .content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset),
        "NO_COLOR: no colour anywhere"
    );
    assert!(
        buffer
            .content
            .iter()
            .any(|c| c.modifier.contains(ratatui::style::Modifier::REVERSED)),
        "the selection still shows"
    );
}

#[test]
fn live_scrolled_back_says_how_far() {
    let mut app = sample();
    let mut lines = Vec::new();
    for n in 1..=200 {
        lines.push(format!("output line {n}"));
    }
    app.set_live(
        Some(1),
        read_capture(&lines.join("\n")),
        Some("busy"),
        t(10),
    );
    let screen = render(&app, 160, 48);
    assert!(screen.contains("output line 200") && !screen.contains("output line 150"));
    app.live.scroll = 50;
    let screen = render(&app, 160, 48);
    assert!(screen.contains("↑50"), "{screen}");
    assert!(screen.contains("output line 150") && !screen.contains("output line 200"));
}

/// The three sizes the room was tried at.
const SIZES: [(u16, u16); 3] = [(80, 24), (120, 36), (200, 60)];

#[test]
fn the_help_is_whole_at_every_size() {
    let mut app = sample();
    app.mode = Mode::Help;
    for (w, h) in SIZES {
        let screen = render(&app, w, h);
        insta::assert_snapshot!(format!("help_{w}x{h}"), screen);
        for line in [
            "Mouse: click selects, the wheel scrolls.",
            "Keys are set under [keys] in config.toml.",
        ] {
            assert!(screen.contains(line), "{w}x{h} cuts {line:?}:\n{screen}");
        }
        for (keys, what) in app.keymap.help() {
            assert!(
                screen.contains(&keys) && screen.contains(what),
                "{w}x{h} lacks {keys} {what}"
            );
        }
    }
}

/// The footer in each situation: the keys that apply to the focused pane
/// and the selected job, and always help and quit.
#[test]
fn the_footer_offers_what_applies_at_every_size() {
    let situations: Vec<(&str, App)> = {
        let at = |focus: Pane, job: Option<i64>| {
            let mut app = sample();
            if let Some(id) = job {
                app.select_job(id);
            }
            app.focus = focus;
            app
        };
        let mut empty = App::new(EngineState::Running);
        empty.snapshot.max_agents = 8;
        let mut dispatch = sample();
        handle_key(&mut dispatch, key('d'));
        vec![
            ("queue, #1 running", at(Pane::Queue, Some(1))),
            ("queue, #3 waiting", at(Pane::Queue, Some(3))),
            ("queue, #4 queued", at(Pane::Queue, Some(4))),
            ("queue, #2 done, in review", at(Pane::Queue, Some(2))),
            ("live, #1 running", at(Pane::Live, Some(1))),
            ("review, #2", at(Pane::Review, None)),
            ("first run", empty),
            ("dispatch form", dispatch),
        ]
    };
    for (w, h) in SIZES {
        let mut out = String::new();
        for (what, app) in &situations {
            let screen = render(app, w, h);
            let footer = screen.lines().last().unwrap_or("").trim_end().to_string();
            if matches!(app.mode, Mode::Normal) {
                assert!(
                    footer.contains("? help") && footer.contains("quit"),
                    "{w}x{h} {what}: {footer}"
                );
            }
            out.push_str(&format!("{what:<28}|{footer}\n"));
        }
        insta::assert_snapshot!(format!("footer_{w}x{h}"), out);
    }
}

/// Nothing stale: a killed row says killed (not its last attempt's
/// failure), a merged job's Live says it ended, and the status bar has no
/// empty segment.
#[test]
fn nothing_stale_shows() {
    let mut app = sample();
    let mut snap = app.snapshot.clone();
    snap.jobs[1].state = JobState::Done {
        attempt: 1,
        at: t(9),
    };
    snap.jobs[3].state = JobState::Killed {
        reason: "killed by the operator".into(),
        at: t(9),
    };
    snap.jobs[3].reason = Some("attempt 1 failed: exit 1; retry at 08:09".into());
    snap.reviews[0].state = "merged".into();
    app.set_snapshot(snap);
    app.select_job(2);
    app.set_live(Some(2), Default::default(), None, t(9));
    let screen = render(&app, 160, 48);
    assert!(screen.contains("— killed: killed"), "{screen}");
    assert!(!screen.contains("attempt 1 failed"), "{screen}");
    assert!(
        screen.contains("#2 has ended (done, merged): its agent's session is closed."),
        "{screen}"
    );
    assert!(
        !screen.contains("waiting for the agent's screen"),
        "{screen}"
    );
    assert!(!screen.contains("output"), "no rising counter:\n{screen}");
    let mut empty = App::new(EngineState::Running);
    empty.snapshot.now = Some(t(0));
    let status = render(&empty, 80, 24)
        .lines()
        .nth(22)
        .unwrap_or("")
        .to_string();
    assert!(
        !status.contains("│ │") && !status.contains("│  │"),
        "{status}"
    );
}
