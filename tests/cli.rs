//! Every subcommand's success and error paths, run as the real binary
//! against a temp home and real git repositories.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{Run, Sandbox, git};
use switchboard::journal::JobFilter;
use switchboard::model::{StateName, Timestamp};

#[test]
fn dispatch_to_a_registered_project_prints_the_id() {
    let sb = Sandbox::new();
    sb.project("api");
    let out = sb.run(&["dispatch", "api", "fix", "the", "login", "button"]);
    assert!(
        out.ok()
            .contains("Queued job #1 for api: fix the login button"),
        "{}",
        out.stdout
    );
    let out = sb.run(&[
        "dispatch",
        "api",
        "add tests",
        "--priority",
        "7",
        "--agent",
        "demo",
        "--json",
    ]);
    let json = out.json();
    assert_eq!(json["id"], 2);
    assert_eq!(json["state"], "queued");
    assert_eq!(json["priority"], 7);
    assert_eq!(json["agent"], "demo");
    let job = sb.journal().job(2).unwrap().unwrap();
    assert_eq!(job.prompt, "add tests");
    assert_eq!(job.project.as_deref(), Some("api"));
}

/// `auto` with none of claude, codex, aider on PATH runs the demo agent,
/// and dispatch says so; with one installed it names that one.
#[test]
fn dispatch_says_when_auto_falls_back_to_the_demo_agent() {
    let sb = Sandbox::new();
    sb.project("api");
    let bin = sb.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let path = bin.to_str().unwrap().to_string();
    let dispatch = |json: bool| {
        let mut args = vec!["dispatch", "api", "fix it"];
        if json {
            args.push("--json");
        }
        Run::of(sb.cmd(&args).env("PATH", &path))
    };
    let out = dispatch(false);
    assert!(
        out.ok()
            .contains("Agent: demo (no agent installed: none of claude, codex, aider is on PATH"),
        "{}",
        out.stdout
    );
    assert_eq!(dispatch(true).json()["runs"], "demo (no agent installed)");
    // An explicit demo is no fallback.
    let out = Run::of(
        sb.cmd(&["dispatch", "api", "fix it", "--agent", "demo"])
            .env("PATH", &path),
    );
    assert!(!out.ok().contains("no agent installed"), "{}", out.stdout);
    let codex = bin.join("codex");
    std::fs::write(&codex, "#!/bin/sh\n").unwrap();
    let out = dispatch(false);
    assert!(!out.ok().contains("no agent installed"), "{}", out.stdout);
    assert_eq!(dispatch(true).json()["runs"], "codex");
}

#[test]
fn dispatch_to_a_repository_path_registers_it() {
    let sb = Sandbox::new();
    let repo = sb.repo("web app");
    std::fs::create_dir(repo.join("src")).unwrap();
    let out = sb.run(&[
        "dispatch",
        repo.join("src").to_str().unwrap(),
        "tidy",
        "--json",
    ]);
    let json = out.json();
    assert_eq!(json["project"], "web-app");
    assert_eq!(json["registered_project"], true);
    // The same repository again is the same project.
    let again = sb
        .run(&["dispatch", repo.to_str().unwrap(), "more", "--json"])
        .json();
    assert_eq!(again["project"], "web-app");
    assert_eq!(again["registered_project"], false);
    let projects = sb.journal().projects().unwrap();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].base_branch, "main");
}

