//! `switchboard simulate` as the real binary, on every scenario in
//! assets/scenarios/, and replaying a real journal.

mod common;

use std::path::PathBuf;

use common::Sandbox;
use serde_json::Value;

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("assets/scenarios")
        .join(name)
}

/// Runs a scenario with --json: the decisions and the summary.
fn simulate(sb: &Sandbox, args: &[&str]) -> (Vec<Value>, Value, String) {
    let out = sb.run(args);
    let stdout = out.ok().to_string();
    let mut lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let summary = lines.pop().expect("a summary line")["summary"].clone();
    assert!(
        summary.is_object(),
        "the last line is the summary: {stdout}"
    );
    for d in &lines {
        assert!(
            d["decision"].is_string() && d["reason"].is_string() && d["at"].is_string(),
            "{d}"
        );
    }
    (lines, summary, stdout)
}

fn run_scenario(name: &str) -> (Vec<Value>, Value) {
    let sb = Sandbox::new();
    let path = scenario(name);
    let (decisions, summary, first) = simulate(
        &sb,
        &["simulate", path.to_str().unwrap(), "--json", "--seed", "7"],
    );
    let (_, _, second) = simulate(
        &sb,
        &["simulate", path.to_str().unwrap(), "--json", "--seed", "7"],
    );
    assert_eq!(
        first, second,
        "the same scenario and seed give the same output, byte for byte"
    );
    (decisions, summary)
}

fn count(decisions: &[Value], kind: &str) -> usize {
    decisions.iter().filter(|d| d["decision"] == kind).count()
}

#[test]
fn every_scenario_in_assets_runs() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("assets/scenarios");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    for name in names {
        let (decisions, summary) = run_scenario(name.to_str().unwrap());
        assert!(!decisions.is_empty(), "{name:?} decided nothing");
        for key in [
            "jobs_by_kind",
            "chains",
            "alarms_chained",
            "tickets_deduplicated",
            "agents_started",
            "max_concurrency",
            "retries",
            "failed",
            "events",
            "mean_wait_s",
            "max_wait_s",
        ] {
            assert!(summary.get(key).is_some(), "{name:?}: summary lacks {key}");
        }
    }
}

#[test]
fn a_hundred_alarms_in_an_hour_make_one_incident_per_chain() {
    let (decisions, summary) = run_scenario("alarms-100-in-an-hour.jsonl");
    assert_eq!(summary["messages"], 100);
    let chains = summary["chains"].as_u64().unwrap();
    assert_eq!(
        summary["jobs_by_kind"]["incident"].as_u64().unwrap(),
        chains
    );
    assert_eq!(count(&decisions, "open_chain") as u64, chains);
    let alarms = count(&decisions, "open_chain")
        + count(&decisions, "join_chain")
        + count(&decisions, "resolve_chain");
    assert_eq!(alarms, 100, "every alarm was decided on");
    assert!(
        summary["alarms_chained"].as_u64().unwrap() > chains,
        "most alarms join a chain"
    );
    assert!(summary["max_concurrency"].as_u64().unwrap() <= 6);
}

#[test]
fn ten_tickets_a_second_make_one_job_per_key() {
    let (decisions, summary) = run_scenario("tickets-10-per-second.jsonl");
    assert_eq!(summary["messages"], 600);
    let mut keys: Vec<&str> = decisions
        .iter()
        .filter(|d| d["decision"] == "open_ticket")
        .map(|d| d["key"].as_str().unwrap())
        .collect();
    let opened = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), opened, "no key opened twice");
    assert_eq!(
        summary["jobs_by_kind"]["ticket"].as_u64().unwrap() as usize,
        opened
    );
    assert_eq!(
        summary["tickets_deduplicated"].as_u64().unwrap() as usize,
        600 - opened
    );
    assert!(summary["max_concurrency"].as_u64().unwrap() <= 8);
}

