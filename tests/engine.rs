//! The engine for real: the demo agent in a real worktree on a real tmux
//! server, run by `switchboard run --headless`.

mod common;

use std::time::Duration;

use common::engine::{EngineProcess, FAST, agents_tmux, home_with, jobs, start_engine, wait_secs};
use common::wait::{STEP, wait_until};
use common::{Sandbox, git};
use serde_json::Value;
use switchboard::journal::Event;

fn wait_for(what: &str, check: impl FnMut() -> bool) {
    wait_secs(30, what, check);
}

/// Waits for the engine to exit by itself (after a drain).
fn wait_exit(engine: &mut EngineProcess) -> std::process::ExitStatus {
    wait_until(
        Duration::from_secs(30),
        STEP,
        || engine.child.try_wait().unwrap().ok_or(()),
        |()| "the engine did not exit after the drain".into(),
    )
}

/// Whether job `id` has an event that `matches`.
fn has_event(sb: &Sandbox, id: i64, matches: impl Fn(&Event) -> bool) -> bool {
    sb.journal().events(id).unwrap().iter().any(matches)
}

/// How many events of `kind` job `id` has.
fn event_count(sb: &Sandbox, id: i64, kind: &str) -> usize {
    sb.journal()
        .events(id)
        .unwrap()
        .iter()
        .filter(|e| e.kind == kind)
        .count()
}

fn review(sb: &Sandbox) -> Vec<Value> {
    sb.run(&["review", "--json"])
        .json()
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn a_dispatched_task_ends_as_a_reviewed_merged_branch() {
    let sb = home_with(FAST, &["api"]);
    let repo = sb.dir.path().join("api");
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    let mut engine = start_engine(&sb);

    wait_for("the review item", || {
        review(&sb).first().is_some_and(|r| r["state"] == "ready")
    });
    let item = &review(&sb)[0];
    assert_eq!(item["branch"], "switchboard/1");
    assert_eq!(item["files"], 1);
    assert_eq!(item["insertions"], 1);
    let job = sb.run(&["jobs", "1", "--json"]).json();
    assert_eq!(job["state"], "done");
    let log = std::process::Command::new("git")
        .arg("-C")
        .arg(&repo)
        .args(["log", "-1", "--format=%s", "switchboard/1"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&log.stdout).contains("job #1"),
        "{}",
        String::from_utf8_lossy(&log.stdout)
    );
    assert!(
        !repo.join("DEMO.md").exists(),
        "nothing merged before approval"
    );

    sb.run(&["approve", "1"]).ok();
    wait_for("the merge", || {
        review(&sb).first().is_some_and(|r| r["state"] == "merged")
    });
    assert_eq!(
        std::fs::read_to_string(repo.join("DEMO.md")).unwrap(),
        "- write the docs\n"
    );

    // A drain with nothing running: READY_FOR_SHUTDOWN, and the engine exits 0.
    sb.run(&["drain"]).ok();
    assert!(wait_exit(&mut engine).success());
    assert!(sb.home().join("READY_FOR_SHUTDOWN").exists());
    git(&repo, &["diff", "--quiet"]);
}

#[test]
fn one_engine_per_home() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.home()).unwrap();
    std::fs::write(sb.home().join("config.toml"), FAST).unwrap();
    let _first = start_engine(&sb);
    std::thread::sleep(Duration::from_millis(500));
    let second = sb.run(&["run", "--headless"]);
    assert_eq!(second.code, 1);
    assert!(
        second.stderr.contains("another engine (pid"),
        "{}",
        second.stderr
    );
}

/// A sandbox with a project `api` (agent `fast`), the fast config and the
/// extra config text, and its engine running.
fn running(extra: &str, max_agents: u32) -> (Sandbox, std::path::PathBuf, EngineProcess) {
    running_with(&format!("{FAST}\n{extra}"), max_agents)
}

/// As `running`, with `config` as the whole config file.
fn running_with(config: &str, max_agents: u32) -> (Sandbox, std::path::PathBuf, EngineProcess) {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    std::fs::create_dir_all(sb.home()).unwrap();
    std::fs::write(sb.home().join("config.toml"), config).unwrap();
    sb.add_project(
        "api",
        &repo,
        "fast",
        &["--max-agents", &max_agents.to_string()],
    );
    let engine = start_engine(&sb);
    (sb, repo, engine)
}

fn job(sb: &Sandbox, id: i64) -> Value {
    sb.run(&["jobs", &id.to_string(), "--json"]).json()
}

