//! The engine against what production does to it: a crash that leaves a
//! tmux control client behind, a full disk, a read-only home. Each runs
//! the real binary on a real tmux server; the disk tests mount a small
//! tmpfs and are skipped (with a message) where mounting is not allowed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::Sandbox;
use common::engine::{FAST, home_with, jobs, start_engine, wait_secs};

/// A tmux control client of the home's server whose owner is gone and
/// whose stdin never closes (a FIFO it holds itself): what an engine
/// killed while its client attached leaves. Returns its pid.
fn leave_a_stale_client(sb: &Sandbox, name: &str) -> u32 {
    let dir = sb.home().join("tmux");
    let fifo = sb.dir.path().join(format!("{name}.fifo"));
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let script = r#"tmux -S "$1" -f "$2" -C new-session -A -s sb-control -- tail -f /dev/null <>"$3" >/dev/null 2>&1 & echo $!"#;
    let out = Command::new("sh")
        .args(["-c", script, "sh"])
        .arg(dir.join("server.sock"))
        .arg(dir.join("tmux.conf"))
        .arg(&fifo)
        .output()
        .expect("sh");
    let pid: u32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("the client's pid");
    wait_secs(10, "the stale client to attach", || {
        let clients = common::engine::agents_tmux(sb, &["list-clients", "-F", "#{client_pid}"]);
        String::from_utf8_lossy(&clients.stdout).contains(&pid.to_string())
    });
    pid
}

fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[test]
fn a_start_ends_the_control_clients_a_crashed_engine_left() {
    let sb = home_with(FAST, &["api"]);
    // A first engine brings the server up, then dies without clean-up.
    let first = start_engine(&sb);
    wait_secs(20, "the first engine up", || {
        sb.home().join("engine.health").exists()
    });
    std::thread::sleep(Duration::from_millis(300));
    first.crash();
    let orphan = leave_a_stale_client(&sb, "orphan");
    // One recorded by an engine that is gone, as `connect` records it.
    let recorded = leave_a_stale_client_recorded(&sb);
    let engine = start_engine(&sb);
    wait_secs(20, "the stale clients to be ended", || {
        !alive(orphan) && !alive(recorded)
    });
    let notes = || -> Vec<String> {
        sb.journal()
            .events_after(0)
            .expect("events")
            .into_iter()
            .filter(|e| e.kind == "recovered")
            .map(|e| e.message)
            .collect()
    };
    wait_secs(10, "the journal to say what start-up did", || {
        let said = notes();
        said.iter().any(|n| n.contains(&format!("pid {orphan} ")))
            && said.iter().any(|n| n.contains(&format!("pid {recorded} ")))
    });
    // And the engine works: a task runs to review.
    sb.run(&["dispatch", "api", "after the recovery"]).ok();
    wait_secs(30, "the task done", || {
        jobs(&sb).iter().any(|j| j["state"] == "done")
    });
    drop(engine);
}

/// As `leave_a_stale_client`, with a record naming an owner that is gone
/// (and a parent that is alive, so only the record can tell).
fn leave_a_stale_client_recorded(sb: &Sandbox) -> u32 {
    let pid = leave_a_stale_client(sb, "recorded");
    let gone = Command::new("true").spawn().expect("true");
    let gone_pid = gone.id();
    let _ = { gone }.wait();
    let records = sb.home().join("tmux/clients");
    std::fs::create_dir_all(&records).expect("records");
    std::fs::write(records.join(pid.to_string()), format!("{gone_pid} 1\n")).expect("record");
    pid
}

