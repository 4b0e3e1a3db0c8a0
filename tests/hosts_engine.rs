//! The engine with agents on two remote hosts (real sshd servers in
//! network namespaces, tests/common/hosts.rs): dispatch, capture, nudge,
//! report, commit, merge, a cut link and an engine killed, all over SSH.
//! Skipped, with a message, where namespaces cannot be made (not root).

mod common;

use std::path::Path;
use std::time::Duration;

use common::cluster::{Cluster, config};
use common::engine::{EngineProcess, start_engine, wait_secs};
use common::hosts::{TestHost, UserKey, net_namespace_of, project_on};
use common::terminal::Terminal;
use common::{BIN, Sandbox};
use serde_json::Value;

fn git_out(dir: &Path, args: &[&str]) -> String {
    common::git_output(dir, args).trim().to_string()
}

#[test]
fn tasks_run_report_commit_and_merge_on_their_hosts() {
    need_test_hosts!();
    // api2 keeps its branches after a merge; api1 does not.
    let c = Cluster::with_config(
        "fast",
        &format!("{}\n[projects.api2]\nkeep_branches = true\n", config()),
    );
    let engine = start_engine(&c.sb);
    c.sb.run(&["dispatch", "api1", "write the docs"]).ok();
    c.sb.run(&["dispatch", "api2", "write the tests"]).ok();
    wait_secs(60, "both review items", || {
        c.review().iter().filter(|r| r["state"] == "ready").count() == 2
    });
    let mut worktrees = Vec::new();
    for (id, i) in [(1u32, 0usize), (2, 1)] {
        let job = c.job(id);
        assert_eq!(job["state"], "done", "{job}");
        // The demo agent's done report came through its pane.
        let events = c.sb.run(&["jobs", &id.to_string()]).ok().to_string();
        assert!(
            events.contains("agent reports (demo-agent): done"),
            "{events}"
        );
        // Committed on its host, in its host's repository.
        let branch = format!("switchboard/{id}");
        let log = git_out(&c.repos[i], &["log", "-1", "--format=%s", &branch]);
        assert!(log.contains(&format!("job #{id}")), "{log}");
        let worktree = c.worktree(i, id);
        assert!(worktree.join("DEMO.md").exists(), "{}", worktree.display());
        worktrees.push(worktree);
        // The agent's pane lives in the host's namespace: it went over SSH.
        let server = c.server(i);
        let pane = server
            .session(&format!("sb-{id}-1"))
            .expect("list")
            .expect("session");
        assert_eq!(
            net_namespace_of(pane.pid.expect("pid")),
            Some(c.hosts[i].net_namespace())
        );
        let screen = server
            .capture(&format!("sb-{id}-1"), false, 0)
            .expect("capture");
        assert!(screen.contains("demo>"), "{screen}");
    }
    let local = common::engine::agents_tmux(&c.sb, &["list-sessions"]);
    let local = String::from_utf8_lossy(&local.stdout).to_string();
    assert!(
        !local.contains("sb-1-") && !local.contains("sb-2-"),
        "no agent ran on this machine: {local}"
    );

    // Work after done, typed into the agent's session on build1, is
    // committed there and refreshes the review item.
    c.server(0)
        .send_text("sb-1-1", "and the changelog", Duration::from_millis(50), 3)
        .expect("type into the done agent");
    let item_of_1 = || {
        c.review()
            .into_iter()
            .find(|r| r["branch"] == "switchboard/1")
            .expect("item of job 1")
    };
    wait_secs(30, "job 1's new diff stat", || {
        item_of_1()["insertions"] == 2
    });
    let log = git_out(&c.repos[0], &["log", "--format=%s", "switchboard/1"]);
    assert!(log.contains("(after done)"), "{log}");

    c.sb.run(&["approve", "1"]).ok();
    c.sb.run(&["approve", "2"]).ok();
    wait_secs(30, "both merges", || {
        c.review().iter().filter(|r| r["state"] == "merged").count() == 2
    });
    assert_eq!(
        std::fs::read_to_string(c.repos[0].join("DEMO.md")).expect("merged"),
        "- write the docs\n- and the changelog\n"
    );
    assert_eq!(
        std::fs::read_to_string(c.repos[1].join("DEMO.md")).expect("merged"),
        "- write the tests\n"
    );
    // After the merge, on each host: the worktree is gone, and the branch
    // too unless the project keeps its branches.
    for (id, i) in [(1u32, 0usize), (2, 1)] {
        assert!(!worktrees[i].exists(), "{}", worktrees[i].display());
        let worktrees_known = git_out(&c.repos[i], &["worktree", "list", "--porcelain"]);
        assert!(
            !worktrees_known.contains(&format!("job-{id}")),
            "pruned: {worktrees_known}"
        );
        let branches = git_out(
            &c.repos[i],
            &["branch", "--list", &format!("switchboard/{id}")],
        );
        assert_eq!(branches.is_empty(), i == 0, "job {id}: {branches:?}");
    }
    let log = events(&c, 1);
    assert!(
        log.contains("the branch switchboard/1 was deleted"),
        "{log}"
    );
    assert!(events(&c, 2).contains("the branch switchboard/2 is kept (keep_branches)"));
    drop(engine);
}

