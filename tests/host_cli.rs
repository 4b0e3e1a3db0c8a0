//! `host add|list|remove` and `project add --host`, run as the real binary
//! against a temp home. (No host answers here: `host add` finds each
//! address unreachable at once, connection refused or not in DNS, and
//! registers it so; tests/hosts_add.rs contacts real sshd servers.)

mod common;

use common::Sandbox;
use switchboard::model::{HostName, Reachability, Timestamp};

#[test]
fn a_host_is_added_listed_and_removed() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.home()).unwrap();
    let key = sb.home().join("id_test");
    std::fs::write(&key, "not really a key").unwrap();
    let out = sb.run(&[
        "host",
        "add",
        "build1",
        "ops@[::1]:2222",
        "--max-agents",
        "4",
        "--identity",
        key.to_str().unwrap(),
        "--accept-new-key",
    ]);
    assert!(
        out.ok()
            .contains("Registered host build1 at ops@[::1]:2222"),
        "{}",
        out.stdout
    );
    sb.run(&["host", "add", "build2", "b2.internal"]).ok();

    let list = sb.run(&["host", "list", "--json"]).json();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["local", "build1", "build2"]);
    assert_eq!(list[0]["source"], "local");
    assert!(list[0]["address"].is_null());
    assert_eq!(list[1]["source"], "journal");
    assert_eq!(list[1]["address"], "ops@[::1]:2222");
    assert_eq!(list[1]["max_agents"], 4);
    assert_eq!(list[1]["identity"], key.to_str().unwrap());
    assert_eq!(list[1]["accept_new_key"], true);
    assert_eq!(list[1]["agents"], 0);
    assert_eq!(list[1]["state"], "unreachable", "contacted at once");
    assert!(
        out.stdout.contains("cannot be reached now") && out.stdout.contains("registered unchecked"),
        "{}",
        out.stdout
    );
    assert_eq!(list[2]["address"], "b2.internal:22");
    assert!(list[2]["max_agents"].is_null());

    // Reachability as the SSH side records it shows in the list (from a
    // clean slate: `host add` recorded its own contact).
    let build2 = HostName::parse("build2").unwrap();
    sb.journal()
        .set_host_reachability(&build2, &Reachability::Unknown, Timestamp::now())
        .unwrap();
    sb.journal()
        .set_host_reachability(
            &HostName::parse("build2").unwrap(),
            &Reachability::Unreachable {
                since: Timestamp::now(),
                error: "Connection refused".into(),
            },
            Timestamp::now(),
        )
        .unwrap();
    let list = sb.run(&["host", "list", "--json"]).json();
    assert_eq!(list[2]["state"], "unreachable");
    assert_eq!(list[2]["error"], "Connection refused");
    let text = sb.run(&["host", "list"]);
    assert!(text.ok().contains("unreachable since"), "{}", text.stdout);
    assert!(text.stdout.contains("this machine"), "{}", text.stdout);
    // The FROM column: where each host comes from.
    for (name, from) in [
        ("local ", "local"),
        ("build1", "journal"),
        ("build2", "journal"),
    ] {
        let row = text.stdout.lines().find(|l| l.starts_with(name));
        let words: Vec<&str> = row.unwrap_or_default().split_whitespace().collect();
        assert_eq!(words.get(4), Some(&from), "{}", text.stdout);
    }

    sb.run(&["host", "remove", "build2"]).ok();
    let list = sb.run(&["host", "list", "--json"]).json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    let err = sb.run(&["host", "remove", "build2"]).fails(1).to_string();
    assert!(err.contains("no host build2"), "{err}");
}

#[test]
fn bad_hosts_are_refused_with_the_reason() {
    let sb = Sandbox::new();
    let cases: &[(&[&str], &str)] = &[
        (&["host", "add", "local", "x"], "reserved"),
        (&["host", "add", "b", "--", "-oProxyCommand=sh"], "option"),
        (&["host", "add", "b", "ops@host:0"], "port"),
        (&["host", "add", "b", "2001:db8::1"], "brackets"),
        (&["host", "add", "bad name", "x"], "not usable"),
        (
            &["host", "add", "b", "x", "--identity", "/nonexistent/key"],
            "no key file",
        ),
        (&["host", "remove", "local"], "reserved"),
    ];
    for (args, want) in cases {
        let err = sb.run(args).fails(1).to_string();
        assert!(err.contains(want), "{args:?}: {err}");
    }
    sb.run(&["host", "add", "b", "x"]).ok();
    let err = sb.run(&["host", "add", "b", "y"]).fails(1).to_string();
    assert!(err.contains("already registered"), "{err}");
}