#[test]
fn dispatch_errors_say_what_to_do() {
    let sb = Sandbox::new();
    let err = sb
        .run(&["dispatch", "nowhere", "do it"])
        .fails(1)
        .to_string();
    assert!(err.contains("no project named \"nowhere\""), "{err}");
    assert!(err.contains("switchboard project add"), "{err}");
    let plain = sb.dir.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    let err = sb
        .run(&["dispatch", plain.to_str().unwrap(), "x"])
        .fails(1)
        .to_string();
    assert!(err.contains("is not a git repository"), "{err}");
    sb.project("api");
    let err = sb
        .run(&["dispatch", "api", "x", "--agent", "gpt9"])
        .fails(1)
        .to_string();
    assert!(
        err.contains("no agent profile \"gpt9\"") && err.contains("claude"),
        "{err}"
    );
    let err = sb.run(&["dispatch", "api", " "]).fails(1).to_string();
    assert!(err.contains("prompt is empty"), "{err}");
    let err = sb
        .run(&["dispatch", "api", "x", "--priority", "-9223372036854775808"])
        .fails(1)
        .to_string();
    assert!(err.contains("out of range"), "{err}");
    let usage = sb.run(&["dispatch", "api"]).fails(2).to_string();
    assert!(usage.contains("PROMPT"), "{usage}");
    assert_eq!(
        sb.journal().jobs(&JobFilter::default()).unwrap().len(),
        0,
        "nothing was journaled"
    );
}

#[test]
fn a_bad_config_is_named_with_its_line_and_key() {
    let sb = Sandbox::new();
    sb.project("api");
    std::fs::write(
        sb.home().join("config.toml"),
        "[scheduler]\n\nmax_agents = -2\n",
    )
    .unwrap();
    let err = sb.run(&["dispatch", "api", "x"]).fails(1).to_string();
    assert!(
        err.contains("config.toml line 3, key scheduler.max_agents"),
        "{err}"
    );
    let doctor = sb.run(&["doctor"]);
    assert!(doctor.stdout.contains("line 3"), "{}", doctor.stdout);
    assert_eq!(doctor.code, 1);
}

#[test]
fn jobs_lists_filters_and_shows_one() {
    let sb = Sandbox::new();
    sb.project("api");
    for prompt in ["one", "two", "three"] {
        sb.run(&["dispatch", "api", prompt]).ok();
    }
    let now = Timestamp::now();
    sb.journal()
        .change_state(2, now, |s| s.kill("operator", now), "killed by test")
        .unwrap();

    let list = sb.run(&["jobs"]).ok().to_string();
    assert!(list.contains("one") && list.contains("three"), "{list}");
    assert!(list.contains("■ killed"), "{list}");
    assert!(!list.contains("\u{1b}["), "no colour with NO_COLOR");

    let all = sb.run(&["jobs", "--json"]).json();
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 3);
    for key in [
        "id",
        "kind",
        "state",
        "project",
        "title",
        "attempts",
        "created_at",
        "reason",
    ] {
        assert!(all[0].get(key).is_some(), "missing {key}");
    }
    assert_eq!(all[1]["reason"], "operator");

    let queued = sb.run(&["jobs", "--state", "queued", "--json"]).json();
    let ids: Vec<_> = queued
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 3]);

    let one = sb.run(&["jobs", "2", "--json"]).json();
    assert_eq!(one["state"], "killed");
    let events: Vec<_> = one["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(events, ["queued", "killed"]);

    let human = sb.run(&["jobs", "2"]).ok().to_string();
    assert!(human.contains("killed by test"), "{human}");

    let err = sb.run(&["jobs", "99"]).fails(1).to_string();
    assert!(err.contains("no job #99"), "{err}");
    let err = sb
        .run(&["jobs", "--state", "sleeping"])
        .fails(2)
        .to_string();
    assert!(err.contains("expected one of"), "{err}");
}

#[test]
fn jobs_shows_progress_as_a_bar() {
    let sb = Sandbox::new();
    sb.project("api");
    sb.run(&["dispatch", "api", "build it"]).ok();
    let now = Timestamp::now();
    let mut journal = sb.journal();
    journal
        .change_state(1, now, |s| s.start(1, now), "start")
        .unwrap();
    journal.change_state(1, now, |s| s.run(now), "run").unwrap();
    sb.sql("UPDATE jobs SET progress = 50, note = 'building' WHERE id = 1");
    let list = sb.run(&["jobs"]).ok().to_string();
    assert!(
        list.contains("RUNNING [██████░░░░░░] 50% building"),
        "{list}"
    );
    let colour = sb
        .cmd(&["jobs"])
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&colour.stdout).contains("\u{1b}["),
        "colour when forced"
    );
}