const SLOW: &str = r#"
[agents.slow]
command = ["{switchboard}", "demo-agent", "--steps", "15", "--step-ms", "100", "{prompt}"]
ready = '(?m)^demo> \s*\z'
busy = '⠿ working[^\n]*\s*\z'
"#;

#[test]
fn a_claimed_repository_runs_its_second_job_after_the_first() {
    let (sb, _repo, _engine) = running(SLOW, 1);
    sb.run(&["dispatch", "api", "first", "--agent", "slow"])
        .ok();
    sb.run(&["dispatch", "api", "second"]).ok();
    wait_for("the second job to wait", || {
        job(&sb, 2)["reason"] == "repository of project api claimed by #1"
    });
    wait_for("the first to run", || job(&sb, 1)["state"] == "running");
    assert_eq!(job(&sb, 2)["state"], "queued");
    wait_for("both to finish", || {
        jobs(&sb).iter().all(|j| j["state"] == "done")
    });
    assert!(
        has_event(&sb, 2, |e| e.message
            == "repository of project api claimed by #1"),
        "{}",
        job(&sb, 2)["events"]
    );
}

#[test]
fn a_bad_inbox_file_moves_aside_and_the_good_ones_run() {
    let (sb, _repo, _engine) = running("", 2);
    let inbox = sb.home().join("inbox");
    std::fs::write(
        inbox.join("a.json"),
        "{\n  \"type\": \"task\",\n  \"project\": \"api\",\n  \"prompt\": \"pretty printed\"\n}\n",
    )
    .unwrap();
    std::fs::write(
        inbox.join("b.jsonl"),
        "{\"type\":\"task\",\"project\":\"api\",\"prompt\":\"from lines\"}\n",
    )
    .unwrap();
    std::fs::write(inbox.join("c.json"), "{\"type\": \"task\", \"prompt\": }").unwrap();
    wait_for("two jobs done", || {
        jobs(&sb).iter().filter(|j| j["state"] == "done").count() == 2
    });
    let rejected = sb.home().join("inbox/rejected");
    assert!(rejected.join("c.json").exists());
    let reason = std::fs::read_to_string(rejected.join("c.json.reason")).unwrap();
    assert!(reason.contains("malformed JSON"), "{reason}");
    assert!(!inbox.join("a.json").exists() && !inbox.join("b.jsonl").exists());
}