#[test]
fn a_nudge_with_hostile_text_arrives_literally() {
    need_test_hosts!();
    let c = Cluster::new("slow");
    let _engine = start_engine(&c.sb);
    c.sb.run(&["dispatch", "api2", "take your time"]).ok();
    wait_secs(30, "the job running", || c.job(1)["state"] == "running");
    let hostile = "$(touch pwned) `touch pwned2` 'q' \"d\" -n ; touch pwned3 \\ #{pane_id}";
    c.sb.run(&["nudge", "1", hostile]).ok();
    let server = c.server(1);
    wait_secs(20, "the nudge on the agent's screen", || {
        server
            .capture("sb-1-1", false, 0)
            .is_ok_and(|s| s.contains(hostile))
    });
    let worktree_root = c.hosts[1].home();
    for f in ["pwned", "pwned2", "pwned3"] {
        let found = std::process::Command::new("find")
            .arg(&worktree_root)
            .args(["-name", f])
            .output()
            .expect("find");
        assert!(found.stdout.is_empty(), "{f} was made by a shell");
    }
}

#[test]
fn reports_made_between_two_passes_are_all_journaled_once_in_order() {
    use switchboard::remote::report::shift_args;
    need_test_hosts!();
    let c = Cluster::new("slow");
    let _engine = start_engine(&c.sb);
    c.sb.run(&["dispatch", "api1", "report twice"]).ok();
    wait_secs(30, "the job running", || c.job(1)["state"] == "running");
    let server = c.server(0);
    let pane = server.session("sb-1-1").expect("list").expect("there").pane;
    let now = switchboard::model::Timestamp::now().millis();
    let report = |at: i64, status: Value, source: &str, message: &str| {
        serde_json::json!({
            "at": at, "job": 1, "status": status, "progress": null,
            "message": message, "source": source,
        })
        .to_string()
    };
    // A hook's Notification, a report this version refuses, then Stop's
    // turn end, all in one tmux command list: no pass can fall between.
    // The text holds tmux formats, which must stay text as it moves down.
    let first = report(
        now,
        "waiting".into(),
        "claude-hook",
        "first #{pane_id} #(touch pwned)",
    );
    let bad = report(now + 1, "finished".into(), "claude-hook", "refused");
    let last = report(now + 2, Value::Null, "claude-hook", "second ; \\; last");
    let mut args = shift_args(&pane, &first);
    for json in [&bad, &last] {
        args.push(";".into());
        args.extend(shift_args(&pane, json));
    }
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    server.run(&words).expect("three reports");
    wait_secs(20, "the second report journaled", || {
        events(&c, 1).contains("second ; \\; last")
    });
    std::thread::sleep(Duration::from_secs(1));
    let log = events(&c, 1);
    let at = |needle: &str| {
        assert_eq!(log.matches(needle).count(), 1, "{needle} once: {log}");
        log.find(needle).expect("there")
    };
    let first_at = at("agent reports (claude-hook): waiting — first #{pane_id} #(touch pwned)");
    let refused_at = at("unknown variant `finished`");
    let last_at = at("agent reports (claude-hook) — second ; \\; last");
    assert!(
        first_at < refused_at && refused_at < last_at,
        "in order: {log}"
    );
    assert!(!c.hosts[0].home().join("pwned").exists());
}

