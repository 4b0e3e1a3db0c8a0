//! The scheduler on a real journal: intake journaled by the real binary,
//! decided and recorded by the same pass the simulator runs.

mod common;

use common::Sandbox;
use switchboard::config::Config;
use switchboard::model::Timestamp;

#[test]
fn a_pass_on_the_journal_chains_deduplicates_starts_and_explains() {
    let sb = Sandbox::new();
    sb.project("api");
    std::fs::write(
        sb.home().join("config.toml"),
        "[routing]\ndefault_project = \"api\"\naccounts = { \"123\" = \"api\" }\n",
    )
    .unwrap();
    let input = concat!(
        "{\"type\":\"alarm\",\"account\":\"123\",\"name\":\"CPU\",\"state\":\"ALARM\",\"at\":\"2026-01-01T00:00:00Z\"}\n",
        "{\"type\":\"alarm\",\"account\":\"123\",\"name\":\"5xx\",\"state\":\"ALARM\",\"at\":\"2026-01-01T00:20:00Z\"}\n",
        "{\"type\":\"alarm\",\"account\":\"123\",\"name\":\"CPU\",\"state\":\"OK\",\"at\":\"2026-01-01T00:30:00Z\"}\n",
        "{\"type\":\"ticket\",\"key\":\"OPS-1\",\"title\":\"broken login\"}\n",
        "{\"type\":\"ticket\",\"key\":\"OPS-1\",\"title\":\"broken login (more)\"}\n",
    );
    sb.run_with_input(&["ingest", "-"], input.as_bytes()).ok();
    let config = Config::load(&sb.home().join("config.toml")).unwrap();
    let mut journal = sb.journal();
    let now = Timestamp::now();
    let (decisions, _) = journal.schedule(&config, now, false).unwrap();
    let kinds: Vec<_> = decisions.iter().map(|d| d.kind()).collect();
    assert_eq!(
        kinds,
        [
            "open_chain",
            "join_chain",
            "resolve_chain",
            "open_ticket",
            "update_ticket",
            "start",
            "wait"
        ],
        "{decisions:#?}"
    );

    // What the operator sees.
    let chains = sb.run(&["chains", "--json"]).json();
    assert_eq!(chains.as_array().unwrap().len(), 1);
    assert_eq!(chains[0]["alarms"], 2);
    assert_eq!(chains[0]["account"], "123");
    assert_eq!(chains[0]["job"], 1);
    let jobs = sb.run(&["jobs", "--json"]).json();
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 2, "one incident, one ticket job");
    assert_eq!(jobs[0]["kind"], "incident");
    assert_eq!(jobs[0]["state"], "starting");
    assert_eq!(jobs[1]["kind"], "ticket");
    assert_eq!(jobs[1]["state"], "queued");
    assert_eq!(jobs[1]["reason"], "repository of project api claimed by #1");
    let events = sb.run(&["jobs", "2", "--json"]).json()["events"].clone();
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["message"] == "repository of project api claimed by #1"),
        "{events}"
    );

    // The details view: the alarms behind the incident, the ticket behind
    // its job, the events with their reasons.
    let incident = journal.job_details(1).unwrap().unwrap();
    assert_eq!(incident.sources.len(), 3, "{:?}", incident.sources);
    assert!(
        incident.sources[0].what.contains("ALARM CPU in 123"),
        "{:?}",
        incident.sources
    );
    assert!(
        incident.sources[2].what.contains("OK CPU in 123"),
        "{:?}",
        incident.sources
    );
    assert!(incident.attempts.is_empty(), "no agent has started yet");
    let ticket = journal.job_details(2).unwrap().unwrap();
    assert_eq!(
        ticket
            .sources
            .iter()
            .map(|s| s.what.as_str())
            .collect::<Vec<_>>(),
        ["ticket OPS-1: broken login (more) (1 update)"]
    );
    assert!(
        ticket
            .events
            .iter()
            .any(|e| e.message == "repository of project api claimed by #1")
    );
    assert!(journal.job_details(99).unwrap().is_none());

    // Level-triggered: a second pass over the same journal decides nothing new.
    let (again, _) = journal.schedule(&config, now, false).unwrap();
    assert!(again.is_empty(), "{again:#?}");

    // A ticket update while its job has an agent is forwarded as a nudge.
    let now = Timestamp::now();
    journal
        .change_state(2, now, |s| s.kill("test", now), "make room")
        .unwrap();
    journal
        .change_state(1, now, |s| s.run(now), "agent up")
        .unwrap();
    sb.run_with_input(&["ingest", "-"], b"{\"type\":\"alarm\",\"account\":\"123\",\"name\":\"Disk\",\"state\":\"ALARM\",\"at\":\"2026-01-01T00:40:00Z\"}\n").ok();
    let (decisions, _) = journal.schedule(&config, Timestamp::now(), false).unwrap();
    assert_eq!(
        decisions.iter().map(|d| d.kind()).collect::<Vec<_>>(),
        ["join_chain"]
    );
    let nudges = journal.pending_commands().unwrap();
    assert_eq!(nudges.len(), 1);
    assert_eq!(nudges[0].kind_text(), "nudge");
    assert_eq!(nudges[0].job, Some(1));
    assert!(nudges[0].text.as_deref().unwrap().contains("Disk"));
    assert_eq!(journal.integrity_check().unwrap(), ["ok"]);
}

#[test]
fn a_waiting_job_is_told_once_and_shows_the_holder_of_now() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = switchboard::journal::Journal::open(&dir.path().join("j.db")).unwrap();
    journal
        .add_project(&switchboard::model::Project {
            name: "app".into(),
            path: dir.path().join("app"),
            base_branch: "main".into(),
            agent: None,
            max_agents: 1,
            host: switchboard::model::HostName::local(),
            created_at: Timestamp::now(),
        })
        .unwrap();
    let config = Config::builtin().unwrap();
    for i in 0..3 {
        journal
            .dispatch(
                &switchboard::journal::NewJob::task(Some("app".into()), format!("w{i}"), 0),
                Timestamp::now(),
            )
            .unwrap();
    }
    journal.schedule(&config, Timestamp::now(), false).unwrap();
    assert_eq!(
        journal.job(3).unwrap().unwrap().reason.as_deref(),
        Some("repository of project app claimed by #1")
    );
    // #1 ends, #2 starts: #3's wait is the same kind, so nothing is
    // written for it, and it shows the new holder.
    let now = Timestamp::now();
    journal.change_state(1, now, |s| s.run(now), "up").unwrap();
    journal
        .change_state(1, now, |s| s.finish(now), "done")
        .unwrap();
    let (decisions, _) = journal.schedule(&config, now, false).unwrap();
    assert_eq!(
        decisions.iter().map(|d| d.kind()).collect::<Vec<_>>(),
        ["start"]
    );
    assert_eq!(
        journal.job(3).unwrap().unwrap().reason.as_deref(),
        Some("repository of project app claimed by #2")
    );
    let listed = journal.jobs(&Default::default()).unwrap();
    assert_eq!(
        listed[2].reason.as_deref(),
        Some("repository of project app claimed by #2")
    );
    let waits = journal
        .events(3)
        .unwrap()
        .iter()
        .filter(|e| e.kind == "wait")
        .count();
    assert_eq!(waits, 1, "told once");
}
