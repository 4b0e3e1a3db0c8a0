//! An engine pass costs what changed: at rest it does not run the
//! scheduler (which reads every job not over), and a write by another
//! process, or a job to start, makes the next pass run it.

mod common;

use common::engine::{FAST, home_with};
use switchboard::config::Config;
use switchboard::engine::Engine;
use switchboard::home::Home;
use switchboard::journal::NewJob;
use switchboard::model::Timestamp;

#[test]
fn a_pass_at_rest_skips_the_scheduler_and_news_brings_it_back() {
    let sb = home_with(FAST, &["api"]);
    let home = Home::at(sb.home());
    let config = Config::load(&home.config_file()).expect("config");
    let mut engine = Engine::start(home, config).expect("engine");
    let server = engine.server.clone();
    let _stop = scopeguard(move || {
        let _ = server.kill_server();
    });

    engine.pass().expect("pass");
    engine.pass().expect("pass");
    engine.pass().expect("pass");
    assert_eq!(
        engine.schedule_counts,
        (1, 2),
        "at rest: one schedule, then skips"
    );

    // Another process dispatches: the next pass schedules and starts it.
    let id = sb
        .journal()
        .dispatch(
            &NewJob::task(Some("api".into()), "hello".into(), 0),
            Timestamp::now(),
        )
        .expect("dispatch");
    engine.pass().expect("pass");
    assert_eq!(engine.schedule_counts.0, 2, "{:?}", engine.schedule_counts);
    let job = engine.journal.job(id).expect("journal").expect("job");
    assert_ne!(job.state.name().as_str(), "queued", "{job:?}");
}

/// Runs `f` when dropped (the test's tmux server is ended even when it fails).
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}

const QUIET: &str = r#"
[scheduler]
active_interval = "200ms"
idle_interval = "500ms"
[agents.quiet]
command = ["{switchboard}", "demo-agent", "--hang", "{prompt}"]
prompt = "argv"
"#;

#[test]
fn the_patrol_reads_only_the_panes_that_changed() {
    let config = QUIET.replace("{switchboard}", env!("CARGO_BIN_EXE_switchboard"));
    let sb = common::engine::home_with(&config, &[]);
    for name in ["api", "web"] {
        let repo = sb.repo(name);
        sb.run(&[
            "project",
            "add",
            name,
            repo.to_str().expect("utf-8"),
            "--agent",
            "quiet",
        ])
        .ok();
    }
    let home = Home::at(sb.home());
    let config = Config::load(&home.config_file()).expect("config");
    let mut engine = Engine::start(home, config).expect("engine");
    let server = engine.server.clone();
    let _stop = scopeguard(move || {
        let _ = server.kill_server();
    });
    for project in ["api", "web"] {
        engine
            .journal
            .dispatch(
                &NewJob::task(Some(project.into()), "hold on".into(), 0),
                Timestamp::now(),
            )
            .expect("dispatch");
    }
    // Until both agents run and their screens have settled (three passes
    // in a row without a read).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut still = 0;
    while still < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the agents did not settle"
        );
        let before = engine.screen_reads;
        engine.pass().expect("pass");
        let running = engine.journal.active_job_count().expect("count");
        still = if running == 2 && engine.screen_reads == before {
            still + 1
        } else {
            0
        };
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let reads = engine.screen_reads;
    assert!(
        reads >= 2,
        "each agent's screen was read at least once: {reads}"
    );
    for _ in 0..10 {
        engine.pass().expect("pass");
    }
    assert_eq!(
        engine.screen_reads, reads,
        "unchanged panes were read again"
    );

    // One agent's screen changes (text typed into its pane): that pane, and
    // only it, is read again.
    let session = engine.server.sessions().expect("sessions")[0].name.clone();
    engine
        .server
        .run(&["send-keys", "-t", &format!("={session}:"), "-l", "x"])
        .expect("type");
    std::thread::sleep(std::time::Duration::from_millis(200));
    engine.pass().expect("pass");
    assert_eq!(engine.screen_reads, reads + 1);
}
