//! The engine's rest between passes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::Engine;
use crate::config::Config;
use crate::home::Home;

/// An engine on a new home in `dir`.
fn engine_in(dir: &std::path::Path) -> Engine {
    let home = Home::at(dir.join("home"));
    let config = Config::builtin().expect("built-in config");
    Engine::try_start(home, config)
        .expect("engine starts")
        .expect("no other engine")
}

/// A pane that drew while passes are slow puts the next pass far off
/// (passes keep to a share of a core); a stop must still be heard at once,
/// so that a closing control room does not wait for it.
#[test]
fn a_stop_is_heard_while_an_output_pass_waits_its_turn() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut engine = engine_in(dir.path());
    // The last pass took 20 s of processor time: the next for output is
    // due 100 s later.
    engine.pass_began = Instant::now();
    engine.pass_took = Duration::from_secs(20);
    engine.pane_watch.output().note();

    let stop = Arc::new(AtomicBool::new(false));
    let setter = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            stop.store(true, Ordering::Relaxed);
        })
    };
    let began = Instant::now();
    engine
        .sleep_until(Duration::from_secs(60), Some(&stop))
        .expect("rest");
    let rested = began.elapsed();
    setter.join().expect("setter");
    assert!(
        rested < Duration::from_secs(10),
        "the stop was heard after {rested:?}, not within a step of it"
    );
}

/// After an answer's keys were sent, the agent's drawing (its question
/// going away) is looked at at once, not after the spacing that keeps a
/// streaming agent from running the patrol flat out.
#[test]
fn the_drawing_after_an_answer_is_looked_at_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut engine = engine_in(dir.path());
    // Slow passes put the next pass for output 100 s away ...
    engine.pass_began = Instant::now();
    engine.pass_took = Duration::from_secs(20);
    // ... but an answer's keys were sent, a pass came after them (the
    // agent's first redraw did not yet take its question down), and the
    // pane drew again.
    engine.answered_until = Some(Instant::now() + super::ANSWER_WATCH);
    engine.pass().expect("a pass after the answer");
    engine.pass_began = Instant::now();
    engine.pass_took = Duration::from_secs(20);
    engine.pane_watch.output().note();

    let began = Instant::now();
    engine
        .sleep_until(Duration::from_secs(30), None)
        .expect("rest");
    let rested = began.elapsed();
    assert!(
        rested < Duration::from_secs(10),
        "the drawing after an answer waited {rested:?}"
    );
}

/// A pane that drew puts the next pass a spacing away; an agent's hook
/// that reports meanwhile (news in the journal) is looked at at once, not
/// held up behind the spacing.
#[test]
fn a_report_is_looked_at_while_an_output_pass_waits_its_turn() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut engine = engine_in(dir.path());
    engine.news_mark = engine.journal.last_event_id().expect("mark");
    // Slow passes put the next pass for output 100 s away.
    engine.pass_began = Instant::now();
    engine.pass_took = Duration::from_secs(20);
    engine.pane_watch.output().note();

    let file = engine.home.journal_file();
    let reporter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let mut journal = crate::journal::Journal::open(&file).expect("journal");
        journal
            .record_note("report", "an agent's hook", crate::model::Timestamp::now())
            .expect("note");
    });
    let began = Instant::now();
    engine
        .sleep_until(Duration::from_secs(30), None)
        .expect("rest");
    let rested = began.elapsed();
    reporter.join().expect("reporter");
    assert!(
        rested < Duration::from_secs(10),
        "the report waited {rested:?} behind the output's spacing"
    );
}

/// A pane whose title changed in kind (its spinner stopped, it asks) is
/// looked at at once, not after the spacing for plain drawing.
#[test]
fn a_title_that_changes_in_kind_is_looked_at_at_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut engine = engine_in(dir.path());
    engine.pass_began = Instant::now();
    engine.pass_took = Duration::from_secs(20);
    engine.pane_watch.output().note();
    let output = engine.pane_watch.output_handle();
    let drawer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        output.note_title();
    });
    let began = Instant::now();
    engine
        .sleep_until(Duration::from_secs(30), None)
        .expect("rest");
    let rested = began.elapsed();
    drawer.join().expect("drawer");
    assert!(
        rested < Duration::from_secs(10),
        "the title's change waited {rested:?} behind the output's spacing"
    );
}

/// A title that changes in kind at every frame wakes the engine each
/// time, yet passes never follow each other back to back: each rest lasts
/// the floor that news keeps (20 ms). Before, a title's change ended the
/// rest at once, with no floor at all.
#[test]
fn titles_that_keep_changing_in_kind_keep_the_floor_of_news() {
    let dir = tempfile::tempdir().expect("temp dir");
    let engine = engine_in(dir.path());
    for _ in 0..3 {
        engine.pane_watch.output().note_title();
        let began = Instant::now();
        engine
            .sleep_until(Duration::from_secs(30), None)
            .expect("rest");
        let rested = began.elapsed();
        assert!(
            rested >= Duration::from_millis(20),
            "a rest woken by a title lasted {rested:?}"
        );
        assert!(rested < Duration::from_secs(10), "{rested:?}");
        engine.pane_watch.output().take();
    }
}

/// An alarm or a ticket journaled by another process writes no event (it
/// waits for the scheduler to become a job), yet it is new work: it ends
/// the rest at once, as a task does, instead of waiting the idle interval.
#[test]
fn an_alarm_journaled_elsewhere_ends_the_rest() {
    use crate::journal::Incoming;
    use crate::model::{AlarmMessage, AlarmState, Message, Source, Timestamp};
    let dir = tempfile::tempdir().expect("temp dir");
    let mut engine = engine_in(dir.path());
    engine.pass().expect("a first pass");
    let file = engine.home.journal_file();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let mut journal = crate::journal::Journal::open(&file).expect("journal");
        let alarm = Incoming::Message {
            delivery: None,
            message: Message::Alarm(AlarmMessage {
                account: "123456789012".into(),
                name: "HighCPU".into(),
                state: AlarmState::Alarm,
                at: None,
                reason: None,
                region: None,
            }),
        };
        let priorities = Config::builtin().expect("config").priorities;
        journal
            .ingest(
                &[alarm],
                &Source::cli("test"),
                &priorities,
                Timestamp::now(),
            )
            .expect("ingest");
    });
    let began = Instant::now();
    engine
        .sleep_until(Duration::from_secs(30), None)
        .expect("rest");
    let rested = began.elapsed();
    sender.join().expect("sender");
    assert!(
        rested < Duration::from_secs(10),
        "the alarm waited {rested:?} for the rest to end"
    );
}