#[test]
fn tickets_and_alarms_get_one_agent_each_and_updates_are_forwarded() {
    let hang = r#"
[agents.hang]
command = ["{switchboard}", "demo-agent", "--hang", "{prompt}"]
[routing]
accounts = { "42" = "ops" }
"#;
    let (sb, _repo, _engine) = running(hang, 5);
    sb.add_project("ops", &sb.repo("ops"), "hang", &["--max-agents", "5"]);
    let ticket =
        "{\"type\":\"ticket\",\"key\":\"OPS-1\",\"title\":\"login\",\"project\":\"ops\"}\n";
    sb.run_with_input(&["ingest", "-"], ticket.as_bytes()).ok();
    wait_for("the ticket's agent", || {
        jobs(&sb).first().is_some_and(|j| j["state"] == "running")
    });
    sb.run_with_input(&["ingest", "-"], format!("{ticket}{ticket}").as_bytes())
        .ok();
    let alarm = |m: u32| {
        format!(
            "{{\"type\":\"alarm\",\"account\":\"42\",\"name\":\"CPU\",\"state\":\"ALARM\",\"at\":\"2026-01-01T00:{:02}:00Z\"}}\n",
            m * 10
        )
    };
    sb.run_with_input(&["ingest", "-"], alarm(0).as_bytes())
        .ok();
    wait_for("the incident's agent", || {
        jobs(&sb).get(1).is_some_and(|j| j["state"] == "running")
    });
    let later: String = (1..5).map(alarm).collect();
    sb.run_with_input(&["ingest", "-"], later.as_bytes()).ok();
    sb.run_with_input(&["ingest", "-"], b"{\"type\":\"alarm\",\"account\":\"42\",\"name\":\"CPU\",\"state\":\"OK\",\"at\":\"2026-01-01T00:55:00Z\"}\n").ok();
    sb.run_with_input(&["ingest", "-"], b"{\"type\":\"alarm\",\"account\":\"42\",\"name\":\"CPU\",\"state\":\"ALARM\",\"at\":\"2026-01-01T03:00:00Z\"}\n").ok();
    wait_for("three jobs", || {
        jobs(&sb).len() == 3 && jobs(&sb).iter().all(|j| j["state"] == "running")
    });
    let kinds: Vec<String> = jobs(&sb)
        .iter()
        .map(|j| j["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["ticket", "incident", "incident"]);
    let chains = sb.run(&["chains", "--json"]).json();
    assert_eq!(chains.as_array().unwrap().len(), 2);
    // The repeats and the joined alarms reached the agents as nudges.
    let journal = sb.journal();
    wait_for("the forwards to be delivered", || {
        journal.pending_commands().unwrap().is_empty()
    });
    let forwards = event_count(&sb, 1, "forward");
    assert_eq!(
        forwards,
        2,
        "the ticket repeated twice while its agent ran: {}",
        job(&sb, 1)["events"]
    );
    assert_eq!(event_count(&sb, 2, "forward"), 4);
}

#[test]
fn a_reject_reaches_the_agent_literally_and_it_works_again() {
    let (sb, repo, _engine) = running("", 1);
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    wait_for("review", || {
        review(&sb).first().is_some_and(|r| r["state"] == "ready")
    });
    sb.run(&[
        "reject",
        "1",
        "--reason",
        "also document $(rm -rf /) `x`; thanks",
    ])
    .ok();
    wait_for("the second round in review", || {
        std::fs::read_to_string(sb.home().join("worktrees/job-1/DEMO.md"))
            .unwrap_or_default()
            .lines()
            .count()
            == 2
            && job(&sb, 1)["state"] == "done"
    });
    let demo = std::fs::read_to_string(sb.home().join("worktrees/job-1/DEMO.md")).unwrap();
    assert_eq!(
        demo,
        "- write the docs\n- also document $(rm -rf /) `x`; thanks\n"
    );
    assert!(repo.exists());
}

/// A reject is a start like any other: while another job holds the
/// repository's claim, the rejected job (its agent still there) waits in
/// the queue with the claim as its reason, and takes up the work again,
/// with the feedback, once the claim is free.
#[test]
fn a_reject_waits_for_the_repository_another_job_claimed() {
    let hang = r#"
[agents.hang]
command = ["{switchboard}", "demo-agent", "--hang", "{prompt}"]
"#;
    let (sb, _repo, _engine) = running(hang, 1);
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    wait_for("review", || {
        review(&sb).first().is_some_and(|r| r["state"] == "ready")
    });
    sb.run(&["dispatch", "api", "hold the repo", "--agent", "hang"])
        .ok();
    wait_for("the second job to claim the repo", || {
        job(&sb, 2)["state"] == "running"
    });
    assert!(
        job(&sb, 1)["progress"].is_u64(),
        "the first attempt reported progress"
    );
    sb.run(&["reject", "1", "--reason", "add an example"]).ok();
    let journal = sb.journal();
    wait_for("the reject carried out", || {
        journal.pending_commands().unwrap().is_empty()
    });
    wait_for("the rejected job to wait for the claim", || {
        job(&sb, 1)["reason"] == "repository of project api claimed by #2"
    });
    let first = job(&sb, 1);
    assert_eq!(first["state"], "queued", "{first}");
    // Back in the queue: the last attempt's progress is not shown as its own.
    assert!(first["progress"].is_null(), "{first}");
    assert_eq!(job(&sb, 2)["state"], "running");
    assert!(
        !agents_tmux(&sb, &["has-session", "-t", "=sb-1-1"])
            .status
            .success(),
        "no agent of job #1 stays in the claimed repo"
    );
    sb.run(&["kill", "2"]).ok();
    wait_for("the rejected job done again", || {
        job(&sb, 1)["state"] == "done" && job(&sb, 1)["attempts"] == 2
    });
    let demo = std::fs::read_to_string(sb.home().join("worktrees/job-1/DEMO.md")).unwrap();
    assert!(demo.contains("add an example"), "{demo}");
}

#[test]
fn a_silent_agent_is_nudged_then_stalled() {
    let hang = r#"
[agents.hang]
command = ["{switchboard}", "demo-agent", "--hang", "{prompt}"]
"#;
    let (sb, _repo, _engine) = running(&format!("{hang}\n"), 1);
    // stall_after lives in [scheduler], which FAST already opened.
    let config = std::fs::read_to_string(sb.home().join("config.toml")).unwrap();
    std::fs::write(
        sb.home().join("config.toml"),
        config.replace(
            "idle_interval = \"500ms\"",
            "idle_interval = \"500ms\"\nstall_after = \"1s\"",
        ),
    )
    .unwrap();
    drop(_engine);
    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "hang around", "--agent", "hang"])
        .ok();
    wait_for("stalled", || job(&sb, 1)["state"] == "stalled");
    assert!(
        has_event(&sb, 1, |e| e.message.contains("nudged")),
        "{}",
        job(&sb, 1)["events"]
    );
}