#[test]
fn a_claimed_repository_runs_its_work_one_at_a_time() {
    let (decisions, summary) = run_scenario("claimed-repository.jsonl");
    let waits: Vec<&str> = decisions
        .iter()
        .filter(|d| d["decision"] == "wait")
        .map(|d| d["reason"].as_str().unwrap())
        .collect();
    assert!(
        waits.contains(&"repository of project api claimed by #1"),
        "{waits:?}"
    );
    assert_eq!(summary["done"], 6);
    assert_eq!(summary["max_concurrency"], 3, "api one at a time, web two");
}

#[test]
fn a_flapping_alarm_stays_one_incident() {
    let (decisions, summary) = run_scenario("flapping-alarm.jsonl");
    assert_eq!(
        summary["chains"], 2,
        "the flapping hour, and the ALARM two hours later"
    );
    assert_eq!(summary["alarms_chained"], 2);
    assert_eq!(count(&decisions, "resolve_chain"), 3);
    assert_eq!(summary["jobs_by_kind"]["incident"], 2);
}

#[test]
fn failing_agents_retry_then_fail_for_good() {
    let (decisions, summary) = run_scenario("failing-agents.jsonl");
    assert_eq!(summary["failed"], 2, "broken and stuck");
    assert_eq!(summary["timeouts"], 3, "stuck, three attempts");
    assert_eq!(summary["done"], 2, "flaky and the docs");
    assert_eq!(count(&decisions, "give_up"), 2);
    let retry = decisions.iter().find(|d| d["decision"] == "retry").unwrap();
    assert!(
        retry["reason"].as_str().unwrap().contains("retry in"),
        "{retry}"
    );
    assert!(retry["not_before"].is_string());
}

#[test]
fn another_seed_spreads_retries_differently() {
    let sb = Sandbox::new();
    let path = scenario("failing-agents.jsonl");
    let (_, _, a) = simulate(
        &sb,
        &["simulate", path.to_str().unwrap(), "--json", "--seed", "1"],
    );
    let (_, _, b) = simulate(
        &sb,
        &["simulate", path.to_str().unwrap(), "--json", "--seed", "2"],
    );
    assert_ne!(a, b);
}

#[test]
fn human_output_shows_decisions_and_a_summary() {
    let sb = Sandbox::new();
    let out = sb.run(&[
        "simulate",
        scenario("claimed-repository.jsonl").to_str().unwrap(),
    ]);
    let text = out.ok();
    assert!(
        text.contains("repository of project api claimed by #1"),
        "{text}"
    );
    assert!(text.contains("agents started     6"), "{text}");
}

#[test]
fn replaying_a_journal_decides_on_its_recorded_intake() {
    let sb = Sandbox::new();
    sb.project("api");
    let input = concat!(
        "{\"type\":\"alarm\",\"account\":\"1\",\"name\":\"CPU\",\"state\":\"ALARM\",\"at\":\"2026-01-01T00:00:00Z\"}\n",
        "{\"type\":\"alarm\",\"account\":\"1\",\"name\":\"CPU\",\"state\":\"ALARM\",\"at\":\"2026-01-01T00:30:00Z\"}\n",
        "{\"type\":\"ticket\",\"key\":\"OPS-1\",\"title\":\"a\",\"project\":\"api\"}\n",
        "{\"type\":\"ticket\",\"key\":\"OPS-1\",\"title\":\"a again\",\"project\":\"api\"}\n",
        "{\"type\":\"task\",\"project\":\"api\",\"prompt\":\"tidy up\"}\n",
    );
    sb.run_with_input(&["ingest", "-"], input.as_bytes()).ok();
    let db = sb.home().join("journal.db");
    let (_, summary, _) = simulate(
        &sb,
        &["simulate", "--from-journal", db.to_str().unwrap(), "--json"],
    );
    assert_eq!(summary["messages"], 5);
    assert_eq!(summary["chains"], 1);
    assert_eq!(summary["alarms_chained"], 1);
    assert_eq!(summary["tickets_deduplicated"], 1);
    assert_eq!(summary["jobs_by_kind"]["task"], 1);
}

