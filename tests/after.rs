//! Jobs that wait for each other (`dispatch --after`, `"after"` in
//! messages) on a real journal: refused when they name no job, held until
//! what they wait for is merged, held with the reason when it failed or
//! was killed, and shown by `jobs`.

mod common;

use common::Sandbox;
use switchboard::config::Config;
use switchboard::model::Timestamp;

fn config(sb: &Sandbox) -> Config {
    Config::load(&sb.home().join("config.toml")).unwrap()
}

/// One scheduler pass; the kinds of its decisions.
fn schedule(sb: &Sandbox) -> Vec<(String, String)> {
    let mut journal = sb.journal();
    let (decisions, _) = journal
        .schedule(&config(sb), Timestamp::now(), false)
        .unwrap();
    decisions
        .iter()
        .map(|d| (d.kind().to_string(), d.reason.clone()))
        .collect()
}

fn job(sb: &Sandbox, id: i64) -> serde_json::Value {
    sb.run(&["jobs", &id.to_string(), "--json"]).json()
}

#[test]
fn a_job_after_another_starts_once_it_is_merged() {
    let sb = Sandbox::new();
    sb.project("api");
    sb.project("web");
    sb.run(&["dispatch", "api", "add the column"]).ok();
    let out = sb
        .run(&[
            "dispatch",
            "web",
            "use the column",
            "--after",
            "1",
            "--json",
        ])
        .json();
    assert_eq!(out["after"], serde_json::json!([1]));
    let human = sb
        .run(&[
            "dispatch",
            "web",
            "document it",
            "--after",
            "1,2",
            "--after",
            "2",
        ])
        .ok()
        .to_string();
    assert!(human.contains("starts after #1, #2 merged"), "{human}");

    let d = schedule(&sb);
    assert_eq!(d[0].0, "start", "{d:?}");
    assert!(
        d.contains(&("wait".into(), "after #1 (queued)".into())),
        "told in the same pass as #1 starts: {d:?}"
    );
    assert_eq!(job(&sb, 2)["state"], "queued");
    assert_eq!(job(&sb, 2)["after"], serde_json::json!([1]));
    assert_eq!(job(&sb, 3)["after"], serde_json::json!([1, 2]));
    // Shown as it stands now, not as it was told.
    assert_eq!(job(&sb, 2)["reason"], "after #1 (running)");
    let list = sb.run(&["jobs"]).ok().to_string();
    assert!(list.contains("after #1 (running), #2 (queued)"), "{list}");

    // #1 done, its work in review: #2 still waits.
    sb.sql("UPDATE jobs SET state = 'done', attempt = 1 WHERE id = 1");
    sb.sql(
        "INSERT INTO review_items (job_id, attempt, project, branch, created_at, updated_at) \
         VALUES (1, 1, 'api', 'switchboard/1', 0, 0)",
    );
    let d = schedule(&sb);
    assert!(!d.iter().any(|(k, _)| k == "start"), "{d:?}");
    assert_eq!(job(&sb, 2)["reason"], "after #1 (in review)");

    // Merged: #2 starts; #3 now waits for #2 only.
    sb.sql("UPDATE review_items SET state = 'merged' WHERE job_id = 1");
    let d = schedule(&sb);
    assert_eq!(d[0].0, "start", "{d:?}");
    assert_eq!(job(&sb, 2)["state"], "starting");
    assert_eq!(job(&sb, 3)["state"], "queued");
    assert_eq!(job(&sb, 3)["reason"], "after #2 (running)");
    let shown = sb.run(&["jobs", "3"]).ok().to_string();
    assert!(
        shown.contains("after     #1 (merged), #2 (running)"),
        "{shown}"
    );
}