#[test]
fn a_killed_remote_agent_leaves_no_daemon_on_its_host() {
    need_test_hosts!();
    // An agent that starts a daemon of its own (setsid: out of its
    // session's process group, as Codex's app-server is), then waits.
    let agent = r#"
[agents.daemon]
command = ["sh", "-c", "setsid sleep 3601 </dev/null >/dev/null 2>&1 & echo up; exec sleep 3602", "{prompt}"]
prompt = "argv"
"#;
    let c = Cluster::with_config("daemon", &format!("{}{agent}", config()));
    let _engine = start_engine(&c.sb);
    c.sb.run(&["dispatch", "api1", "start a daemon"]).ok();
    wait_secs(30, "the job running", || c.job(1)["state"] == "running");
    let daemons = || {
        c.hosts[0]
            .pids()
            .into_iter()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|cmd| cmd.starts_with(b"sleep\x003601"))
            })
            .collect::<Vec<u32>>()
    };
    wait_secs(20, "the daemon on the host", || daemons().len() == 1);
    c.sb.run(&["kill", "1"]).ok();
    wait_secs(20, "the job killed", || c.job(1)["state"] == "killed");
    wait_secs(20, "the daemon ended on its host", || daemons().is_empty());
    let sessions = c.server(0).sessions().expect("sessions");
    assert!(sessions.is_empty(), "{sessions:?}");
}

#[test]
fn clean_removes_what_a_killed_job_left_on_its_host() {
    need_test_hosts!();
    let c = Cluster::with_config(
        "slow",
        &format!("{}\n[projects.api1]\nkeep_failed = \"1s\"\n", config()),
    );
    let engine = start_engine(&c.sb);
    c.sb.run(&["dispatch", "api1", "be killed"]).ok();
    wait_secs(30, "the job running", || c.job(1)["state"] == "running");
    c.sb.run(&["kill", "1"]).ok();
    wait_secs(20, "the job killed", || c.job(1)["state"] == "killed");
    drop(engine);
    std::thread::sleep(Duration::from_secs(2));
    let worktree = c.worktree(0, 1);
    assert!(
        worktree.exists(),
        "left by the kill: {}",
        worktree.display()
    );
    let branch = || git_out(&c.repos[0], &["branch", "--list", "switchboard/1"]);
    assert!(!branch().is_empty());
    let dry = c.sb.run(&["clean", "--dry-run"]).ok().to_string();
    assert!(
        dry.contains("would remove") && dry.contains("on host build1"),
        "{dry}"
    );
    assert!(worktree.exists(), "a dry run removes nothing");
    let json = c.sb.run(&["clean", "--json"]).json();
    assert_eq!(json[0]["host"], "build1", "{json}");
    assert!(!worktree.exists(), "removed on the host");
    assert!(branch().is_empty(), "the branch deleted on the host");
    let again = c.sb.run(&["clean"]).ok().to_string();
    assert!(again.contains("Nothing to clean"), "{again}");
    // A host out of reach is said, not skipped silently.
    c.hosts[0].link_down();
    let cut = c.sb.run(&["clean", "--dry-run"]).ok().to_string();
    c.hosts[0].link_up();
    assert!(
        cut.contains("Nothing to clean") || !cut.contains("would remove"),
        "{cut}"
    );
}

/// The job's events, as `jobs ID` prints them.
fn events(c: &Cluster, id: u32) -> String {
    c.sb.run(&["jobs", &id.to_string()]).ok().to_string()
}

#[test]
fn a_cut_link_leaves_the_agent_alone_and_it_is_adopted_again() {
    need_test_hosts!();
    let c = Cluster::new("slow");
    let _engine = start_engine(&c.sb);
    c.sb.run(&["dispatch", "api1", "survive the cut"]).ok();
    wait_secs(30, "the job running", || c.job(1)["state"] == "running");
    std::thread::sleep(Duration::from_secs(1));
    c.hosts[0].link_down();
    wait_secs(40, "build1 shown unreachable", || {
        c.host_state("build1") == "unreachable"
    });
    std::thread::sleep(Duration::from_secs(3));
    let job = c.job(1);
    assert_eq!(job["state"], "running", "not counted dead: {job}");
    let log = events(&c, 1);
    assert!(!log.contains("restart"), "nothing restarted: {log}");
    c.hosts[0].link_up();
    wait_secs(40, "build1 reachable again", || {
        c.host_state("build1") == "reachable"
    });
    wait_secs(60, "the job done after the link came back", || {
        c.job(1)["state"] == "done"
    });
    let log = events(&c, 1);
    assert!(!log.contains("restart"), "nothing restarted: {log}");
    let sessions = c.server(0).sessions().expect("sessions");
    assert_eq!(sessions.len(), 1, "one agent, never a second: {sessions:?}");
}