#[test]
fn a_session_killed_from_outside_restarts_until_the_crash_loop_fails_it() {
    let (sb, _repo, _engine) = running(SLOW, 1);
    sb.run(&["dispatch", "api", "keep going", "--agent", "slow"])
        .ok();
    wait_for("running", || job(&sb, 1)["state"] == "running");
    let kill = || agents_tmux(&sb, &["kill-session", "-t", "=sb-1-1"]);
    for n in 1..=4 {
        kill();
        wait_for("a restart", || event_count(&sb, 1, "restart") >= n);
        if n < 4 {
            wait_for("the session back", || {
                agents_tmux(&sb, &["has-session", "-t", "=sb-1-1"])
                    .status
                    .success()
            });
        }
    }
    wait_for("the crash loop to fail it", || {
        has_event(&sb, 1, |e| e.message.contains("crash loop"))
    });
}

#[test]
fn a_drain_starts_nothing_new_and_ends_after_the_last_agent() {
    let (sb, _repo, mut engine) = running(SLOW, 2);
    sb.run(&["dispatch", "api", "long one", "--agent", "slow"])
        .ok();
    wait_for("running", || job(&sb, 1)["state"] == "running");
    sb.run(&["drain"]).ok();
    sb.run(&["dispatch", "api", "arrives during the drain"])
        .ok();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        job(&sb, 2)["state"],
        "queued",
        "nothing starts while draining"
    );
    assert!(
        job(&sb, 2)["reason"]
            .as_str()
            .unwrap()
            .starts_with("draining")
    );
    assert!(
        !sb.home().join("READY_FOR_SHUTDOWN").exists(),
        "not while an agent runs"
    );
    assert!(wait_exit(&mut engine).success());
    assert_eq!(job(&sb, 1)["state"], "done");
    assert!(sb.home().join("READY_FOR_SHUTDOWN").exists());
    // Resume: the work kept during the drain runs.
    sb.run(&["resume"]).ok();
    let _engine = start_engine(&sb);
    wait_for("the kept job to run", || job(&sb, 2)["state"] == "done");
    assert!(!sb.home().join("READY_FOR_SHUTDOWN").exists());
}

#[test]
fn sessions_the_journal_does_not_know_are_shown_not_killed() {
    let (sb, _repo, _engine) = running("", 1);
    let socket = sb.home().join("tmux/server.sock");
    let conf = sb.home().join("tmux/tmux.conf");
    wait_for("the engine's server config", || conf.exists());
    // Someone else's session on the engine's server. Under load the first
    // try can meet the server just as it exits with its last session (an
    // agent's ended) and the engine starts it again: try again then.
    wait_for("someone's session on the engine's server", || {
        std::process::Command::new("tmux")
            .arg("-S")
            .arg(&socket)
            .arg("-f")
            .arg(&conf)
            .args([
                "new-session",
                "-d",
                "-s",
                "someones-work",
                "--",
                "sleep",
                "60",
            ])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    sb.run(&["dispatch", "api", "poke the engine"]).ok();
    wait_for("the orphan event", || {
        sb.journal()
            .events_after(0)
            .unwrap()
            .iter()
            .any(|e| e.kind == "orphan" && e.message.contains("someones-work"))
    });
    let alive = agents_tmux(&sb, &["has-session", "-t", "=someones-work"]);
    assert!(alive.status.success(), "never killed silently");
}

#[test]
fn an_engine_killed_again_and_again_loses_nothing_and_starts_nothing_twice() {
    let (sb, _repo, engine) = running("", 4);
    for n in 0..20 {
        sb.run(&["dispatch", "api", &format!("job number {n}")])
            .ok();
    }
    let mut engine = Some(engine);
    for round in 0..6 {
        std::thread::sleep(Duration::from_millis(250 + 100 * round));
        if let Some(mut e) = engine.take() {
            // SIGKILL: no clean-up of any kind.
            let _ = e.child.kill();
            let _ = e.child.wait();
            std::mem::forget(e); // keep the tmux server and its agents
        }
        engine = Some(start_engine(&sb));
    }
    wait_for("every job done", || {
        jobs(&sb).iter().all(|j| j["state"] == "done")
    });
    assert_eq!(jobs(&sb).len(), 20, "no job lost");
    for id in 1..=20 {
        let demo =
            std::fs::read_to_string(sb.home().join(format!("worktrees/job-{id}/DEMO.md"))).unwrap();
        assert_eq!(
            demo.lines().count(),
            1,
            "job #{id}'s agent ran once: {demo:?}"
        );
    }
    let journal = sb.journal();
    assert!(
        journal
            .events_after(0)
            .unwrap()
            .iter()
            .all(|e| e.kind != "orphan"),
        "no session orphaned"
    );
    assert_eq!(journal.integrity_check().unwrap(), ["ok"]);
    drop(engine);
}

#[test]
fn an_attempt_past_its_timeout_is_ended_and_retried() {
    let extra = r#"
[agents.hang]
command = ["{switchboard}", "demo-agent", "--hang", "{prompt}"]
"#;
    let (sb, _repo, engine) = running(extra, 1);
    drop(engine);
    let config = std::fs::read_to_string(sb.home().join("config.toml")).unwrap();
    let config = config.replace(
        "idle_interval = \"500ms\"",
        "idle_interval = \"500ms\"\njob_timeout = \"1s\"\nmax_attempts = 2\nretry_backoff = \"1s\"",
    );
    std::fs::write(sb.home().join("config.toml"), config).unwrap();
    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "never ends", "--agent", "hang"])
        .ok();
    wait_for("the job to fail for good", || {
        let j = job(&sb, 1);
        j["state"] == "failed" && j["reason"].as_str().unwrap_or("").contains("failed 2 of 2")
    });
    wait_for("its sessions ended", || {
        let out = agents_tmux(&sb, &["list-sessions", "-F", "#{session_name}"]);
        !String::from_utf8_lossy(&out.stdout).contains("sb-1-")
    });
    assert!(
        has_event(&sb, 1, |e| e.kind == "timeout"),
        "{}",
        job(&sb, 1)["events"]
    );
}

