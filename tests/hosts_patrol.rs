//! The patrol of agents on a remote host (a real sshd in a network
//! namespace, tests/common/hosts.rs) captures only the panes that drew
//! since their last capture, by the host's own clock. Skipped, with a
//! message, where namespaces cannot be made (not root).

mod common;

use std::time::Duration;

use common::cluster::{Cluster, config};
use switchboard::config::Config;
use switchboard::engine::Engine;
use switchboard::home::Home;

const QUIET: &str = r#"
[agents.quiet]
command = ["{switchboard}", "demo-agent", "--hang", "{prompt}"]
prompt = "argv"
"#;

#[test]
fn quiet_panes_on_a_host_are_not_captured_again_and_a_drawing_one_is() {
    need_test_hosts!();
    let c = Cluster::with_config("quiet", &format!("{}{QUIET}", config()));
    // One agent on each host.
    for project in ["api1", "api2"] {
        c.sb.run(&["dispatch", project, "hold on"]).ok();
    }
    let home = Home::at(c.sb.home());
    let config = Config::load(&home.config_file()).expect("config");
    let mut engine = Engine::start(home, config).expect("engine");
    // Until both agents run on the host and their screens have settled.
    common::engine::pass_until_settled(&mut engine, 2, 90, Duration::from_millis(200));
    // Quiet for a whole second of the host's clock: not captured again.
    std::thread::sleep(Duration::from_millis(1100));
    engine.pass().expect("pass");
    let captures = engine.screen_captures;
    for _ in 0..5 {
        engine.pass().expect("pass");
    }
    assert_eq!(
        engine.screen_captures, captures,
        "quiet panes on the host were captured again"
    );
    // One agent's pane draws (text typed into it on the host): that pane,
    // and only it, is captured again, and its new screen read.
    let reads = engine.screen_reads;
    c.server(0)
        .run(&["send-keys", "-t", "=sb-1-1:", "-l", "x"])
        .expect("type");
    std::thread::sleep(Duration::from_millis(300));
    engine.pass().expect("pass");
    assert_eq!(
        engine.screen_captures,
        captures + 1,
        "the pane that drew, and only it, is captured"
    );
    assert_eq!(engine.screen_reads, reads + 1, "its new screen is read");
    let _ = engine.server.kill_server();
    let _ = c.server(0).kill_server();
}