#[test]
fn an_engine_killed_re_adopts_remote_agents_without_a_second_start() {
    need_test_hosts!();
    let c = Cluster::new("slow");
    let engine = start_engine(&c.sb);
    c.sb.run(&["dispatch", "api1", "outlive the engine"]).ok();
    wait_secs(30, "the job running", || c.job(1)["state"] == "running");
    engine.crash();
    std::thread::sleep(Duration::from_secs(1));
    let _engine: EngineProcess = start_engine(&c.sb);
    wait_secs(60, "the job done under the new engine", || {
        c.job(1)["state"] == "done"
    });
    let job = c.job(1);
    assert_eq!(job["attempts"], 1, "{job}");
    let log = events(&c, 1);
    assert!(!log.contains("restart"), "no second start: {log}");
    let sessions = c.server(0).sessions().expect("sessions");
    assert_eq!(sessions.len(), 1, "{sessions:?}");
}

#[test]
fn an_unknown_host_key_is_refused_and_a_hosts_max_agents_holds() {
    need_test_hosts!();
    let key = UserKey::new();
    let host = TestHost::start("build1", &key);
    host.install_switchboard(Path::new(BIN));
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.home()).expect("home");
    std::fs::write(sb.home().join("config.toml"), config()).expect("config");
    let repo_a = host.repo("a");
    let repo_b = host.repo("b");
    let key_path = key.private().to_str().expect("utf-8").to_string();
    let address = host.address_text();
    let add = |extra: &[&str]| {
        let mut args = vec![
            "host",
            "add",
            "build1",
            &address,
            "--identity",
            &key_path,
            "--max-agents",
            "1",
        ];
        args.extend_from_slice(extra);
        sb.run(&args)
    };
    let not_pinned = |err: &str| {
        assert!(
            err.contains("not pinned") && err.contains("--accept-new-key"),
            "{err}"
        );
        assert!(
            !sb.home().join("ssh/known_hosts").exists()
                || std::fs::read_to_string(sb.home().join("ssh/known_hosts"))
                    .expect("read")
                    .is_empty(),
            "nothing pinned"
        );
    };
    // `host add` contacts the host: an unknown key refuses it, and
    // nothing is registered.
    not_pinned(add(&[]).fails(1));
    let listed = sb.run(&["host", "list", "--json"]).json().to_string();
    assert!(!listed.contains("build1"), "{listed}");
    // A host of config.toml is contacted first by `project add`: the same
    // refusal.
    std::fs::write(
        sb.home().join("config.toml"),
        format!(
            "{}\n[hosts.build1]\naddress = \"{address}\"\nidentity = \"{key_path}\"\n",
            config()
        ),
    )
    .expect("config");
    let project = |name: &str, repo: &Path| project_on(&sb, name, repo, &host, "slow");
    not_pinned(project("a", &repo_a).fails(1));
    std::fs::write(sb.home().join("config.toml"), config()).expect("config");

    add(&["--accept-new-key"]).ok();
    assert!(!project("a", &repo_a).ok().contains("Not checked"));
    let pinned = std::fs::read_to_string(sb.home().join("ssh/known_hosts")).expect("pinned");
    let host_key = host
        .known_hosts_line()
        .split_whitespace()
        .nth(2)
        .expect("key")
        .to_string();
    assert!(pinned.contains(&host_key), "{pinned}");
    assert!(!project("b", &repo_b).ok().contains("Not checked"));

    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "a", "first"]).ok();
    sb.run(&["dispatch", "b", "second"]).ok();
    let job = |id: &str| sb.run(&["jobs", id, "--json"]).json();
    wait_secs(30, "one job running", || {
        job("1")["state"] == "running" || job("2")["state"] == "running"
    });
    std::thread::sleep(Duration::from_secs(2));
    let states = [job("1")["state"].clone(), job("2")["state"].clone()];
    assert_eq!(
        states.iter().filter(|s| *s == "running").count(),
        1,
        "build1 holds one agent: {states:?}"
    );
    let queued = sb.run(&["jobs"]).ok().to_string();
    assert!(queued.contains("host build1 has 1/1 agents"), "{queued}");
}

