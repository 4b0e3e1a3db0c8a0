//! Text from outside in every pane of the room: a ticket's title, a
//! waiting reason, a project, a chain's account, a review branch, the
//! events, sources and prompt of the details view. Each shows its control
//! characters as visible escapes (ratatui alone would drop them silently,
//! hiding what was sent).

use super::*;
use crate::journal::{Event, JobDetails};
use crate::tui::app::{Mode, Scrolled};

const HOSTILE: &str = "x \x1b]52;c;aGk=\x07\x1b]0;PWNED\x07 \x1b[201~ cr\r \u{9b}31m";
const SHOWN: &str = "x ␛]52;c;aGk=␇␛]0;PWNED␇";

fn hostile_snapshot() -> Snapshot {
    let mut snap = snapshot();
    snap.jobs[0].title = HOSTILE.into();
    snap.jobs[3].reason = Some(format!("w{HOSTILE}"));
    snap.jobs[3].project = Some(format!("p{HOSTILE}"));
    snap.chains[0].account = format!("a{HOSTILE}");
    snap.reviews[0].branch = format!("b{HOSTILE}");
    snap
}

#[track_caller]
fn assert_no_control(screen: &str) {
    assert!(
        !screen
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "{screen}"
    );
}

#[test]
fn the_panes_show_outside_text_with_visible_escapes() {
    let mut app = sample();
    app.set_snapshot(hostile_snapshot());
    let screen = render(&app, 200, 48);
    assert_no_control(&screen);
    assert!(screen.contains(SHOWN), "queue title:\n{screen}");
    for shown in ["ax ␛]5", "bx ␛]5", "wx ␛]52"] {
        assert!(screen.contains(shown), "{shown}:\n{screen}");
    }
}

#[test]
fn the_details_view_shows_outside_text_with_visible_escapes() {
    let mut app = sample();
    app.set_snapshot(hostile_snapshot());
    let mut job = app.snapshot.jobs[0].clone();
    job.prompt = HOSTILE.into();
    job.reason = Some(HOSTILE.into());
    let details = JobDetails {
        job,
        events: vec![Event {
            id: 1,
            at: t(1),
            job: Some(1),
            kind: "nudge".into(),
            message: format!("e{HOSTILE}"),
        }],
        attempts: Vec::new(),
        sources: vec![crate::journal::Origin {
            kind: crate::journal::OriginKind::Alarm,
            what: format!("s{HOSTILE}"),
            intake: Some(crate::model::Intake::Inbox),
            source: Some(format!("inbox/f{HOSTILE}")),
            delivery: Some(format!("sns:d{HOSTILE}")),
        }],
        after: Vec::new(),
    };
    let mut view = Scrolled::new(1);
    view.content = Some(details);
    app.mode = Mode::Details(view);
    let screen = render(&app, 200, 48);
    assert_no_control(&screen);
    for shown in [
        "ex ␛]52",
        "sx ␛]52",
        "inbox/fx ␛]52",
        "why: x ␛]52",
        "  x ␛]52",
        "␛[201~ cr␍",
    ] {
        assert!(screen.contains(shown), "{shown}:\n{screen}");
    }
}