#[test]
fn ticket_text_never_goes_to_a_shell_agent() {
    let (sb, repo, _engine) = running("", 1);
    let _ = repo;
    sb.add_project("ops", &sb.repo("ops"), "shell", &[]);
    let ticket = "{\"type\":\"ticket\",\"key\":\"OPS-9\",\"title\":\"$(touch /tmp/never)\",\"project\":\"ops\"}\n";
    sb.run_with_input(&["ingest", "-"], ticket.as_bytes()).ok();
    wait_for("the refusal", || {
        has_event(&sb, 1, |e| e.message.contains("runs its input as commands"))
    });
    assert!(!std::path::Path::new("/tmp/never").exists());
}

#[test]
fn work_waiting_for_a_repository_starts_as_soon_as_the_holder_ends() {
    // Intervals far longer than the test: only the freed place wakes it.
    let slow_intervals = FAST
        .replace("\"200ms\"", "\"60s\"")
        .replace("\"500ms\"", "\"120s\"");
    let (sb, _repo, _engine) = running_with(&slow_intervals, 1);
    sb.run(&["dispatch", "api", "first"]).ok();
    sb.run(&["dispatch", "api", "second"]).ok();
    wait_for("the first to finish", || job(&sb, 1)["state"] == "done");
    wait_until(
        Duration::from_secs(10),
        STEP,
        || match job(&sb, 2) {
            second if second["state"] == "queued" => Err(second),
            _ => Ok(()),
        },
        |second| format!("the second job still waits: {second}"),
    );
}

