//! The room with projects on remote hosts: the Queue's host column, and a
//! host out of reach in the status bar and its agents' rows.

use super::*;
use crate::model::HostName;

fn on_hosts(unreachable: bool) -> App {
    let mut app = sample();
    let mut snapshot = app.snapshot.clone();
    // Job #1 (running) and #4 (queued) are api's; web's job #3 asks.
    snapshot.jobs[2].project = Some("web".into());
    snapshot.hosts = [("api".to_string(), HostName::parse("build1").unwrap())].into();
    if unreachable {
        snapshot.unreachable = vec![(HostName::parse("build1").unwrap(), t(6))];
    }
    app.set_snapshot(snapshot);
    app
}

#[test]
fn the_queue_shows_each_job_s_host_and_local_ones_blank() {
    let app = on_hosts(false);
    insta::assert_snapshot!("room_hosts_160x48", render(&app, 160, 48));
    let wide = render(&app, 160, 48);
    let row = |id: &str| {
        wide.lines()
            .find(|l| l.starts_with(&format!("│{id}")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(row("#1 ").contains("@build1"), "{}", row("#1 "));
    assert!(!row("#3 ").contains('@'), "{}", row("#3 "));
    // No room for it on a narrow screen, as for the project.
    assert!(!render(&app, 80, 24).contains("@build1"));
    // Without remote projects there is no host column at all.
    assert!(!render(&sample(), 160, 48).contains('@'));
}

#[test]
fn an_unreachable_host_shows_in_the_status_bar_and_its_agents_rows() {
    let app = on_hosts(true);
    let wide = render(&app, 160, 48);
    insta::assert_snapshot!("room_host_unreachable_160x48", wide);
    // t(6) is four minutes before the snapshot's now, t(10).
    assert!(wide.contains("⚠ host build1 unreachable since"), "{wide}");
    let row = |id: &str| {
        wide.lines()
            .find(|l| l.starts_with(&format!("│{id}")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(row("#1 ").contains("@build1 ⚠"), "{}", row("#1 "));
    // On a wider screen the running agent's row says it in full; a queued
    // job there keeps its own reason.
    let wider = render(&app, 260, 30);
    let running = wider
        .lines()
        .find(|l| l.starts_with("│#1 "))
        .unwrap_or_default();
    assert!(
        running.contains("⚠ build1 unreachable since 08:06:00Z (4m ago)"),
        "{running}"
    );
    let queued = wider
        .lines()
        .find(|l| l.starts_with("│#4 "))
        .unwrap_or_default();
    assert!(!queued.contains("unreachable since"), "{queued}");
}

#[test]
fn the_details_of_a_job_on_an_unreachable_host_say_so() {
    use crate::journal::JobDetails;
    use crate::tui::app::{Mode, Scrolled};
    let mut app = on_hosts(true);
    let mut view = Scrolled::new(1);
    view.content = Some(JobDetails {
        job: app.snapshot.jobs[0].clone(),
        events: Vec::new(),
        attempts: Vec::new(),
        sources: Vec::new(),
        after: Default::default(),
    });
    app.mode = Mode::Details(view);
    let screen = render(&app, 160, 48);
    assert!(screen.contains("project api on host build1"), "{screen}");
    assert!(
        screen.contains("⚠ host build1 unreachable since 08:06:00Z (4m ago)"),
        "{screen}"
    );
}

#[test]
fn without_an_engine_the_status_bar_says_a_host_s_state_is_the_last_known() {
    let mut app = on_hosts(true);
    let bar = |app: &App| {
        render(app, 260, 30)
            .lines()
            .find(|l| l.contains("⚠ host build1"))
            .unwrap_or_default()
            .to_string()
    };
    assert!(!bar(&app).contains("last known"), "{}", bar(&app));
    app.hosts_freshness = crate::model::Freshness::LastKnown;
    assert!(
        bar(&app).contains(
            "⚠ host build1 unreachable since 08:06:00Z (4m ago), last known: the engine is not running"
        ),
        "{}",
        bar(&app)
    );
}