#[test]
fn simulate_errors_name_the_problem() {
    let sb = Sandbox::new();
    let err = sb.run(&["simulate"]).fails(1).to_string();
    assert!(err.contains("--from-journal"), "{err}");
    let err = sb
        .run(&["simulate", "/no/such/scenario"])
        .fails(1)
        .to_string();
    assert!(err.contains("cannot read /no/such/scenario"), "{err}");
    let bad = sb.dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"project\":\"api\"}\n{\"at\":\"2026-01-01T00:00:00Z\",\"type\":\"alarm\",\"account\":\"1\"}\n").unwrap();
    let err = sb
        .run(&["simulate", bad.to_str().unwrap()])
        .fails(1)
        .to_string();
    assert!(
        err.contains("scenario line 2") && err.contains("missing \"state\""),
        "{err}"
    );
    let err = sb
        .run(&["simulate", "--from-journal", "/no/journal.db"])
        .fails(1)
        .to_string();
    assert!(err.contains("no journal at /no/journal.db"), "{err}");
}

#[test]
fn a_long_queue_prints_a_decision_only_when_something_changes() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.home()).unwrap();
    let path = sb.home().join("queue.jsonl");
    let mut text =
        String::from("{\"project\":\"app\",\"max_agents\":1}\n{\"agent\":{\"duration\":\"1m\"}}\n");
    for i in 0..400 {
        text.push_str(&format!(
            "{{\"at\":\"2026-01-01T00:00:{:02}Z\",\"type\":\"task\",\"project\":\"app\",\"prompt\":\"task {i}\"}}\n",
            i % 60
        ));
    }
    std::fs::write(&path, text).unwrap();
    let (decisions, summary, full) = simulate(
        &sb,
        &["simulate", path.to_str().unwrap(), "--json", "--seed", "3"],
    );
    assert_eq!(summary["agents_started"], 400);
    // One job, one start, at most one wait each: linear in the messages,
    // not a wait for every waiting job whenever the holder changes.
    assert_eq!(count(&decisions, "start"), 400);
    assert_eq!(count(&decisions, "wait"), 399, "each waiting job told once");
    assert!(decisions.len() <= 3 * 400, "{}", decisions.len());

    // --summary-only: the summary line alone, the same as the full run's.
    let only = sb.run(&[
        "simulate",
        path.to_str().unwrap(),
        "--json",
        "--seed",
        "3",
        "--summary-only",
    ]);
    let only = only.ok().to_string();
    assert_eq!(only.lines().count(), 1, "{only}");
    assert_eq!(only.lines().last(), full.lines().last());
}

/// Each decision names its time once, and a simulation leaves no inbox,
/// tmux or worktrees directory in the home.
#[test]
fn json_names_at_once_and_the_home_stays_bare() {
    let sb = Sandbox::new();
    let path = scenario("alarms-100-in-an-hour.jsonl");
    let (_, _, stdout) = simulate(&sb, &["simulate", path.to_str().unwrap(), "--json"]);
    for line in stdout.lines() {
        assert!(line.matches("\"at\":").count() <= 1, "{line}");
    }
    for dir in ["inbox", "tmux", "worktrees"] {
        assert!(!sb.home().join(dir).exists(), "{dir} was created");
    }
}