#[test]
fn jobs_watch_follows_a_job_until_it_ends() {
    let sb = Sandbox::new();
    sb.project("api");
    sb.run(&["dispatch", "api", "watch me"]).ok();
    let mut child = sb
        .cmd(&["jobs", "1", "--watch", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["state"], "queued");

    let mut journal = sb.journal();
    let now = Timestamp::now();
    journal
        .change_state(1, now, |s| s.start(1, now), "started")
        .unwrap();
    let second: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(second["state"], "starting");
    journal
        .change_state(1, now, |s| s.kill("operator", now), "killed")
        .unwrap();
    let third: serde_json::Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(third["state"], "killed");

    let status = common::wait_until(
        Duration::from_secs(10),
        Duration::from_millis(50),
        || child.try_wait().unwrap().ok_or(()),
        |()| "watch did not end with the job".into(),
    );
    assert!(status.success());
}

/// `jobs --watch | head -1`: once the reader has gone, the watch ends at
/// once and quietly, as a Unix filter does (killed by SIGPIPE, no panic,
/// nothing on stderr), whether it was printing or idle.
#[test]
fn a_watch_ends_quietly_when_its_reader_goes() {
    use std::os::unix::process::ExitStatusExt;
    let sb = Sandbox::new();
    sb.project("api");
    sb.run(&["dispatch", "api", "the first"]).ok();
    for args in [
        &["jobs", "--watch"][..],
        &["jobs", "--watch", "--json"],
        &["jobs", "1", "--watch"],
        &["jobs", "1", "--watch", "--json"],
    ] {
        let mut child = sb
            .cmd(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        if args.len() == 2 || args[1] == "--watch" {
            // The whole journal's watch prints what happens from now on.
            std::thread::sleep(Duration::from_millis(500));
            sb.run(&["dispatch", "api", "news"]).ok();
        }
        let line = lines.next().unwrap().unwrap();
        assert!(!line.is_empty(), "{args:?}");
        drop(lines);
        if args[1] == "--watch" {
            // More news: the next write meets the closed pipe.
            sb.run(&["dispatch", "api", "more news"]).ok();
        }
        let status = common::wait_until(
            Duration::from_secs(5),
            Duration::from_millis(50),
            || child.try_wait().unwrap().ok_or(()),
            |()| format!("{args:?} went on after its reader left"),
        );
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.signal(), Some(13), "{args:?}: {status:?} {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}

/// With SWITCHBOARD_HOME set, a usage line does not show --home as if it
/// were required.
#[test]
fn usage_lines_leave_out_a_home_from_the_environment() {
    let sb = Sandbox::new();
    let out = std::process::Command::new(common::BIN)
        .arg("kill")
        .env("SWITCHBOARD_HOME", sb.home())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Usage: switchboard kill <ID>"), "{stderr}");
    // And the home from the environment is the one used.
    let out = std::process::Command::new(common::BIN)
        .arg("jobs")
        .env("SWITCHBOARD_HOME", sb.home())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(sb.home().join("journal.db").exists());
}

#[test]
fn project_add_and_list() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    git(&repo, &["branch", "release"]);
    let out = sb.run(&[
        "project",
        "add",
        "api",
        repo.to_str().unwrap(),
        "--base",
        "release",
        "--max-agents",
        "2",
        "--agent",
        "demo",
    ]);
    assert!(
        out.ok().contains("Registered project api"),
        "{}",
        out.stdout
    );
    let list = sb.run(&["project", "list", "--json"]).json();
    assert_eq!(list[0]["name"], "api");
    assert_eq!(list[0]["base_branch"], "release");
    assert_eq!(list[0]["max_agents"], 2);
    assert_eq!(list[0]["agent"], "demo");
    assert!(sb.run(&["project", "list"]).ok().contains("release"));

    let err = sb
        .run(&["project", "add", "api", sb.repo("other").to_str().unwrap()])
        .fails(1)
        .to_string();
    assert!(err.contains("already registered"), "{err}");
    let err = sb
        .run(&["project", "add", "again", repo.to_str().unwrap()])
        .fails(1)
        .to_string();
    assert!(err.contains("already registered as project api"), "{err}");
    let err = sb
        .run(&["project", "add", "bad name", repo.to_str().unwrap()])
        .fails(1)
        .to_string();
    assert!(err.contains("not usable"), "{err}");
    let err = sb
        .run(&[
            "project",
            "add",
            "x",
            sb.repo("x").to_str().unwrap(),
            "--base",
            "nope",
        ])
        .fails(1)
        .to_string();
    assert!(err.contains("no branch \"nope\""), "{err}");
    let err = sb
        .run(&["project", "add", "y", "/definitely/not/here"])
        .fails(1)
        .to_string();
    assert!(err.contains("not a directory"), "{err}");
    let err = sb
        .run(&[
            "project",
            "add",
            "z",
            sb.repo("z").to_str().unwrap(),
            "--max-agents",
            "0",
        ])
        .fails(2)
        .to_string();
    assert!(err.contains("max-agents"), "{err}");
}

#[test]
fn ingest_reports_rejections_and_keeps_the_rest() {
    let sb = Sandbox::new();
    let input = concat!(
        "{\"type\":\"task\",\"project\":\"api\",\"prompt\":\"fix the login button\"}\n",
        "{\"type\":\"ticket\",\"key\":\"OPS-12\",\"title\":\"Login\",\"body\":\"b\"}\n",
        "{oops\n",
        "{\"type\":\"alarm\",\"account\":\"123456789012\",\"name\":\"HighCPU\",\"state\":\"ALARM\",\"at\":\"2026-01-01T00:00:00Z\"}\n",
    );
    let out = sb.run_with_input(&["ingest", "-", "--json"], input.as_bytes());
    assert_eq!(out.code, 3, "{}", out.stderr);
    let json = out.json();
    assert_eq!(json["accepted"], 3);
    assert_eq!(json["rejected"][0]["line"], 3);
    assert!(
        json["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("malformed JSON")
    );
    let jobs = sb.run(&["jobs", "--json"]).json();
    assert_eq!(
        jobs.as_array().unwrap().len(),
        1,
        "a task becomes a job at once"
    );

    let file = sb.dir.path().join("good.jsonl");
    std::fs::write(
        &file,
        "{\"type\":\"alarm\",\"account\":\"1\",\"name\":\"n\",\"state\":\"OK\"}\n",
    )
    .unwrap();
    let out = sb.run(&["ingest", file.to_str().unwrap()]);
    assert!(out.ok().contains("Journaled 1 message"), "{}", out.stdout);

    let err = sb.run(&["ingest", "/no/such/file"]).fails(1).to_string();
    assert!(err.contains("cannot read /no/such/file"), "{err}");
}

#[test]
fn chains_lists_what_the_journal_holds() {
    let sb = Sandbox::new();
    assert_eq!(sb.run(&["chains", "--json"]).json(), serde_json::json!([]));
    assert!(sb.run(&["chains"]).ok().contains("No alarm chains"));
    let now = Timestamp::now().millis();
    sb.sql(&format!(
        "INSERT INTO chains (account, first_at, latest_at, alarms, resolved, job_id) VALUES \
         ('123456789012', {a}, {b}, 5, 0, 7), ('999', 0, 1000, 1, 1, NULL)",
        a = now - 600_000,
        b = now - 60_000
    ));
    let chains = sb.run(&["chains", "--json"]).json();
    let chains = chains.as_array().unwrap();
    assert_eq!(chains.len(), 2);
    assert_eq!(chains[0]["account"], "123456789012");
    assert_eq!(chains[0]["state"], "open");
    assert_eq!(chains[0]["alarms"], 5);
    assert_eq!(chains[0]["job"], 7);
    assert_eq!(chains[1]["state"], "closed");
    assert_eq!(chains[1]["first_at"], "1970-01-01T00:00:00.000Z");
    assert!(sb.run(&["chains"]).ok().contains("123456789012"));
}

#[test]
fn review_and_its_commands() {
    let sb = Sandbox::new();
    sb.project("api");
    sb.run(&["dispatch", "api", "x"]).ok();
    sb.run(&["dispatch", "api", "y"]).ok();
    assert_eq!(sb.run(&["review", "--json"]).json(), serde_json::json!([]));
    let err = sb.run(&["approve", "1"]).fails(1).to_string();
    assert!(err.contains("nothing in review"), "{err}");
    sb.sql(
        "INSERT INTO review_items (job_id, attempt, project, branch, files, insertions, deletions, created_at, updated_at) \
         VALUES (1, 1, 'api', 'switchboard/1', 2, 10, 3, 5, 5)",
    );
    let items = sb.run(&["review", "--json"]).json();
    assert_eq!(items[0]["job"], 1);
    assert_eq!(items[0]["branch"], "switchboard/1");
    assert_eq!(items[0]["state"], "ready");
    assert_eq!(
        (
            items[0]["files"].as_i64(),
            items[0]["insertions"].as_i64(),
            items[0]["deletions"].as_i64()
        ),
        (Some(2), Some(10), Some(3))
    );
    assert!(sb.run(&["review"]).ok().contains("+10"));
    sb.run(&["approve", "1"]).ok();
    sb.run(&["reject", "1", "--reason", "tests fail"]).ok();
    let err = sb.run(&["reject", "2"]).fails(1).to_string();
    assert!(err.contains("nothing in review"), "{err}");
    let pending = sb.journal().pending_commands().unwrap();
    let kinds: Vec<_> = pending
        .iter()
        .map(|c| (c.kind_text(), c.job, c.text.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("approve", Some(1), None),
            ("reject", Some(1), Some("tests fail"))
        ]
    );
}

#[test]
fn operator_commands_are_journaled_for_the_engine() {
    let sb = Sandbox::new();
    sb.project("api");
    sb.run(&["dispatch", "api", "x"]).ok();
    sb.run(&["dispatch", "api", "y"]).ok();
    let now = Timestamp::now();
    let mut journal = sb.journal();
    journal
        .change_state(2, now, |s| s.start(1, now), "start")
        .unwrap();
    journal
        .change_state(2, now, |s| s.fail("exit 1", now), "failed")
        .unwrap();

    let out = sb.run(&["kill", "1"]);
    assert!(
        out.ok().contains("Asked the engine to kill job #1"),
        "{}",
        out.stdout
    );
    sb.run(&["retry", "2"]).ok();
    sb.run(&["drain"]).ok();
    sb.run(&["resume"]).ok();
    let kinds: Vec<_> = sb
        .journal()
        .pending_commands()
        .unwrap()
        .into_iter()
        .map(|c| c.kind_text().to_string())
        .collect();
    assert_eq!(kinds, ["kill", "retry", "drain", "resume"]);

    let err = sb.run(&["kill", "2"]).fails(1).to_string();
    assert!(err.contains("already failed"), "{err}");
    let err = sb
        .run(&["nudge", "1", "are", "you", "there"])
        .fails(1)
        .to_string();
    assert!(
        err.contains("is queued") && err.contains("live agent"),
        "{err}"
    );
    let err = sb.run(&["retry", "1"]).fails(1).to_string();
    assert!(err.contains("only a failed or killed job"), "{err}");
    let err = sb.run(&["kill", "42"]).fails(1).to_string();
    assert!(err.contains("no job #42"), "{err}");
    let err = sb.run(&["nudge", "1"]).fails(1).to_string();
    assert!(
        err.contains("is queued"),
        "a nudge without text is gated too: {err}"
    );

    // A nudge to a job with an agent is journaled with its text, verbatim.
    let now = Timestamp::now();
    sb.journal()
        .change_state(1, now, |s| s.start(1, now), "start")
        .unwrap();
    sb.run(&["nudge", "1", "use $(rm -rf /) literally"]).ok();
    let nudge = sb.journal().pending_commands().unwrap().pop().unwrap();
    assert_eq!(nudge.text.as_deref(), Some("use $(rm -rf /) literally"));
    // Without text (or only blanks) it is Enter alone: journaled with none.
    sb.run(&["nudge", "1"]).ok();
    sb.run(&["nudge", "1", " "]).ok();
    let commands = sb.journal().pending_commands().unwrap();
    let last: Vec<_> = commands[commands.len() - 2..]
        .iter()
        .map(|c| (c.kind_text().to_string(), c.text.clone()))
        .collect();
    assert_eq!(
        last,
        [("nudge".to_string(), None), ("nudge".to_string(), None)]
    );
}

#[test]
fn drain_wait_returns_when_the_engine_is_ready() {
    let sb = Sandbox::new();
    let mut child = sb
        .cmd(&["drain", "--wait"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "waits while not drained"
    );
    std::fs::write(sb.home().join("READY_FOR_SHUTDOWN"), "").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Drained"));
}

#[test]
fn doctor_checks_and_says_how_to_install() {
    let sb = Sandbox::new();
    let out = sb.run(&["doctor", "--json"]);
    let checks = out.json();
    let names: Vec<_> = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap().to_string())
        .collect();
    let (agents, others): (Vec<_>, Vec<_>) = names.iter().partition(|n| *n == "agent");
    assert_eq!(
        others,
        [
            "tmux", "git", "home", "journal", "config", "engine", "clients"
        ]
    );
    assert_eq!(agents.len(), 5, "one line for each built-in profile");
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(sb.run(&["doctor"]).ok().contains("healthy"));
    // The count of jobs agrees with its noun.
    sb.project("api");
    sb.run(&["dispatch", "api", "fix the login button"]).ok();
    let text = sb.run(&["doctor"]).ok().to_string();
    assert!(text.contains(", 1 job)"), "{text}");
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    let text = sb.run(&["doctor"]).ok().to_string();
    assert!(text.contains(", 2 jobs)"), "{text}");

    // A PATH with git but no tmux.
    let bin = sb.dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let git_path = which("git");
    std::os::unix::fs::symlink(git_path, bin.join("git")).unwrap();
    let out = sb.cmd(&["doctor"]).env("PATH", &bin).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("tmux is not installed") && text.contains("apt-get install tmux"),
        "{text}"
    );
    assert!(
        text.contains(
            "claude: claude not found, install with `npm install -g @anthropic-ai/claude-code`"
        ),
        "{text}"
    );
    assert!(text.contains("demo: built into switchboard"), "{text}");

    // The control room refuses to start without it, and says why.
    let out = sb.cmd(&[]).env("PATH", &bin).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tmux is not installed") && err.contains("brew install tmux"),
        "{err}"
    );
}

#[test]
fn the_control_room_shows_the_queue() {
    let sb = Sandbox::new();
    sb.project("api");
    sb.run(&["dispatch", "api", "shown in the room"]).ok();
    let out = sb.run(&[]);
    assert!(out.ok().contains("shown in the room"), "{}", out.stdout);
}

#[test]
fn the_home_comes_from_the_environment_and_is_laid_out() {
    let sb = Sandbox::new();
    let home = sb.dir.path().join("from-env");
    let out = std::process::Command::new(common::BIN)
        .args(["jobs", "--json"])
        .env("SWITCHBOARD_HOME", &home)
        .output()
        .unwrap();
    assert!(out.status.success());
    for part in ["journal.db", "inbox/rejected", "worktrees", "logs", "tmux"] {
        assert!(home.join(part).exists(), "{part}");
    }
    let journal = switchboard::journal::Journal::open(&home.join("journal.db")).unwrap();
    assert!(
        journal
            .jobs(&JobFilter {
                state: Some(StateName::Queued)
            })
            .unwrap()
            .is_empty()
    );
}

fn which(program: &str) -> std::path::PathBuf {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(program))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| panic!("{program} not on PATH"))
}