#[test]
fn config_hosts_are_listed_and_cannot_be_added_or_removed_from_the_cli() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.home()).unwrap();
    std::fs::write(
        sb.home().join("config.toml"),
        "[hosts.build1]\naddress = \"ops@build1.internal\"\nmax_agents = 8\n",
    )
    .unwrap();
    let list = sb.run(&["host", "list", "--json"]).json();
    assert_eq!(list[1]["name"], "build1");
    assert_eq!(list[1]["source"], "config");
    assert_eq!(list[1]["max_agents"], 8);
    let err = sb.run(&["host", "add", "build1", "x"]).fails(1).to_string();
    assert!(err.contains("already set in"), "{err}");
    let err = sb.run(&["host", "remove", "build1"]).fails(1).to_string();
    assert!(err.contains("remove it from that file"), "{err}");

    std::fs::write(
        sb.home().join("config.toml"),
        "[hosts.build1]\naddress = \"ops@-x\"\n",
    )
    .unwrap();
    let err = sb.run(&["host", "list"]).fails(1).to_string();
    assert!(err.contains("line 2, key hosts.build1.address"), "{err}");
}

#[test]
fn a_project_belongs_to_a_known_host() {
    let sb = Sandbox::new();
    let err = sb
        .run(&["project", "add", "api", "/srv/api", "--host", "nowhere"])
        .fails(1)
        .to_string();
    assert!(err.contains("no host nowhere; known: local"), "{err}");

    sb.run(&["host", "add", "build1", "ops@build1"]).ok();
    let err = sb
        .run(&[
            "project", "add", "api", "srv/api", "--host", "build1", "--base", "main",
        ])
        .fails(1)
        .to_string();
    assert!(err.contains("absolute path"), "{err}");
    let out = sb.run(&[
        "project", "add", "api", "/srv/api", "--host", "build1", "--base", "main",
    ]);
    assert!(
        out.ok()
            .contains("Registered project api at /srv/api on host build1"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("Not checked on host build1"),
        "{}",
        out.stdout
    );
    // The same path on this machine is another project.
    let local = sb.repo("api");
    sb.run(&[
        "project",
        "add",
        "here",
        local.to_str().unwrap(),
        "--host",
        "local",
    ])
    .ok();

    let list = sb.run(&["project", "list", "--json"]).json();
    assert_eq!(list[0]["name"], "api");
    assert_eq!(list[0]["host"], "build1");
    assert_eq!(list[1]["host"], "local");
    assert!(sb.run(&["project", "list"]).ok().contains("build1"));

    let err = sb.run(&["host", "remove", "build1"]).fails(1).to_string();
    assert!(err.contains("has projects (api)"), "{err}");
    let list = sb.run(&["host", "list", "--json"]).json();
    assert_eq!(list[1]["name"], "build1");
}

#[test]
fn doctor_lists_hosts_and_says_which_are_unreachable() {
    let sb = Sandbox::new();
    sb.run(&[
        "host",
        "add",
        "build1",
        "ops@build1:2222",
        "--max-agents",
        "2",
    ])
    .ok();
    sb.run(&["host", "add", "build2", "build2"]).ok();
    // From a clean slate (`host add` recorded its own contact): build1
    // never tried, build2 refused.
    for name in ["build1", "build2"] {
        sb.journal()
            .set_host_reachability(
                &HostName::parse(name).unwrap(),
                &Reachability::Unknown,
                Timestamp::now(),
            )
            .unwrap();
    }
    sb.journal()
        .set_host_reachability(
            &HostName::parse("build2").unwrap(),
            &Reachability::Unreachable {
                since: Timestamp::now(),
                error: "ssh: connect to host build2 port 22: Connection refused".into(),
            },
            Timestamp::now(),
        )
        .unwrap();
    let checks = sb.run(&["doctor", "--json"]).json();
    let hosts: Vec<&serde_json::Value> = checks
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "host")
        .collect();
    assert_eq!(hosts.len(), 2, "{checks}");
    assert_eq!(hosts[0]["status"], "ok");
    let first = hosts[0]["detail"].as_str().unwrap();
    assert!(
        first.starts_with("build1 ops@build1:2222, at most 2 agents"),
        "{first}"
    );
    assert!(first.contains("not tried yet"), "{first}");
    assert_eq!(hosts[1]["status"], "warn");
    let second = hosts[1]["detail"].as_str().unwrap();
    assert!(second.contains("unreachable since"), "{second}");
    assert!(second.contains("Connection refused"), "{second}");
}