#[test]
fn the_room_shows_a_remote_agent_live_and_attaches_over_ssh() {
    need_test_hosts!();
    let c = Cluster::new("slow");
    let _engine = start_engine(&c.sb);
    c.sb.run(&["dispatch", "api2", "watched from afar"]).ok();
    wait_secs(30, "the job running", || c.job(1)["state"] == "running");
    let term = Terminal::new(c.sb.dir.path());
    term.open("room", &c.sb.home());
    // The Live pane shows the agent's screen, captured on build2.
    let screen = term.wait_for("room", "⠿ working");
    assert!(screen.contains("@build2"), "{screen}");
    // Attach is ssh -t into the session on its host; detach comes back.
    term.tmux(&["send-keys", "-t", "=room:", "a"]);
    term.wait_for("room", "C-b d: back to switchboard");
    std::thread::sleep(Duration::from_millis(300));
    term.tmux(&["send-keys", "-t", "=room:", "C-b", "d"]);
    term.wait_for("room", "⠿ working");
    // A key pressed while the room is still coming back may be lost: q
    // again until it quits.
    wait_secs(30, "the room quitting", || {
        term.tmux(&["send-keys", "-t", "=room:", "q"]);
        std::thread::sleep(Duration::from_millis(500));
        term.screen("room").contains("room exited")
    });
    term.wait_for("room", "room exited 0");
}