#[test]
fn demo_sets_up_a_throwaway_home_with_work_of_every_kind() {
    let sb = Sandbox::new();
    let out = Run::of(sb.cmd(&["demo", "--no-room"]).env("TMPDIR", sb.dir.path()));
    let home = out.ok().trim().to_string();
    assert!(
        home.starts_with(&*sb.dir.path().to_string_lossy()),
        "{home}"
    );
    let run = |args: &[&str]| {
        let out = Run::of(&mut common::command(Path::new(&home), args));
        out.ok();
        out.json()
    };
    let projects = run(&["project", "list", "--json"]);
    let names: Vec<&str> = projects
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["docs", "shop"]);
    let jobs = run(&["jobs", "--json"]);
    let kinds: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "task").count(), 3, "{jobs}");
    // The ticket and the alarms wait for the engine's scheduler.
    let journal = switchboard::home::Home::at(&home).journal_file();
    let db = rusqlite::Connection::open(journal).unwrap();
    let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    assert_eq!(count("SELECT count(*) FROM tickets"), 1);
    assert_eq!(count("SELECT count(*) FROM alarms"), 2);
    let config = std::fs::read_to_string(Path::new(&home).join("config.toml")).unwrap();
    assert!(
        config.contains("default_agent = \"demo\""),
        "the demo never needs a real agent"
    );
}