#[test]
fn a_killed_dependency_holds_the_job_with_that_reason_until_retried() {
    let sb = Sandbox::new();
    sb.project("api");
    sb.run(&["dispatch", "api", "first"]).ok();
    sb.run(&["dispatch", "api", "second", "--after", "1"]).ok();
    sb.sql(
        "UPDATE jobs SET state = 'killed', state_reason = 'killed by the operator' WHERE id = 1",
    );
    let d = schedule(&sb);
    assert_eq!(
        d,
        [("wait".to_string(), "after #1 (killed)".to_string())],
        "the operator decides"
    );
    let events = job(&sb, 2)["events"].clone();
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["message"] == "after #1 (killed)"),
        "{events}"
    );
    // A wait is state, not an event stream: the next pass tells nothing.
    assert!(schedule(&sb).is_empty());
    // The operator retries #1: it starts, #2 waits for it again.
    sb.sql("UPDATE jobs SET state = 'queued', state_reason = NULL WHERE id = 1");
    let d = schedule(&sb);
    assert_eq!(d[0].0, "start", "{d:?}");
    assert_eq!(d[1], ("wait".into(), "after #1 (queued)".into()));
}

#[test]
fn waiting_for_a_job_that_does_not_exist_is_refused() {
    let sb = Sandbox::new();
    sb.project("api");
    let err = sb
        .run(&["dispatch", "api", "x", "--after", "7"])
        .fails(1)
        .to_string();
    assert!(err.contains("there is no job #7 to wait for"), "{err}");
    // Not a job id: a usage error, in the words the room's form uses.
    for bad in ["0", "x", "1,x"] {
        let err = sb
            .run(&["dispatch", "api", "x", "--after", bad])
            .fails(2)
            .to_string();
        assert!(err.contains("job ids are whole numbers from 1"), "{err}");
    }
    let jobs = sb.run(&["jobs", "--json"]).json();
    assert_eq!(jobs.as_array().unwrap().len(), 0, "nothing journaled");
}

#[test]
fn a_message_may_wait_and_one_naming_no_job_is_rejected_with_its_line() {
    let sb = Sandbox::new();
    sb.project("api");
    let input = concat!(
        "{\"type\":\"task\",\"project\":\"api\",\"prompt\":\"a\"}\n",
        "{\"type\":\"task\",\"project\":\"api\",\"prompt\":\"b\",\"after\":[1]}\n",
        "{\"type\":\"task\",\"project\":\"api\",\"prompt\":\"c\",\"after\":[9]}\n",
        "{\"type\":\"task\",\"project\":\"api\",\"prompt\":\"d\",\"after\":\"1\"}\n",
    );
    let out = sb.run_with_input(&["ingest", "-", "--json"], input.as_bytes());
    let text = format!("{}{}", out.stdout, out.stderr);
    assert!(text.contains("there is no job #9 to wait for"), "{text}");
    assert!(text.contains("must be a list of job ids"), "{text}");
    let jobs = sb.run(&["jobs", "--json"]).json();
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert_eq!(jobs[1]["after"], serde_json::json!([1]));
}

#[test]
fn with_the_engine_a_job_after_another_starts_from_the_base_with_its_work_merged() {
    use common::engine::{FAST, start_engine, wait_secs};
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.home()).unwrap();
    std::fs::write(sb.home().join("config.toml"), FAST).unwrap();
    let repo = sb.repo("api");
    // Room for two agents: only the wait holds #2 back.
    sb.add_project("api", &repo, "fast", &["--max-agents", "2"]);
    sb.run(&["dispatch", "api", "first"]).ok();
    sb.run(&["dispatch", "api", "second", "--after", "1"]).ok();
    let _engine = start_engine(&sb);
    let review = |id: i64| -> Option<String> {
        sb.run(&["review", "--json"])
            .json()
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["job"] == id)
            .and_then(|r| r["state"].as_str().map(str::to_string))
    };
    wait_secs(30, "#1 in review", || review(1).as_deref() == Some("ready"));
    // Done, not merged: #2 has not started.
    std::thread::sleep(std::time::Duration::from_millis(800));
    let second = job(&sb, 2);
    assert_eq!(second["state"], "queued", "{second}");
    assert_eq!(second["attempts"], 0);
    assert_eq!(second["reason"], "after #1 (in review)");
    sb.run(&["approve", "1"]).ok();
    wait_secs(30, "#2 in review", || review(2).as_deref() == Some("ready"));
    // It started from the base as it was then: #1's work is in it.
    let demo = common::git_output(&repo, &["show", "switchboard/2:DEMO.md"]);
    assert_eq!(demo, "- first\n- second\n");
}