#[test]
fn include_and_setup_run_on_the_projects_host() {
    need_test_hosts!();
    // One attempt a job: a failed setup is not tried again.
    let settings = r#"
[projects.api1]
include = [".env", "conf/local.toml", "absent.txt"]
setup = ["sh", "-c", "printf '%s' \"$SB_TEST_HOST\" > .switchboard/setup-ran-on; echo set up on \"$SB_TEST_HOST\" in \"$PWD\"", "$(touch pwned)"]

[projects.api2]
setup = ["sh", "-c", "echo npm ERR! missing script; exit 3"]

[projects.slow-setup]
setup = ["sh", "-c", "sleep 3011 & setsid sleep 3012 </dev/null >/dev/null 2>&1 & sleep 3011"]
setup_timeout = "2s"

[projects.linked]
include = ["secrets/key"]
"#;
    let c = Cluster::with_config(
        "fast",
        &(config().replace("[scheduler]\n", "[scheduler]\nmax_attempts = 1\n") + settings),
    );
    // Untracked files of the repository on build1, to be included.
    std::fs::write(c.repos[0].join(".env"), "SECRET=1\n").expect("write");
    std::fs::create_dir_all(c.repos[0].join("conf")).expect("mkdir");
    std::fs::write(c.repos[0].join("conf/local.toml"), "port = 1\n").expect("write");
    let slow_repo = c.hosts[0].repo("slow-setup");
    project_on(&c.sb, "slow-setup", &slow_repo, &c.hosts[0], "fast").ok();
    // A repository on build1 whose `secrets` is a link out of it.
    let linked_repo = c.hosts[0].repo("linked");
    let outside = c.hosts[0].home().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::write(outside.join("key"), "not the repository's\n").expect("write");
    std::os::unix::fs::symlink(&outside, linked_repo.join("secrets")).expect("link");
    project_on(&c.sb, "linked", &linked_repo, &c.hosts[0], "fast").ok();
    let _engine = start_engine(&c.sb);
    c.sb.run(&["dispatch", "api1", "use the env"]).ok();
    c.sb.run(&["dispatch", "api2", "never starts"]).ok();
    c.sb.run(&["dispatch", "slow-setup", "never starts either"])
        .ok();
    c.sb.run(&["dispatch", "linked", "nor this one"]).ok();
    wait_secs(60, "job 1 in review", || {
        c.review().iter().any(|r| r["branch"] == "switchboard/1")
    });
    let worktree = c.worktree(0, 1);
    assert_eq!(
        std::fs::read_to_string(worktree.join(".env")).expect("included"),
        "SECRET=1\n"
    );
    assert_eq!(
        std::fs::read_to_string(worktree.join("conf/local.toml")).expect("included"),
        "port = 1\n"
    );
    // The setup ran on build1 (its login's environment), in the worktree.
    assert_eq!(
        std::fs::read_to_string(worktree.join(".switchboard/setup-ran-on")).expect("ran"),
        "build1"
    );
    let log = std::fs::read_to_string(c.sb.home().join("logs/job-1-setup.log")).expect("log");
    assert!(
        log.contains(&format!("set up on build1 in {}", worktree.display())),
        "{log}"
    );
    let committed = git_out(
        &c.repos[0],
        &["show", "--name-only", "--format=", "switchboard/1"],
    );
    assert!(
        !committed.contains(".env") && !committed.contains("local.toml"),
        "included files are never committed: {committed}"
    );
    let setup_twice = |id: u32| {
        wait_secs(60, "the job failed", || c.job(id)["state"] == "failed");
        c.job(id)["events"].to_string()
    };
    let events = setup_twice(2);
    assert!(
        events.contains("setup `sh -c echo npm ERR! missing script; exit 3` failed")
            && events.contains("npm ERR! missing script"),
        "{events}"
    );
    let events = setup_twice(3);
    assert!(events.contains("did not finish within 2s"), "{events}");
    // Out of time, the whole setup is ended on the host, the child it
    // started too, and the one that left its group (setsid).
    let running = |line: &str| {
        std::process::Command::new("pgrep")
            .args(["-f", "-x", line])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    wait_secs(15, "no process of the setup left on build1", || {
        !running("sleep 3011") && !running("sleep 3012")
    });
    // A path under a link leading out of the repository is refused.
    let events = setup_twice(4);
    assert!(
        events.contains("include secrets/key:") && events.contains("leads out of the repository"),
        "{events}"
    );
    assert!(!c.worktree(0, 4).join("secrets/key").exists());
    for dir in [c.hosts[0].home(), c.hosts[1].home(), c.sb.home()] {
        let found = std::process::Command::new("find")
            .arg(&dir)
            .args(["-name", "pwned"])
            .output()
            .expect("find");
        assert!(
            found.stdout.is_empty(),
            "made by a shell in {}",
            dir.display()
        );
    }
}

#[test]
fn a_host_dropping_while_a_job_starts_is_not_blamed_on_the_job() {
    need_test_hosts!();
    // One attempt a job: a start blamed on it would fail it for good.
    let settings = r#"
[projects.api1]
setup = ["sh", "-c", "touch setup-began; sleep 4"]
setup_timeout = "6s"
"#;
    let c = Cluster::with_config(
        "fast",
        &(config().replace("[scheduler]\n", "[scheduler]\nmax_attempts = 1\n") + settings),
    );
    let _engine = start_engine(&c.sb);
    c.sb.run(&["dispatch", "api1", "start through a cut"]).ok();
    // The link goes while its setup runs on build1 (a job of a host
    // already out of reach waits in `starting`, never tried).
    let places = c.hosts[0].home().join(".switchboard");
    wait_secs(30, "the setup running", || {
        std::fs::read_dir(&places).is_ok_and(|dir| {
            dir.flatten()
                .any(|p| p.path().join("worktrees/job-1/setup-began").exists())
        })
    });
    c.hosts[0].link_down();
    wait_secs(60, "the job back in the queue", || {
        events(&c, 1).contains("could not be reached while the agent was starting")
    });
    std::thread::sleep(Duration::from_secs(2));
    let job = c.job(1);
    assert_ne!(job["state"], "failed", "not blamed on the job: {job}");
    assert_eq!(job["state"], "queued", "{job}");
    c.hosts[0].link_up();
    wait_secs(90, "the job done once the host is back", || {
        c.job(1)["state"] == "done"
    });
    let log = events(&c, 1);
    assert!(!log.contains("could not start the agent"), "{log}");
}