#[test]
fn a_host_limit_holds_and_an_unreachable_host_starts_nothing() {
    let (decisions, summary) = run_scenario("hosts.jsonl");
    let reasons = |kind: &str, job: i64| -> Vec<String> {
        decisions
            .iter()
            .filter(|d| d["decision"] == kind && d["job"] == job)
            .map(|d| d["reason"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(reasons("wait", 3), ["host build1 has 2/2 agents"]);
    assert_eq!(reasons("wait", 7), ["host build2 is unreachable"]);
    // #3 and #4 start when #1 and #2 end, not before.
    let start_of = |job: i64| {
        decisions
            .iter()
            .find(|d| d["decision"] == "start" && d["job"] == job)
            .map(|d| d["at"].as_str().unwrap().to_string())
    };
    assert_eq!(start_of(3).as_deref(), Some("2026-11-02T09:20:00.000Z"));
    // The ml task starts only once build2 is back, when its agent's end
    // (due at 09:22, while unreachable) is seen.
    assert_eq!(start_of(7).as_deref(), Some("2026-11-02T09:30:00.000Z"));
    assert_eq!(summary["done"], 7, "nothing counted dead");
    assert_eq!(summary["failed"], 0);
    assert_eq!(summary["retries"], 0, "nothing restarted");
}

#[test]
fn jobs_that_wait_start_in_order_and_a_failed_one_holds_its_dependent() {
    let (decisions, summary) = run_scenario("jobs-that-wait.jsonl");
    let starts: Vec<(i64, &str)> = decisions
        .iter()
        .filter(|d| d["decision"] == "start")
        .map(|d| (d["job"].as_i64().unwrap(), d["at"].as_str().unwrap()))
        .collect();
    let first = |job: i64| starts.iter().find(|s| s.0 == job).map(|s| s.1);
    // #2 starts when #1 is done (10 minutes), #5 when #2 is.
    assert_eq!(first(2), Some("2026-11-02T09:10:00.000Z"), "{starts:?}");
    assert_eq!(first(5), Some("2026-11-02T09:20:00.000Z"), "{starts:?}");
    assert_eq!(first(4), None, "#3 failed for good: #4 never starts");
    let held = decisions
        .iter()
        .rfind(|d| d["job"] == 4 && d["decision"] == "wait")
        .unwrap();
    assert_eq!(held["wait"], "after_failed");
    assert_eq!(held["reason"], "after #3 (failed)");
    assert_eq!(summary["done"], 3);
    assert_eq!(summary["failed"], 1);
}

#[test]
fn a_wait_on_a_job_not_created_yet_is_refused_so_no_cycle_can_form() {
    let sb = Sandbox::new();
    let path = sb.dir.path().join("cycle.jsonl");
    std::fs::write(
        &path,
        concat!(
            "{\"at\":\"2026-01-01T00:00:00Z\",\"type\":\"task\",\"project\":\"api\",\"prompt\":\"a\"}\n",
            "{\"at\":\"2026-01-01T00:00:00Z\",\"type\":\"task\",\"project\":\"api\",\"prompt\":\"b\",\"after\":[1,2]}\n",
        ),
    )
    .unwrap();
    let err = sb
        .run(&["simulate", path.to_str().unwrap()])
        .fails(1)
        .to_string();
    assert!(
        err.contains("scenario line 2") && err.contains("no job #2"),
        "{err}"
    );
}

#[test]
fn a_paused_queue_starts_nothing_until_it_is_resumed() {
    let sb = Sandbox::new();
    let path = sb.dir.path().join("pause.jsonl");
    std::fs::write(
        &path,
        r#"{"project": "api", "max_agents": 2}
{"agent": {"duration": "5m"}}
{"at": "2026-11-02T09:00:00Z", "pause": true}
{"at": "2026-11-02T09:01:00Z", "type": "task", "project": "api", "prompt": "one"}
{"at": "2026-11-02T09:02:00Z", "type": "task", "project": "api", "prompt": "two"}
{"at": "2026-11-02T09:30:00Z", "pause": false}
"#,
    )
    .unwrap();
    let (decisions, summary, _) = simulate(&sb, &["simulate", path.to_str().unwrap(), "--json"]);
    let starts: Vec<&str> = decisions
        .iter()
        .filter(|d| d["decision"] == "start")
        .map(|d| d["at"].as_str().unwrap())
        .collect();
    assert_eq!(starts, ["2026-11-02T09:30:00.000Z"; 2], "{decisions:?}");
    let paused = decisions
        .iter()
        .filter(|d| d["reason"] == "paused: no new agents start (switchboard resume)")
        .count();
    assert_eq!(paused, 2, "each job told once: {decisions:?}");
    assert_eq!(summary["done"], 2);
}
