//! Work delivered to a remote in the room: the review list shows the pull
//! request's address and how it stands; approve's question says what
//! approve will do for a project that pushes or opens pull requests.

use super::*;
use crate::config::Deliver;
use crate::model::{DeliveryKind, DeliveryState, RemoteDelivery};
use crate::tui::app::{Confirm, Mode, Pane};
use crate::tui::update::handle_key;

#[test]
fn the_review_list_shows_the_pull_request_and_its_state() {
    let mut snap = snapshot();
    let url = "https://github.com/acme/api/pull/7";
    snap.reviews[0].state = "delivered".into();
    snap.reviews[0].url = Some(url.into());
    snap.reviews[0].delivery = Some(RemoteDelivery {
        kind: DeliveryKind::Pr,
        remote: "origin".into(),
        url: Some(url.into()),
        state: DeliveryState::Open,
        checked_at: Some(t(9)),
    });
    let mut app = sample();
    app.set_snapshot(snap.clone());
    let screen = render(&app, 160, 48);
    assert!(screen.contains("github.com/acme/api/pull/7"), "{screen}");
    assert!(screen.contains("pr open"), "{screen}");

    snap.reviews[0].state = "closed".into();
    if let Some(d) = snap.reviews[0].delivery.as_mut() {
        d.state = DeliveryState::Closed;
    }
    app.set_snapshot(snap);
    let screen = render(&app, 160, 48);
    assert!(screen.contains("closed"), "{screen}");
    assert!(!screen.contains("pr open"), "{screen}");
}

#[test]
fn approve_asks_to_push_and_open_a_pull_request_where_the_project_delivers_so() {
    let mut snap = snapshot();
    snap.delivers.insert("api".into(), Deliver::Pr);
    let mut app = sample();
    app.set_snapshot(snap);
    app.focus = Pane::Review;
    assert!(handle_key(&mut app, key('y')).is_empty());
    assert!(matches!(
        app.mode,
        Mode::Confirm(Confirm::Approve { job: 2, .. })
    ));
    let screen = render(&app, 100, 24);
    assert!(
        screen.contains("Push job #2's switchboard/2 and open a PR into main?"),
        "{screen}"
    );
    assert!(!screen.contains("Merge job #2"), "{screen}");
}