#[test]
fn a_job_whose_agent_is_not_installed_fails_at_once_saying_so() {
    let ghost = r#"
[agents.ghost]
command = ["switchboard-test-no-such-agent", "{prompt}"]
"#;
    let (sb, _repo, _engine) = running(ghost, 1);
    sb.run(&["dispatch", "api", "anything", "--agent", "ghost"])
        .ok();
    // The attempt fails at once; the scheduler may already have queued
    // the retry (the engine looks again as soon as the journal changes).
    let failed = |j: &Value| {
        j["events"].as_array().into_iter().flatten().any(|e| {
            e["kind"] == "failed"
                && e["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("switchboard-test-no-such-agent: not found on PATH")
        })
    };
    wait_for("the job to fail saying why", || failed(&job(&sb, 1)));
}

/// An agent that starts a daemon outside its session (as Codex starts its
/// app-server, which outlives its TUI and the tmux session): when the
/// attempt ends, the daemon ends with it; another job's daemon does not.
#[test]
fn an_attempts_daemon_ends_with_the_attempt() {
    let sb = Sandbox::new();
    let pids = sb.dir.path().join("pids");
    std::fs::create_dir_all(&pids).unwrap();
    let config = format!(
        r#"{FAST}
[agents.daemon]
command = ["sh", "-c", 'setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $! > "$0/$SWITCHBOARD_JOB"; exec sleep 300', "{}"]
"#,
        pids.display()
    );
    let repo = sb.repo("api");
    std::fs::create_dir_all(sb.home()).unwrap();
    std::fs::write(sb.home().join("config.toml"), config).unwrap();
    sb.add_project("api", &repo, "daemon", &["--max-agents", "2"]);
    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "one"]).ok();
    sb.run(&["dispatch", "api", "two"]).ok();
    let pid = |job: i64| -> Option<i32> {
        std::fs::read_to_string(pids.join(job.to_string()))
            .ok()?
            .trim()
            .parse()
            .ok()
    };
    let alive = |pid: i32| {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit_once(") ")
                .is_some_and(|(_, r)| !r.starts_with('Z'))
        })
    };
    wait_secs(20, "both daemons", || pid(1).is_some() && pid(2).is_some());
    let (one, two) = (pid(1).unwrap(), pid(2).unwrap());
    assert!(alive(one) && alive(two));
    sb.run(&["kill", "1"]).ok();
    wait_secs(10, "job 1's daemon to end with its attempt", || !alive(one));
    assert!(alive(two), "job 2's daemon is not job 1's");
    sb.run(&["kill", "2"]).ok();
    wait_secs(10, "job 2's daemon to end", || !alive(two));
}

/// With an alarm of an hour, the engine still follows an agent through
/// its whole turn: each change of its pane wakes it (tmux control mode's
/// `%output` from a client on the agent's session), so the question is
/// seen, and after the answer the turn's end, without waiting for the
/// alarm. Before, the engine slept until the alarm once a pass saw
/// nothing new. The agent makes no reports (they would wake the engine
/// through the journal): only its screen tells.
#[test]
fn a_pane_that_draws_wakes_the_engine_before_its_alarm() {
    let config = r#"
[scheduler]
active_interval = "1h"

[agents.fast]
command = ["env", "-u", "SWITCHBOARD_JOB", "{switchboard}", "demo-agent", "--ask", "--steps", "3", "--step-ms", "300", "{prompt}"]
prompt = "argv"
ready = '(?m)^demo> \s*\z'
busy = '⠿ working[^\n]*\s*\z'
ask = '\[y/n\]\s*\z'
answer_enter = true
"#;
    let (sb, _repo, _engine) = running_with(config, 1);
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    wait_for("the question to be seen", || {
        job(&sb, 1)["state"] == "waiting"
    });
    sb.run(&["answer", "1", "y"]).ok();
    wait_for("the turn's end to be seen", || {
        job(&sb, 1)["state"] == "done"
    });
    let events = sb.journal().events(1).unwrap();
    assert!(
        events.iter().any(|e| e.message.contains("idle by screen")),
        "the turn's end was read from the screen: {events:#?}"
    );
}

/// Two answers to one question, the second asked for before the first was
/// carried out (the room's key pressed while a script answered): the
/// agent gets the first alone. The second would be typed into whatever
/// the agent shows next (Claude Code's next menu, a prompt).
#[test]
fn a_second_answer_to_an_answered_question_presses_no_key() {
    let config = r#"
[agents.fast]
command = ["{switchboard}", "demo-agent", "--ask", "--steps", "40", "--step-ms", "300", "{prompt}"]
prompt = "argv"
ready = '(?m)^demo> \s*\z'
busy = '⠿ working[^\n]*\s*\z'
ask = '\[y/n\]\s*\z'
answer_enter = true
"#;
    let (sb, _repo, _engine) = running_with(config, 1);
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    wait_for("the question to be seen", || {
        job(&sb, 1)["state"] == "waiting"
    });
    // Both journaled at once, so one pass finds both pending.
    let now = switchboard::model::Timestamp::now().millis();
    sb.sql(&format!(
        "INSERT INTO commands (at, kind, job_id, text) VALUES ({now}, 'answer', 1, 'y'), ({now}, 'answer', 1, 'n');"
    ));
    wait_for("both answers to be carried out or refused", || {
        sb.journal()
            .events(1)
            .unwrap()
            .iter()
            .filter(|e| {
                e.kind == "command"
                    && (e.message.starts_with("answered")
                        || e.message.contains("no key was pressed"))
            })
            .count()
            == 2
    });
    let events = sb.journal().events(1).unwrap();
    let answered: Vec<&str> = events
        .iter()
        .filter(|e| e.message.starts_with("answered"))
        .map(|e| e.message.as_str())
        .collect();
    assert_eq!(
        answered,
        vec!["answered job #1's question with y"],
        "{events:#?}"
    );
    let screen = agents_tmux(&sb, &["capture-pane", "-p", "-t", "sb-1-1"]);
    let screen = String::from_utf8_lossy(&screen.stdout);
    assert!(!screen.contains("? [y/n] yn"), "{screen}");
}