/// A tmpfs of `size` mounted at a fresh directory; unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().ok()?;
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!(
                "skipped: cannot mount a tmpfs here (needs root); the disk tests did not run"
            );
            return None;
        }
        Some(SmallDisk { path, _dir: dir })
    }

    fn remount(&self, how: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,{how}")])
            .arg(&self.path)
            .status()
            .expect("mount");
        assert!(ok.success());
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(self.path.join("home/tmux/server.sock"))
            .arg("kill-server")
            .output();
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// Fills the disk under `dir` with one file; returns it.
fn fill(dir: &Path) -> PathBuf {
    let file = dir.join("filler");
    let mut f = std::fs::File::create(&file).expect("filler");
    let block = vec![0u8; 64 * 1024];
    while std::io::Write::write_all(&mut f, &block).is_ok() {}
    // Then the last bytes.
    while std::io::Write::write_all(&mut f, &[0u8; 512]).is_ok() {}
    file
}

#[test]
fn a_full_disk_is_waited_out_and_the_work_goes_on() {
    let Some(disk) = SmallDisk::mount("48m") else {
        return;
    };
    let sb = Sandbox::new();
    let home = disk.path.join("home");
    std::fs::create_dir_all(&home).expect("home");
    // The agent that the full disk fails is retried after seconds, not the
    // default half minute (which was most of this test's time).
    let slow = FAST
        .replace("\"--steps\", \"2\"", "\"--steps\", \"10\"")
        .replace("\"--step-ms\", \"50\"", "\"--step-ms\", \"150\"")
        .replace("[scheduler]\n", "[scheduler]\nretry_backoff = \"4s\"\n");
    std::fs::write(home.join("config.toml"), slow).expect("config");
    let repo = sb.repo("api");
    let run = |args: &[&str]| common::Run::of(&mut common::command(&home, args));
    run(&[
        "project",
        "add",
        "api",
        repo.to_str().expect("path"),
        "--agent",
        "fast",
        "--max-agents",
        "1",
    ])
    .ok();
    for n in 0..3 {
        run(&["dispatch", "api", &format!("task {n}")]).ok();
    }
    let mut engine = common::engine::EngineProcess {
        child: common::command(&home, &["run", "--headless"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("engine"),
        home: home.clone(),
    };
    wait_secs(30, "the first task running", || {
        let all: serde_json::Value = run(&["jobs", "--json"]).json();
        all.as_array()
            .is_some_and(|a| a.iter().any(|j| j["state"] == "running"))
    });
    // The disk fills while the engine works.
    let filler = fill(&disk.path);
    let health = home.join("engine.health");
    wait_secs(30, "the engine to report the full disk", || {
        std::fs::read_to_string(&health).is_ok_and(|t| t.contains("disk_full"))
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(engine.alive(), "a full disk does not stop the engine");
    let shown = run(&["doctor"]);
    assert!(
        format!("{}{}", shown.stdout, shown.stderr).contains("disk full"),
        "doctor shows the fault: {}{}",
        shown.stdout,
        shown.stderr
    );
    let listed = run(&["jobs"]);
    assert!(
        listed.stderr.contains("disk full"),
        "jobs says the engine waits: {}",
        listed.stderr
    );
    std::fs::remove_file(&filler).expect("free the space");
    wait_secs(60, "every task done once space returned", || {
        let all: serde_json::Value = run(&["jobs", "--json"]).json();
        all.as_array()
            .is_some_and(|a| a.len() == 3 && a.iter().all(|j| j["state"] == "done"))
    });
    wait_secs(10, "the fault cleared", || {
        std::fs::read_to_string(&health).is_ok_and(|t| t.contains("\"fault\":null"))
    });
    assert!(engine.alive());
}

#[test]
fn a_read_only_home_says_why_it_cannot_be_opened() {
    let Some(disk) = SmallDisk::mount("8m") else {
        return;
    };
    let home = disk.path.join("home");
    let first = common::Run::of(&mut common::command(&home, &["jobs"]));
    first.ok();
    disk.remount("ro");
    let refused = common::Run::of(&mut common::command(&home, &["jobs"]));
    let said = refused.fails(1);
    assert!(
        said.contains("read-only file system"),
        "the error says why: {said}"
    );
    disk.remount("rw");
}

/// An engine killed after it spawned an agent but before it journaled the
/// agent running leaves a `starting` job whose agent may finish and report
/// done before the next engine adopts it. That report must count: the job
/// ends done, it does not sit `running` for ever at the agent's prompt.
#[test]
fn an_agent_that_reported_done_before_its_adoption_is_finished() {
    let sb = home_with(FAST, &["api"]);
    let repo = sb.dir.path().join("api");
    let id = sb.run(&["dispatch", "api", "done early", "--json"]).json()["id"]
        .as_i64()
        .expect("id");
    // What the killed engine had done: the attempt journaled, the job
    // starting, the worktree cut, the session spawned.
    let worktree = sb.home().join(format!("worktrees/job-{id}"));
    common::git(
        &repo,
        &[
            "worktree",
            "add",
            "--quiet",
            "-b",
            &format!("switchboard/{id}"),
            worktree.to_str().expect("path"),
            "main",
        ],
    );
    let base = common::git_output(&repo, &["rev-parse", "main"]);
    let began = switchboard::model::Timestamp::now().millis();
    sb.sql(&format!(
        "UPDATE jobs SET state = 'starting', state_since = {began}, attempt = 1, attempts = 1 WHERE id = {id};
         INSERT INTO attempts (job_id, number, session, worktree, branch, base_commit, started_at)
         VALUES ({id}, 1, 'sb-{id}-1', '{}', 'switchboard/{id}', '{}', {began});",
        worktree.display(),
        base.trim()
    ));
    spawn_demo_session(&sb, id, &worktree);
    wait_secs(20, "the agent's done report", || {
        sb.journal()
            .events(id)
            .expect("events")
            .iter()
            .any(|e| e.kind == "report" && e.message.contains("done"))
    });
    let engine = start_engine(&sb);
    wait_secs(20, "the adopted job done", || {
        jobs(&sb)
            .iter()
            .any(|j| j["id"] == id && j["state"] == "done")
    });
    drop(engine);
}

/// Starts a demo agent for job `id` in `worktree` as the engine would
/// have (session `sb-<id>-1` on the home's server), outside any engine.
fn spawn_demo_session(sb: &Sandbox, id: i64, worktree: &Path) {
    let tmux_dir = sb.home().join("tmux");
    std::fs::create_dir_all(&tmux_dir).expect("tmux dir");
    let spawned = Command::new("tmux")
        .arg("-S")
        .arg(tmux_dir.join("server.sock"))
        .args(["-f", "/dev/null", "new-session", "-d", "-s"])
        .arg(format!("sb-{id}-1"))
        .arg("-c")
        .arg(worktree)
        .arg("-e")
        .arg(format!("SWITCHBOARD_HOME={}", sb.home().display()))
        .arg("-e")
        .arg(format!("SWITCHBOARD_JOB={id}"))
        .args([
            "--",
            common::BIN,
            "demo-agent",
            "--steps",
            "1",
            "--step-ms",
            "10",
            "a task",
        ])
        .status()
        .expect("tmux");
    assert!(spawned.success());
}

/// A job the patrol cannot handle (here: running with no attempt in the
/// journal, so its finished work has nowhere to go) is journaled and, after
/// a few passes, failed with the reason; the other jobs go on and the
/// engine reports no fault.
#[test]
fn one_job_the_patrol_cannot_handle_holds_up_no_other() {
    let sb = home_with(FAST, &["api", "web"]);
    let id = sb
        .run(&["dispatch", "api", "no attempt row", "--json"])
        .json()["id"]
        .as_i64()
        .expect("id");
    let now = switchboard::model::Timestamp::now().millis();
    sb.sql(&format!(
        "UPDATE jobs SET state = 'running', state_since = {now}, attempt = 1, attempts = 1 WHERE id = {id}"
    ));
    let worktree = sb.dir.path().join("api");
    spawn_demo_session(&sb, id, &worktree);
    wait_secs(20, "the agent's done report", || {
        sb.journal()
            .events(id)
            .expect("events")
            .iter()
            .any(|e| e.kind == "report" && e.message.contains("done"))
    });
    let mut engine = start_engine(&sb);
    sb.run(&["dispatch", "web", "an ordinary task"]).ok();
    wait_secs(30, "the other job done", || {
        jobs(&sb)
            .iter()
            .any(|j| j["project"] == "web" && j["state"] == "done")
    });
    // Its attempt fails with the reason (the scheduler then retries it
    // in a fresh attempt, which this time has its row).
    wait_secs(30, "the attempt the patrol cannot handle failed", || {
        sb.journal().events(id).expect("events").iter().any(|e| {
            e.kind == "failed" && e.message.contains("the patrol could not handle this job")
        })
    });
    assert!(engine.alive());
    let health = std::fs::read_to_string(sb.home().join("engine.health")).expect("health");
    assert!(health.contains("\"fault\":null"), "{health}");
}

/// A dead agent comes back by its profile's `resume` first; when that
/// fails (here it exits 1 at once, as `claude --continue` does with no
/// conversation saved yet), the checkpoint prompt is the fallback and the
/// job still finishes.
#[test]
fn a_resume_that_fails_falls_back_to_the_checkpoint() {
    let config = format!(
        "{FAST}\n[agents.slow]\ncommand = [\"{{switchboard}}\", \"demo-agent\", \"--steps\", \"20\", \"--step-ms\", \"100\", \"{{prompt}}\"]\nready = '(?m)^demo> \\s*\\z'\nbusy = '⠿ working[^\\n]*\\s*\\z'\nresume = [\"false\"]\n"
    );
    let sb = home_with(&config, &[]);
    let repo = sb.repo("api");
    sb.run(&[
        "project",
        "add",
        "api",
        repo.to_str().expect("path"),
        "--agent",
        "slow",
    ])
    .ok();
    let _engine = start_engine(&sb);
    sb.run(&["dispatch", "api", "come back"]).ok();
    wait_secs(30, "the agent running", || {
        jobs(&sb).iter().any(|j| j["state"] == "running")
    });
    std::thread::sleep(Duration::from_millis(500));
    let pid = common::engine::agents_tmux(
        &sb,
        &["display-message", "-p", "-t", "=sb-1-1:", "#{pane_pid}"],
    );
    let pid = String::from_utf8_lossy(&pid.stdout).trim().to_string();
    assert!(
        Command::new("kill")
            .args(["-9", &pid])
            .status()
            .expect("kill")
            .success()
    );
    wait_secs(60, "the job done after the fallback", || {
        jobs(&sb).iter().any(|j| j["state"] == "done")
    });
    let events = sb.run(&["jobs", "1", "--json"]).json()["events"].to_string();
    assert!(events.contains("its resume exited 1"), "{events}");
}

/// While the home's disk is full, each command that writes (a dispatch, an
/// agent's report, an ingest, an operator's command) fails with one clear
/// line that says so and what to do, nothing of the log's own trouble on
/// the terminal; what was journaled before stays, and once space returns
/// the same commands work.
#[test]
fn on_a_full_disk_every_writer_says_so_and_loses_nothing() {
    let Some(disk) = SmallDisk::mount("16m") else {
        return;
    };
    let sb = Sandbox::new();
    let home = disk.path.join("home");
    let repo = sb.repo("api");
    let run = |args: &[&str]| common::Run::of(&mut common::command(&home, args));
    let ingest = |line: &str| {
        let mut cmd = common::command(&home, &["ingest", "-"]);
        cmd.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = cmd.spawn().expect("ingest");
        let mut stdin = child.stdin.take().expect("stdin");
        std::io::Write::write_all(&mut stdin, line.as_bytes()).expect("write");
        drop(stdin);
        let out = child.wait_with_output().expect("wait");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    run(&["project", "add", "api", repo.to_str().expect("path")]).ok();
    run(&["dispatch", "api", "before the disk filled"]).ok();
    let filler = fill(&disk.path);

    let task = "{\"type\":\"task\",\"project\":\"api\",\"prompt\":\"from ingest\"}\n";
    let refused = [
        (
            "dispatch",
            run(&["dispatch", "api", "while full"]).fails(1).to_string(),
        ),
        (
            "report",
            run(&["report", "1", "--progress", "50"])
                .fails(1)
                .to_string(),
        ),
        ("kill", run(&["kill", "1"]).fails(1).to_string()),
        ("ingest", {
            let (code, stderr) = ingest(task);
            assert_eq!(code, 1, "{stderr}");
            stderr
        }),
    ];
    for (what, stderr) in &refused {
        assert!(
            stderr.contains("the disk under the home is full"),
            "{what} says why: {stderr}"
        );
        assert!(
            !stderr.contains("tracing-subscriber"),
            "{what}: the log's trouble stays off the terminal: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    }
    let listed = run(&["jobs", "--json"]);
    listed.ok();
    assert!(
        !listed.stderr.contains("tracing-subscriber"),
        "{}",
        listed.stderr
    );
    let before: serde_json::Value = listed.json();
    assert_eq!(before.as_array().map(Vec::len), Some(1), "{before}");
    assert_eq!(before[0]["state"], "queued");

    std::fs::remove_file(&filler).expect("free the space");
    run(&["dispatch", "api", "after space returned"]).ok();
    run(&["report", "1", "--progress", "50"]).ok();
    assert_eq!(ingest(task).0, 0);
    let after = run(&["jobs", "--json"]).json();
    let prompts: Vec<&str> = after
        .as_array()
        .expect("jobs")
        .iter()
        .filter_map(|j| j["prompt"].as_str().or(j["title"].as_str()))
        .collect();
    assert_eq!(
        prompts,
        [
            "before the disk filled",
            "after space returned",
            "from ingest"
        ],
        "{after}"
    );
}
