//! The engine's door under adversity, with the real binary and a real
//! engine (`run --headless`): many `dispatch`es at once beside other
//! writers, and the engine SIGKILLed while dispatches are in flight
//! (some kills within the first milliseconds of its start). Every task a
//! client was told is queued is journaled exactly once under the id it
//! was told; a client that is not told says so in words that send the
//! operator to `jobs`; no task is journaled twice; and the next engine
//! starts over the dead one's socket and takes tasks again.
//!
//! The queue is paused (the `PAUSED` file), so no agent starts: the
//! door and the journal are what is tested, not the agents.
//!
//! And `dispatch` with no engine, SIGKILLed at random moments while it
//! journals its task itself: the task whole or not at all.
//!
//! Seeded: the seed is printed; `SWITCHBOARD_DOOR_SEED=N cargo test
//! --test door_adversity` replays one.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::net::UnixStream;
use std::process::{Child, Output, Stdio};
use std::time::Duration;

use common::Sandbox;
use common::engine::{EngineProcess, FAST, home_with, start_engine, wait_secs};

/// splitmix64, so the seed alone replays a run.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    }
}

/// A home with project `app`, its queue paused.
fn paused_home() -> Sandbox {
    let sb = home_with(FAST, &["app"]);
    std::fs::write(sb.home().join("PAUSED"), "").expect("pause");
    sb
}

fn door_is_open(sb: &Sandbox) -> bool {
    UnixStream::connect(sb.home().join("engine.sock")).is_ok()
}

/// How many dispatches the CLI's log says the engine journaled.
fn handed_over(sb: &Sandbox) -> usize {
    let log = std::fs::read_to_string(sb.home().join("logs/switchboard.log")).unwrap_or_default();
    log.matches("journaled by the engine").count()
}

/// `dispatch app --json PROMPT`, started and not waited for.
fn spawn_dispatch(sb: &Sandbox, prompt: &str) -> Child {
    sb.cmd(&["dispatch", "app", "--json", prompt])
        .env("SWITCHBOARD_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dispatch")
}

/// What one `dispatch` said.
#[derive(Debug)]
enum Said {
    /// Queued as this id.
    Queued(i64),
    /// Not told whether the engine journaled it, and sent to `jobs`.
    NotTold,
}

/// Reads what a finished `dispatch` said; anything but a job id or the
/// "check `jobs`" answer fails the test.
fn said(prompt: &str, out: &Output) -> Said {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        let json: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{prompt}: not JSON ({e}): {stdout} / {stderr}"));
        assert_eq!(json["state"], "queued", "{prompt}: {json}");
        return Said::Queued(json["id"].as_i64().expect("id"));
    }
    assert!(
        stderr.contains("did not answer") && stderr.contains("switchboard jobs"),
        "{prompt}: a dispatch failed with neither an id nor the word to check `jobs`: \
         {:?}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    Said::NotTold
}

/// Every job's prompt and id, read from the journal.
fn journaled(sb: &Sandbox) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(sb.home().join("journal.db")).expect("db");
    let mut stmt = conn
        .prepare("SELECT prompt, id FROM jobs ORDER BY id")
        .expect("select");
    stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect()
}

/// Each prompt journaled and the ids it was journaled under.
fn ids_by_prompt(sb: &Sandbox) -> BTreeMap<String, Vec<i64>> {
    let mut by: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for (prompt, id) in journaled(sb) {
        by.entry(prompt).or_default().push(id);
    }
    by
}

const AT_ONCE: usize = 100;
const INGESTED: usize = 40;
const INBOX_FILES: usize = 10;