/// An agent whose only sign of a question is its report (`switchboard
/// report --waiting`, a hook): no `ask` pattern in its profile. The job
/// waits until it is answered, then goes on to its turn's end. Before,
/// the report that made the job wait stopped counting the moment the job
/// waited (reports counted from the job's last change of state), so the
/// next pass read the screen's quiet instead: the job ran again, and five
/// quiet seconds later was done with the question unanswered and nothing
/// in its branch.
#[test]
fn a_question_reported_by_the_agent_alone_waits_for_its_answer() {
    let config = r#"
[scheduler]
active_interval = "200ms"

[agents.fast]
command = ["{switchboard}", "demo-agent", "--ask", "--steps", "2", "--step-ms", "50", "{prompt}"]
prompt = "argv"
answer_enter = true
"#;
    let (sb, _repo, _engine) = running_with(config, 1);
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    wait_for("the question to be seen", || {
        job(&sb, 1)["state"] == "waiting"
    });
    // Quiet for longer than the engine's idle reading (5 s): a screen
    // that does not change is no answer.
    std::thread::sleep(Duration::from_secs(6));
    let events = sb.journal().events(1).unwrap();
    assert_eq!(job(&sb, 1)["state"], "waiting", "{events:#?}");
    sb.run(&["answer", "1", "y"]).ok();
    wait_for("the turn's end after the answer", || {
        job(&sb, 1)["state"] == "done"
    });
    // The job shows done before its work is committed: the item's diff
    // stat comes with `ready`.
    wait_for("its work committed", || review(&sb)[0]["state"] == "ready");
    let item = &review(&sb)[0];
    assert_eq!(item["files"], 1, "the agent did its work after the answer");
}

/// The demo's asking agent, answered as the walkthrough says (`y` in the
/// room's details, or `switchboard answer 2 y`), goes on with its work.
/// Before, the demo's profile pressed `y` alone: the demo agent reads its
/// answer as a line, so `y` sat at its prompt, the screen went quiet and
/// the job was done with nothing done.
#[test]
fn the_demos_question_answered_with_y_lets_its_agent_work() {
    let sb = Sandbox::new();
    let out = common::Run::of(sb.cmd(&["demo", "--no-room"]).env("TMPDIR", sb.dir.path()));
    let home = std::path::PathBuf::from(out.ok().trim());
    let run = |args: &[&str]| common::Run::of(&mut common::command(&home, args));
    let child = common::command(&home, &["run", "--headless"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the engine");
    let _engine = EngineProcess {
        child,
        home: home.clone(),
    };
    let state = |id: &str| run(&["jobs", id, "--json"]).json()["state"].clone();
    wait_secs(60, "the demo's question", || state("2") == "waiting");
    run(&["answer", "2", "y"]).ok();
    wait_secs(60, "its turn's end", || state("2") == "done");
    // The job shows done before its work is committed: the item's diff
    // stat comes with `ready`.
    let ready = || {
        run(&["review", "--json"])
            .json()
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["job"] == 2 && r["state"] == "ready")
    };
    wait_secs(60, "its work committed", ready);
    let review = run(&["review", "--json"]).json();
    let item = review
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["job"] == 2)
        .cloned()
        .unwrap_or_default();
    assert_eq!(item["files"], 1, "the agent did its work: {review:#}");
}

/// A profile that types its task in (`prompt = "paste"`) but whose
/// `ready` never shows (a shell whose prompt is `# `, not `$ `): the
/// attempt fails, saying which pattern did not show and what the screen
/// ends with. Before, the wait's timeout was taken for tmux going away:
/// the pass was retried, the session adopted as running, and the job sat
/// in `running` for ever with its task never typed in.
#[test]
fn a_ready_pattern_that_never_shows_fails_the_attempt_saying_so() {
    let config = r#"
[scheduler]
active_interval = "200ms"
max_attempts = 1

[agents.fast]
command = ["sh", "-c", "printf 'not the prompt> '; exec cat"]
prompt = "paste"
ready = 'NEVER SHOWN'
ready_within = "1s"
"#;
    let (sb, _repo, _engine) = running_with(config, 1);
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    wait_for("the attempt to fail", || job(&sb, 1)["state"] == "failed");
    let events = sb.journal().events(1).unwrap();
    let failed = events
        .iter()
        .find(|e| e.kind == "failed")
        .map(|e| e.message.clone())
        .unwrap_or_default();
    assert!(
        failed.contains("/NEVER SHOWN/") && failed.contains("not the prompt>"),
        "{events:#?}"
    );
    assert!(
        !events.iter().any(|e| e.message.contains("adopted")),
        "{events:#?}"
    );
}