/// A prompt longer than one argument may be (Linux: 128 KiB) but within a
/// prompt's limit (256 KiB) is given on stdin as `-`.
#[test]
fn dispatch_takes_the_prompt_from_stdin_as_dash() {
    let sb = Sandbox::new();
    sb.project("api");
    let long = "add the field\n".repeat(200 * 1024 / 14);
    let out = sb.run_with_input(&["dispatch", "api", "-", "--json"], long.as_bytes());
    let id = out.json()["id"].as_i64().expect("an id");
    let job = sb.journal().job(id).expect("journal").expect("the job");
    assert!(
        job.prompt == long,
        "the prompt is {} bytes: {:?}…",
        job.prompt.len(),
        job.prompt.chars().take(40).collect::<String>()
    );
    // Nothing on stdin, or text that is not UTF-8: refused, nothing queued.
    let err = sb
        .run_with_input(&["dispatch", "api", "-"], b"")
        .fails(1)
        .to_string();
    assert!(err.contains("no prompt on stdin"), "{err}");
    let err = sb
        .run_with_input(&["dispatch", "api", "-"], b"\xff\xfe")
        .fails(1)
        .to_string();
    assert!(err.contains("not UTF-8"), "{err}");
    assert_eq!(
        sb.run(&["jobs", "--json"]).json().as_array().map(Vec::len),
        Some(1)
    );
}

/// `jobs ID` shows one job: its reason whole, not cut to a list's width
/// (the trial's `why … retr…` hid the retry's time and attempt).
#[test]
fn one_job_shows_its_reason_whole() {
    let sb = Sandbox::new();
    sb.project("api");
    sb.run(&["dispatch", "api", "x"]).ok();
    let long = format!(
        "{} and the end of it",
        "the agent could not start ".repeat(4)
    );
    sb.sql(&format!("UPDATE jobs SET reason = '{long}' WHERE id = 1;"));
    let one = sb.run(&["jobs", "1"]).ok().to_string();
    assert!(one.contains(&long), "{one}");
    // The list keeps to its width.
    let list = sb.run(&["jobs"]).ok().to_string();
    assert!(!list.contains("and the end of it"), "{list}");
}