#[test]
fn a_hundred_dispatches_at_once_beside_other_writers_are_each_journaled_once() {
    let sb = paused_home();
    let _engine = start_engine(&sb);
    wait_secs(20, "the engine's door", || door_is_open(&sb));

    // Other writers at the same moment: `ingest` of a file of tasks, and
    // task files dropped in the inbox (which the engine journals itself).
    let lines: String = (0..INGESTED)
        .map(|n| format!("{{\"type\":\"task\",\"project\":\"app\",\"prompt\":\"ingested {n}\"}}\n"))
        .collect();
    let feed = sb.dir.path().join("feed.jsonl");
    std::fs::write(&feed, lines).expect("feed");
    let ingest = sb
        .cmd(&["ingest", feed.to_str().expect("utf-8"), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ingest");
    let clients: Vec<(String, Child)> = (0..AT_ONCE)
        .map(|n| {
            let prompt = format!("at once {n}");
            let child = spawn_dispatch(&sb, &prompt);
            if n % (AT_ONCE / INBOX_FILES) == 0 {
                let inbox = sb.home().join("inbox");
                let name = format!("drop-{n}");
                let body =
                    format!("{{\"type\":\"task\",\"project\":\"app\",\"prompt\":\"dropped {n}\"}}");
                // Written aside and renamed in, as a producer should.
                std::fs::write(inbox.join(format!(".{name}")), body).expect("write");
                std::fs::rename(inbox.join(format!(".{name}")), inbox.join(&name)).expect("rename");
            }
            (prompt, child)
        })
        .collect();

    let mut told = BTreeMap::new();
    for (prompt, child) in clients {
        let out = child.wait_with_output().expect("wait");
        match said(&prompt, &out) {
            Said::Queued(id) => {
                told.insert(prompt, id);
            }
            Said::NotTold => panic!("{prompt}: the engine never died, yet no answer"),
        }
    }
    let ingested = ingest.wait_with_output().expect("ingest");
    assert!(
        ingested.status.success(),
        "{}",
        String::from_utf8_lossy(&ingested.stderr)
    );
    wait_secs(20, "the inbox files to be journaled", || {
        ids_by_prompt(&sb)
            .keys()
            .filter(|p| p.starts_with("dropped"))
            .count()
            == INBOX_FILES
    });

    let ids: BTreeSet<i64> = told.values().copied().collect();
    assert_eq!(ids.len(), AT_ONCE, "every dispatch got its own id");
    let by_prompt = ids_by_prompt(&sb);
    for (prompt, id) in &told {
        assert_eq!(
            by_prompt.get(prompt),
            Some(&vec![*id]),
            "{prompt} is journaled once, as the id it was told"
        );
    }
    for n in 0..INGESTED {
        assert_eq!(by_prompt[&format!("ingested {n}")].len(), 1, "ingested {n}");
    }
    assert_eq!(
        journaled(&sb).len(),
        AT_ONCE + INGESTED + INBOX_FILES,
        "nothing else, nothing twice"
    );
    assert_eq!(
        handed_over(&sb),
        AT_ONCE,
        "with the engine up, every dispatch went through its door"
    );
    assert_eq!(sb.journal().integrity_check().expect("check"), ["ok"]);
}

const ROUNDS: usize = 8;
const IN_FLIGHT: usize = 12;

fn seeds() -> Vec<u64> {
    match std::env::var("SWITCHBOARD_DOOR_SEED") {
        Ok(s) => s.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        Err(_) => vec![
            0xD00A_0001,
            // A seed that changes from day to day, printed so a failure
            // replays.
            0xD00A_0002
                ^ std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() / 86_400),
        ],
    }
}

/// Rounds of: an engine started, dispatches started one after another,
/// the engine SIGKILLed at a random moment among them (a third of the
/// time within 15 ms of its start, before or as its door opens; else once
/// its door is open). Then the next engine, over the dead one's socket.
fn kill_in_flight(seed: u64) {
    eprintln!("door seed {seed} (replay: SWITCHBOARD_DOOR_SEED={seed})");
    let mut dice = Dice(seed);
    let sb = paused_home();
    let mut told: BTreeMap<String, Said> = BTreeMap::new();
    let mut doors_seen = 0;
    // How long a dispatch through the door takes here (the longest of
    // three): the dispatches and the kills are spread by it.
    let whole = {
        let _engine = start_engine(&sb);
        wait_secs(20, "the engine's door", || door_is_open(&sb));
        (0..3)
            .map(|n| {
                let prompt = format!("calibrate {n}");
                let began = std::time::Instant::now();
                let out = spawn_dispatch(&sb, &prompt)
                    .wait_with_output()
                    .expect("wait");
                let took = began.elapsed();
                told.insert(prompt.clone(), said(&prompt, &out));
                took
            })
            .max()
            .expect("three")
    };
    for round in 0..ROUNDS {
        let mut engine: Option<EngineProcess> = Some(start_engine(&sb));
        let early = dice.below(3) == 0;
        if !early {
            // A door that is open (however slow the start under load),
            // for a moment or a while.
            wait_secs(20, "the engine's door", || door_is_open(&sb));
            std::thread::sleep(Duration::from_millis(dice.below(100)));
        }
        // Early: as the engine starts. Else at any moment while the
        // dispatches come to the door, started from 4 ms to a whole
        // dispatch's time apart (crowded: many in flight at the kill;
        // spaced: some answered before it, the rest after).
        let whole_us = whole.as_micros() as u64;
        let gap = if early {
            Duration::from_millis(4)
        } else {
            Duration::from_micros(4_000 + dice.below(whole_us))
        };
        let kill_after = if early {
            Duration::from_millis(dice.below(15))
        } else {
            Duration::from_micros(dice.below(gap.as_micros() as u64 * IN_FLIGHT as u64 + whole_us))
        };
        let began = std::time::Instant::now();
        let kill_if_due = |engine: &mut Option<EngineProcess>, doors_seen: &mut usize| {
            if began.elapsed() >= kill_after
                && let Some(running) = engine.take()
            {
                *doors_seen += usize::from(door_is_open(&sb));
                running.crash();
            }
        };
        let mut clients = Vec::new();
        for n in 0..IN_FLIGHT {
            kill_if_due(&mut engine, &mut doors_seen);
            let prompt = format!("round {round} task {n}");
            clients.push((prompt.clone(), spawn_dispatch(&sb, &prompt)));
            std::thread::sleep(gap);
        }
        while engine.is_some() {
            std::thread::sleep(Duration::from_millis(1));
            kill_if_due(&mut engine, &mut doors_seen);
        }
        for (prompt, child) in clients {
            let out = child.wait_with_output().expect("wait");
            told.insert(prompt.clone(), said(&prompt, &out));
        }
    }
    // The next engine starts over the last one's socket and takes tasks
    // through its door.
    let before = handed_over(&sb);
    assert!(
        before > 3,
        "seed {seed}: no dispatch went through a door before its engine was killed"
    );
    let _engine = start_engine(&sb);
    wait_secs(20, "the last engine's door", || door_is_open(&sb));
    let out = spawn_dispatch(&sb, "after the kills")
        .wait_with_output()
        .expect("wait");
    let Said::Queued(last) = said("after the kills", &out) else {
        panic!("seed {seed}: the engine after the kills did not answer");
    };
    assert_eq!(
        handed_over(&sb),
        before + 1,
        "seed {seed}: through the door"
    );

    let by_prompt = ids_by_prompt(&sb);
    let mut not_told = 0;
    let mut not_told_journaled = 0;
    for (prompt, said) in &told {
        let ids = by_prompt.get(prompt).cloned().unwrap_or_default();
        match said {
            Said::Queued(id) => assert_eq!(
                ids,
                vec![*id],
                "seed {seed}: {prompt} was told #{id}: journaled once, as that id"
            ),
            Said::NotTold => {
                not_told += 1;
                not_told_journaled += ids.len();
                assert!(
                    ids.len() <= 1,
                    "seed {seed}: {prompt} journaled twice: {ids:?}"
                );
            }
        }
    }
    assert_eq!(by_prompt["after the kills"], vec![last]);
    assert_eq!(
        journaled(&sb).len(),
        told.len() - not_told + not_told_journaled + 1,
        "seed {seed}: no job but the dispatched ones"
    );
    assert_eq!(sb.journal().integrity_check().expect("check"), ["ok"]);
    eprintln!(
        "seed {seed}: {} dispatches over {ROUNDS} kills ({doors_seen} with the door open; a dispatch took {whole:?}); \
         {} handed over, {not_told} not told ({not_told_journaled} of them journaled)",
        told.len(),
        handed_over(&sb) - 4
    );
}

#[test]
fn an_engine_killed_with_dispatches_in_flight_loses_none_silently_and_doubles_none() {
    for seed in seeds() {
        kill_in_flight(seed);
    }
}

const KILLED: usize = 24;

/// `dispatch` with no engine journals the task itself; SIGKILLed at
/// random moments (half of them to a new repository path, which it
/// registers as a project first), it leaves either the whole task or
/// nothing: no task twice, no project half registered or registered
/// twice, a journal SQLite finds whole. A dispatch after it takes the
/// next id, and an engine then starts on the home and takes tasks.
fn dispatch_killed(seed: u64) {
    eprintln!("dispatch kill seed {seed} (replay: SWITCHBOARD_DOOR_SEED={seed})");
    let mut dice = Dice(seed);
    let sb = paused_home();
    // How long a whole dispatch takes here, each kind: the kills are
    // spread over that and a little more.
    let took = |args: &[&str]| {
        let began = std::time::Instant::now();
        let out = sb.cmd(args).output().expect("dispatch");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        began.elapsed()
    };
    let to_app = took(&["dispatch", "app", "whole"]);
    let first = sb.repo("first");
    let to_new = took(&["dispatch", first.to_str().expect("utf-8"), "whole"]);
    let mut killed_at = Vec::new();
    let mut paths = vec![first];
    for n in 0..KILLED {
        let prompt = format!("killed {n}");
        let mut cmd = if n % 2 == 0 {
            sb.cmd(&["dispatch", "app", "--json", &prompt])
        } else {
            let repo = sb.repo(&format!("new-{n}"));
            paths.push(repo.clone());
            sb.cmd(&["dispatch", repo.to_str().expect("utf-8"), "--json", &prompt])
        };
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn dispatch");
        let whole = if n % 2 == 0 { to_app } else { to_new };
        let wait = Duration::from_micros(dice.below(whole.as_micros() as u64 * 6 / 5 + 1));
        std::thread::sleep(wait);
        let _ = child.kill();
        let out = child.wait_with_output().expect("wait");
        killed_at.push((prompt, wait, out.status.success()));
    }
    let by_prompt = ids_by_prompt(&sb);
    for (prompt, wait, finished) in &killed_at {
        let ids = by_prompt.get(prompt).cloned().unwrap_or_default();
        assert!(
            ids.len() <= 1,
            "seed {seed}: {prompt} (killed after {wait:?}) journaled twice: {ids:?}"
        );
        if *finished {
            assert_eq!(ids.len(), 1, "seed {seed}: {prompt} said queued, and is");
        }
    }
    let conn = rusqlite::Connection::open(sb.home().join("journal.db")).expect("db");
    let projects: Vec<(String, String)> = conn
        .prepare("SELECT name, path FROM projects")
        .expect("select")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    let paths_registered: BTreeSet<&String> = projects.iter().map(|(_, p)| p).collect();
    assert_eq!(
        paths_registered.len(),
        projects.len(),
        "seed {seed}: a repository registered twice: {projects:?}"
    );
    let orphans: i64 = conn
        .query_row(
            "SELECT count(*) FROM jobs WHERE project NOT IN (SELECT name FROM projects)",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(orphans, 0, "seed {seed}: a job of no project");
    assert_eq!(sb.journal().integrity_check().expect("check"), ["ok"]);

    // Each repository path takes a dispatch now, into the one project
    // it has (registered by a killed dispatch or now).
    for repo in &paths {
        let out = sb
            .cmd(&["dispatch", repo.to_str().expect("utf-8"), "--json", "again"])
            .output()
            .expect("dispatch");
        assert!(
            out.status.success(),
            "seed {seed}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let max_before = journaled(&sb).iter().map(|(_, id)| *id).max().unwrap_or(0);
    let _engine = start_engine(&sb);
    wait_secs(20, "the engine's door", || door_is_open(&sb));
    let out = spawn_dispatch(&sb, "after the kills")
        .wait_with_output()
        .expect("wait");
    let Said::Queued(id) = said("after the kills", &out) else {
        panic!("seed {seed}: no answer from the engine");
    };
    assert!(id > max_before, "seed {seed}: a new id");
    let projects_after: i64 = conn
        .query_row("SELECT count(*) FROM projects", [], |r| r.get(0))
        .expect("count");
    assert_eq!(
        projects_after as usize,
        1 + paths.len(),
        "seed {seed}: one project per repository"
    );
    let finished = killed_at.iter().filter(|(_, _, f)| *f).count();
    eprintln!(
        "seed {seed}: {KILLED} dispatches killed at random ({finished} finished first, {} journaled)",
        killed_at
            .iter()
            .filter(|(p, _, _)| by_prompt.contains_key(p))
            .count()
    );
}

#[test]
fn a_dispatch_killed_at_random_moments_leaves_its_task_whole_or_not_at_all() {
    for seed in seeds() {
        dispatch_killed(seed);
    }
}