/// An approve names the commit the operator saw (`--commit`, as the room
/// passes it): a commit that lands on the branch after the approve is
/// journaled and before the engine carries it out is not merged unseen.
/// The engine refuses, saying so, and merges nothing; an approve of what
/// is there then merges.
#[test]
fn an_approve_merges_only_the_commit_it_named() {
    let sb = home_with(FAST, &["api"]);
    let repo = sb.dir.path().join("api");
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    let engine = start_engine(&sb);
    wait_for("the review item", || {
        review(&sb).first().is_some_and(|r| r["state"] == "ready")
    });
    // The engine stops: the approve waits in the journal.
    engine.crash();
    let base = common::git_output(&repo, &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    let seen = common::git_output(&repo, &["rev-parse", "switchboard/1"])
        .trim()
        .to_string();
    // The review item names that commit: the room's approve passes it.
    let item = sb.journal().review_item(1).unwrap().unwrap();
    assert_eq!(item.head.as_deref(), Some(seen.as_str()));
    sb.run(&["approve", "1", "--commit", &seen[..7]]).ok();
    let command = sb.journal().pending_commands().unwrap()[0].id;

    // A commit lands on the branch before the engine carries it out.
    let tree = common::git_output(&repo, &["rev-parse", "switchboard/1^{tree}"])
        .trim()
        .to_string();
    let late = String::from_utf8(
        std::process::Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(["commit-tree", &tree, "-p", &seen, "-m", "unseen"])
            .env("GIT_AUTHOR_NAME", "test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    git(
        &repo,
        &["update-ref", "refs/heads/switchboard/1", &late, &seen],
    );

    let _engine = start_engine(&sb);
    wait_for("the approve's outcome", || {
        sb.journal().command_outcome(command).unwrap().is_some()
    });
    let (done, why) = sb.journal().command_outcome(command).unwrap().unwrap();
    assert!(!done, "{why}");
    assert!(
        why.contains(&format!(
            "job #1's branch moved since it was approved (approved {}, now {})",
            &seen[..7],
            &late[..7]
        )),
        "{why}"
    );
    assert!(why.contains("nothing was merged"), "{why}");
    assert_eq!(
        common::git_output(&repo, &["rev-parse", "HEAD"]).trim(),
        base
    );
    assert_eq!(review(&sb)[0]["state"], "ready");

    // Approving what is there now merges it.
    sb.run(&["approve", "1", "--commit", &late]).ok();
    wait_for("the merge", || {
        review(&sb).first().is_some_and(|r| r["state"] == "merged")
    });
    assert!(repo.join("DEMO.md").exists());
}

/// Approving work that changes no file: nothing merges, the item closes
/// as approved, and the words say there was nothing to merge (not
/// "merged into main as" the base's own commit).
#[test]
fn approving_work_without_changes_says_there_was_nothing_to_merge() {
    let sb = home_with(FAST, &["api"]);
    let repo = sb.dir.path().join("api");
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    let _engine = start_engine(&sb);
    wait_for("the review item", || {
        review(&sb).first().is_some_and(|r| r["state"] == "ready")
    });
    // The agent's work undone: the branch holds nothing the base lacks.
    let worktree = sb.home().join("worktrees/job-1");
    git(&worktree, &["reset", "-q", "--hard", "main"]);
    let before = git_rev(&repo, "main");

    sb.run(&["approve", "1"]).ok();
    wait_for("the item closed", || {
        review(&sb).first().is_none_or(|r| r["state"] == "merged")
    });
    assert_eq!(git_rev(&repo, "main"), before, "the base did not move");
    let said: Vec<String> = sb
        .journal()
        .events(1)
        .unwrap()
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert!(
        said.iter().any(|m| m.starts_with("nothing to merge")),
        "{said:?}"
    );
    assert!(!said.iter().any(|m| m.contains("merged into")), "{said:?}");
}

fn git_rev(repo: &std::path::Path, rev: &str) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", rev])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