#[test]
fn doctor_fails_a_project_on_a_host_nobody_knows_and_jobs_json_names_the_host() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.home()).unwrap();
    let config = sb.home().join("config.toml");
    std::fs::write(&config, "[hosts.gpu]\naddress = \"gpu.internal\"\n").unwrap();
    sb.run(&[
        "project", "add", "ml", "/srv/ml", "--host", "gpu", "--base", "main",
    ])
    .ok();
    sb.project("api");
    sb.run(&["dispatch", "ml", "train it"]).ok();
    sb.run(&["dispatch", "api", "fix it"]).ok();
    let jobs = sb.run(&["jobs", "--json"]).json();
    let host_of = |id: i64| {
        jobs.as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == id)
            .map(|j| j["host"].clone())
            .unwrap()
    };
    assert_eq!(host_of(1), "gpu");
    assert_eq!(host_of(2), "local");
    assert_eq!(sb.run(&["jobs", "1", "--json"]).json()["host"], "gpu");
    let text = sb.run(&["jobs"]);
    assert!(text.ok().contains("ml@gpu"), "{}", text.stdout);
    assert!(!text.stdout.contains("api@"), "{}", text.stdout);

    std::fs::write(&config, "").unwrap();
    let out = sb.run(&["doctor", "--json"]);
    let checks: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let failed: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["check"] == "host" && c["status"] == "fail")
        .map(|c| c["detail"].as_str().unwrap())
        .collect();
    assert_eq!(failed.len(), 1, "{checks}");
    assert!(
        failed[0].contains("project ml is on host gpu, which is neither"),
        "{}",
        failed[0]
    );
}

#[test]
fn without_an_engine_a_host_s_state_is_only_the_last_known() {
    let sb = Sandbox::new();
    sb.run(&["host", "add", "build1", "ops@build1"]).ok();
    sb.run(&["host", "add", "build2", "ops@build2"]).ok();
    let now = Timestamp::now();
    let mut journal = sb.journal();
    journal
        .set_host_reachability(
            &HostName::parse("build1").unwrap(),
            &Reachability::Unreachable {
                since: now,
                error: "Connection refused".into(),
            },
            now,
        )
        .unwrap();
    journal
        .set_host_reachability(
            &HostName::parse("build2").unwrap(),
            &Reachability::Reachable { since: now },
            now,
        )
        .unwrap();
    const LAST_KNOWN: &str = "last known: the engine is not running";
    let host_checks = |sb: &Sandbox| -> Vec<String> {
        sb.run(&["doctor", "--json"])
            .json()
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["check"] == "host")
            .map(|c| c["detail"].as_str().unwrap().to_string())
            .collect()
    };

    // No engine runs.
    let text = sb.run(&["host", "list"]);
    let line = |name: &str| {
        text.stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("build1").contains("unreachable since"),
        "{}",
        text.stdout
    );
    assert!(line("build1").ends_with(LAST_KNOWN), "{}", text.stdout);
    assert!(
        line("build2").ends_with(&format!("reachable, {LAST_KNOWN}")),
        "{}",
        text.stdout
    );
    assert!(!line("local").contains(LAST_KNOWN), "{}", text.stdout);
    let list = sb.run(&["host", "list", "--json"]).json();
    assert_eq!(list[0]["last_known"], false);
    assert_eq!(list[1]["last_known"], true);
    let checks = host_checks(&sb);
    assert!(checks.iter().all(|c| c.ends_with(LAST_KNOWN)), "{checks:?}");

    // An engine holds the home's lock: the state is current.
    let lock = std::fs::File::create(sb.home().join("engine.lock")).unwrap();
    lock.lock().unwrap();
    let text = sb.run(&["host", "list"]);
    assert!(!text.ok().contains(LAST_KNOWN), "{}", text.stdout);
    assert!(text.stdout.contains("unreachable since"), "{}", text.stdout);
    assert_eq!(
        sb.run(&["host", "list", "--json"]).json()[1]["last_known"],
        false
    );
    let checks = host_checks(&sb);
    assert!(!checks.iter().any(|c| c.contains(LAST_KNOWN)), "{checks:?}");
}
