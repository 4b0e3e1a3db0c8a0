//! The real Claude Code and Codex under switchboard's engine, each against
//! the project's fake model API (tests/common/fake_api.rs). Installed from
//! npm into target/ on first run; skipped, with a message saying so, where
//! npm is missing or the install fails.
//!
//! `SWITCHBOARD_RECORD_SCREENS=1` also writes the screens seen in each
//! phase to tests/fixtures/screens (see tests/record_screens.sh).

#[path = "real_agents/blame.rs"]
mod blame;
mod common;
#[path = "real_agents/pane_watch.rs"]
mod pane_watch;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Sandbox;
use common::fake_api::{FakeApi, Phase, Script, Truth};
use common::real_agents::{Agent, AgentHome, installed};
use pane_watch::PaneWatch;
use switchboard::agents::status::AgentStatus;
use switchboard::model::StateName;
use switchboard::runtime::procs;

/// How long after a change of truth a sample counts as in transition: the
/// fake API knows when the tool call went out, not when the agent has
/// drawn its question (Claude Code runs its hooks first), nor when an
/// answer pressed in the pane reached the agent.
const GRACE: Duration = Duration::from_millis(1000);

/// The engine's configuration: its default intervals (an active agent's
/// pane output wakes it), unless `SWITCHBOARD_REAL_ACTIVE_INTERVAL` names
/// another `active_interval` (to compare with an engine that patrols at a
/// short alarm).
fn config() -> String {
    match std::env::var("SWITCHBOARD_REAL_ACTIVE_INTERVAL") {
        Ok(every) => format!("[scheduler]\nactive_interval = {every:?}\n"),
        Err(_) => String::new(),
    }
}

/// The engine, run with the agents' environment.
struct Engine {
    child: Child,
    home: PathBuf,
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = tmux(&self.home, &["kill-server"]);
    }
}

fn tmux(home: &Path, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .arg("-S")
        .arg(home.join("tmux/server.sock"))
        .args(args)
        .output()
        .expect("tmux");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A project, an agent home and the engine, ready for a dispatch.
struct Rig {
    sb: Sandbox,
    api: FakeApi,
    agent_home: AgentHome,
    engine: Option<Engine>,
    env: Vec<(String, String)>,
}

impl Rig {
    fn new(script: Script, claude_hooks: bool) -> Option<Rig> {
        Rig::with_env(script, claude_hooks, |_| Vec::new())
    }

    /// As `new`, with more environment for the agents (from the API).
    fn with_env(
        script: Script,
        claude_hooks: bool,
        extra: impl FnOnce(&FakeApi) -> Vec<(String, String)>,
    ) -> Option<Rig> {
        let agents = installed()?;
        let sb = Sandbox::new();
        let repo = sb.project("api");
        std::fs::write(sb.home().join("config.toml"), config()).expect("config");
        let api = FakeApi::start(script);
        let agent_home = AgentHome::new(&api, &repo, claude_hooks);
        let mut env = agent_home.env(&api, &agents);
        for (k, v) in extra(&api) {
            // A PATH given goes in front of the agents' PATH.
            match env.iter_mut().find(|(key, _)| *key == k && k == "PATH") {
                Some((_, path)) => *path = format!("{v}:{path}"),
                None => env.push((k, v)),
            }
        }
        let mut rig = Rig {
            sb,
            api,
            agent_home,
            engine: None,
            env,
        };
        let child = rig
            .cmd(&["run", "--headless"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("engine");
        rig.engine = Some(Engine {
            child,
            home: rig.sb.home(),
        });
        Some(rig)
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.sb.cmd(args);
        cmd.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        cmd
    }

    fn dispatch(&self, agent: Agent) -> i64 {
        self.dispatch_to(agent.name())
    }

    fn dispatch_to(&self, profile: &str) -> i64 {
        let out = common::Run::of(&mut self.cmd(&[
            "dispatch",
            "api",
            "create the file",
            "--agent",
            profile,
            "--json",
        ]));
        out.json()["id"].as_i64().expect("job id")
    }

    fn state(&self, job: i64) -> StateName {
        self.sb
            .journal()
            .job(job)
            .expect("journal")
            .expect("job")
            .state
            .name()
    }

    fn session(&self, job: i64) -> String {
        format!("sb-{job}-1")
    }

    fn screen(&self, job: i64, colours: bool) -> String {
        let target = format!("={}:", self.session(job));
        let mut args = vec!["capture-pane", "-p", "-t", &target];
        if colours {
            args.push("-e");
        }
        tmux(&self.sb.home(), &args)
    }
}

/// Saves a recorded screen as a fixture when re-recording.
fn record(name: &str, plain: &str, colours: &str) {
    if std::env::var_os("SWITCHBOARD_RECORD_SCREENS").is_none() {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/screens");
    std::fs::write(dir.join(format!("{name}.txt")), plain).expect("write fixture");
    std::fs::write(dir.join(format!("{name}.ans")), colours).expect("write fixture");
}

/// The truth at `at` with the question as the screen shows it: asking
/// from when it was drawn until it was gone (the API's phases otherwise).
fn screen_truth(api: Truth, at: Instant, drawn: Option<Instant>, gone: Option<Instant>) -> Truth {
    let shown = drawn.is_some_and(|d| at >= d) && gone.is_none_or(|g| at < g);
    match api {
        _ if shown => Truth::Asking,
        // Asked for the tool, question not drawn yet, or answered and
        // gone: the agent works.
        Truth::Asking => Truth::Busy,
        other => other,
    }
}

/// One sample of a run: when, what switchboard said, what was true.
#[derive(Debug)]
struct Sample {
    at: Duration,
    state: StateName,
    truth: Truth,
}

/// Whether the job's state is right for the truth.
fn agrees(state: StateName, truth: Truth) -> bool {
    match truth {
        // Until the agent's first request the job has only started it.
        Truth::Starting => matches!(
            state,
            StateName::Queued | StateName::Starting | StateName::Running
        ),
        Truth::Busy => state == StateName::Running,
        Truth::Asking => state == StateName::Waiting,
        Truth::Idle => state == StateName::Done,
    }
}

/// What one run measured.
#[derive(Debug, Default)]
struct Figures {
    /// From the tool call going out to the job showing `waiting`.
    to_waiting: Duration,
    /// From the question being drawn on screen to the job `waiting`, in
    /// ms (negative: waiting before the question was drawn, as Claude's
    /// PermissionRequest hook fires first).
    drawn_to_waiting: i64,
    /// Every sample, transitions included, and how many were wrong
    /// against the truth as the screen shows the question.
    all_wrong: usize,
    /// From the turn's end to the job `done`.
    to_done: Duration,
    samples: usize,
    /// Samples outside transitions, and how many of them were wrong.
    settled: usize,
    settled_wrong: usize,
    /// Each wrong sample (with transitions): the change it lagged and
    /// whose lag it was.
    blamed: Vec<(&'static str, blame::Blame)>,
    /// Each change of the truth: what it was, and the job's lag behind it
    /// split into the agent's part and switchboard's (ms; see
    /// [`blame::parts`]).
    lags: Vec<(&'static str, i64, i64)>,
}

/// The run's changes of the truth (the API's phases, the question as
/// drawn and gone), each with the first signal of it, the engine's
/// reading and the job's status; times in ms since `start`.
fn transitions(
    rig: &Rig,
    job: i64,
    watch: &PaneWatch,
    start: Instant,
    start_wall: std::time::SystemTime,
) -> Vec<(Truth, Truth, blame::Transition)> {
    let phases = rig.api.phases();
    let (drawn, gone) = watch.times();
    let ms = |t: Instant| -> i64 {
        if t >= start {
            (t - start).as_millis() as i64
        } else {
            -((start - t).as_millis() as i64)
        }
    };
    let wall_ms = |e: &switchboard::journal::Event| -> i64 {
        let at = std::time::UNIX_EPOCH + Duration::from_millis(e.at.millis() as u64);
        match at.duration_since(start_wall) {
            Ok(d) => d.as_millis() as i64,
            Err(e) => -(e.duration().as_millis() as i64),
        }
    };
    let events = rig.sb.journal().events(job).expect("events");
    let states: Vec<(i64, StateName)> = events
        .iter()
        .filter_map(|e| Some((wall_ms(e), e.kind.parse::<StateName>().ok()?)))
        .collect();
    let mut points: Vec<Instant> = phases.iter().map(|(t, _)| *t).collect();
    points.extend(drawn);
    points.extend(gone);
    points.sort();
    let mut before = Truth::Starting;
    let mut out = Vec::new();
    for c in points {
        let now = screen_truth(common::fake_api::truth(&phases, c), c, drawn, gone);
        if now == before {
            continue;
        }
        let what = match (before, now) {
            (Truth::Starting, Truth::Busy) => "first request",
            (_, Truth::Asking) => "question drawn",
            (Truth::Asking, Truth::Busy) => "question gone",
            (_, Truth::Idle) => "turn end",
            _ => "other",
        };
        // Signals count from the API phase that caused the change (the
        // tool call, for a question drawn; the answer, for one gone).
        let from = phases
            .iter()
            .map(|(t, _)| *t)
            .filter(|t| *t <= c)
            .max()
            .unwrap_or(c);
        let (word, status) = match now {
            Truth::Busy => ("working", Some(AgentStatus::Busy)),
            Truth::Asking => ("waiting", Some(AgentStatus::Asking)),
            Truth::Idle => ("done", Some(AgentStatus::Idle)),
            Truth::Starting => ("", None),
        };
        let hook = events
            .iter()
            .filter(|e| e.kind == "report" && e.message.contains(&format!("): {word}")))
            .map(wall_ms)
            .find(|at| *at >= ms(from));
        let pane = status.and_then(|s| watch.first_reading(s, from)).map(ms);
        let signal = match (hook, pane) {
            (Some(h), Some(p)) if p < h => Some((p, "pane")),
            (Some(h), _) => Some((h, "hook")),
            (None, Some(p)) => Some((p, "pane")),
            (None, None) => None,
        };
        let read = status.and_then(|s| {
            let word = s.to_string();
            events
                .iter()
                .filter(|e| e.kind == "status" && e.message.starts_with(&format!("{word} by")))
                .map(wall_ms)
                .find(|at| *at >= ms(from))
        });
        let at = ms(c);
        let state_then = states.iter().rev().find(|(t, _)| *t <= at);
        let status_at = match state_then {
            Some((t, s)) if agrees(*s, now) => Some(*t),
            _ => states
                .iter()
                .find(|(t, s)| *t > at && agrees(*s, now))
                .map(|(t, _)| *t),
        };
        out.push((
            before,
            now,
            blame::Transition {
                what,
                truth_at: at,
                signal,
                output_at: watch.first_output(c).map(ms),
                read_at: read,
                status_at,
            },
        ));
        before = now;
    }
    out
}

/// The wall-clock time of a journal event of `job` of `kind`.
fn event_time(rig: &Rig, job: i64, kind: &str) -> Option<std::time::SystemTime> {
    let events = rig.sb.journal().events(job).expect("events");
    let e = events.iter().find(|e| e.kind == kind)?;
    Some(std::time::UNIX_EPOCH + Duration::from_millis(e.at.millis() as u64))
}

fn phase_time(rig: &Rig, phase: Phase, n: usize) -> Option<std::time::SystemTime> {
    rig.api
        .wall_phases()
        .into_iter()
        .filter(|(_, p)| *p == phase)
        .nth(n)
        .map(|(t, _)| t)
}

/// Runs a job through the ask script: it streams, asks, is answered with
/// `switchboard answer` (the agent's own key), streams the answer and ends
/// its turn. Samples the job's state every 0.1 s against the fake API's
/// phase log. `None` when the real agents are not installed.
fn ask_and_answer(agent: Agent) -> Option<Figures> {
    let think = Duration::from_secs(3);
    let rig = Rig::new(Script::ask(think, Duration::from_secs(2)), true)?;
    let start = Instant::now();
    let start_wall = std::time::SystemTime::now();
    let job = rig.dispatch(agent);
    let watch = PaneWatch::start(rig.sb.home(), rig.session(job), agent.name());
    let mut samples = Vec::new();
    let mut answered = false;
    let mut recorded_busy = false;
    let deadline = start + Duration::from_secs(90);
    loop {
        let now = Instant::now();
        assert!(
            now < deadline,
            "the run did not end: {:?}\nscreen:\n{}\nevents: {:#?}",
            rig.api.phases(),
            rig.screen(job, false),
            rig.sb.journal().events(job)
        );
        let state = rig.state(job);
        let truth = rig.api.truth_at(now);
        samples.push(Sample {
            at: now - start,
            state,
            truth,
        });
        if truth == Truth::Busy && !answered && !recorded_busy {
            std::thread::sleep(Duration::from_millis(1000));
            record(
                &format!("{}_busy", agent.name()),
                &rig.screen(job, false),
                &rig.screen(job, true),
            );
            recorded_busy = true;
        }
        if truth == Truth::Asking && !answered && state == StateName::Waiting {
            // Let the question be read, then answer it.
            std::thread::sleep(Duration::from_millis(1000));
            record(
                &format!("{}_ask", agent.name()),
                &rig.screen(job, false),
                &rig.screen(job, true),
            );
            // A nudge would be typed into the question: refused.
            let nudge = common::Run::of(&mut rig.cmd(&["nudge", &job.to_string(), "hello"]));
            assert!(
                nudge.code != 0 && nudge.stderr.contains("answer"),
                "a nudge to an asking agent is refused: {} {}",
                nudge.stdout,
                nudge.stderr
            );
            let yes = match agent {
                Agent::Claude => "1",
                Agent::Codex => "y",
            };
            // The answer is on its way from here (the engine may press the
            // key before this command has returned).
            rig.api.note(Phase::Answered);
            common::Run::of(&mut rig.cmd(&["answer", &job.to_string(), yes])).ok();
            answered = true;
        }
        if state == StateName::Done || state == StateName::Failed {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    record(
        &format!("{}_ready", agent.name()),
        &rig.screen(job, false),
        &rig.screen(job, true),
    );
    let worktree = rig.sb.home().join("worktrees");
    let events = common::Run::of(&mut rig.cmd(&["jobs", &job.to_string(), "--json"])).json();
    for e in events["events"].as_array().into_iter().flatten() {
        eprintln!("  {} {} {}", e["at"], e["kind"], e["message"]);
    }
    for (at, phase) in rig.api.wall_phases() {
        let ms = at
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        eprintln!("  phase {phase:?} at {ms} ms");
    }
    // `SWITCHBOARD_REAL_KEEP_LOG=DIR` keeps the engine's log (with
    // `SWITCHBOARD_LOG=debug`, each pass's time).
    if let Some(dir) = std::env::var_os("SWITCHBOARD_REAL_KEEP_LOG") {
        let to = Path::new(&dir).join(format!("{}-{}.log", agent.name(), std::process::id()));
        let _ = std::fs::copy(rig.sb.home().join("logs/switchboard.log"), to);
    }
    // The run as a timeline (ms from the dispatch): the API's phases, what
    // the pane showed, the job's state as sampled.
    let mut timeline: Vec<(Duration, String)> = rig
        .api
        .phases()
        .iter()
        .map(|(t, p)| (t.saturating_duration_since(start), format!("API {p:?}")))
        .chain(watch.seen().into_iter().map(|s| {
            (
                s.at.saturating_duration_since(start),
                format!("pane {}", s.text),
            )
        }))
        .collect();
    let mut shown = None;
    for s in &samples {
        if shown != Some(s.state) {
            timeline.push((s.at, format!("job {:?}", s.state)));
            shown = Some(s.state);
        }
    }
    timeline.sort_by_key(|(t, _)| *t);
    for (at, what) in &timeline {
        eprintln!("  +{:>6} ms {what}", at.as_millis());
    }
    // A change of truth takes a moment to show: samples within GRACE of
    // one are counted apart (the figures in the README give both).
    let changes: Vec<Duration> = rig
        .api
        .phases()
        .iter()
        .map(|(t, _)| t.saturating_duration_since(start))
        .collect();
    let settled = |s: &&Sample| !changes.iter().any(|c| s.at >= *c && s.at < *c + GRACE);
    let wrong: Vec<&Sample> = samples
        .iter()
        .filter(settled)
        .filter(|s| !agrees(s.state, s.truth))
        .collect();
    eprintln!(
        "{}: {} samples, {} in a transition (within {GRACE:?} of a change), {} wrong outside: {:?}",
        agent.name(),
        samples.len(),
        samples.iter().filter(|s| !settled(s)).count(),
        wrong.len(),
        wrong
    );
    assert_eq!(rig.state(job), StateName::Done, "samples: {samples:?}");
    assert!(
        walk_for(&worktree, "made-by-agent.txt"),
        "the approved command ran in the job's worktree"
    );
    assert!(
        wrong.is_empty(),
        "{} of {} samples wrong",
        wrong.len(),
        samples.len()
    );
    // explain tells the story: the question and the turn's end, each with
    // the signal that said so.
    let explained = common::Run::of(&mut rig.cmd(&["explain", &job.to_string(), "--json"])).json();
    let history = explained["history"].as_array().expect("history");
    assert!(
        history.iter().any(|c| c["status"] == "asking"),
        "{explained}"
    );
    assert_eq!(explained["status"], "idle", "{explained}");
    assert_eq!(explained["signal"], "hook", "{explained}");
    let since = |a: std::time::SystemTime, b: Option<std::time::SystemTime>| {
        b.and_then(|b| b.duration_since(a).ok()).unwrap_or_default()
    };
    let asked = phase_time(&rig, Phase::Asked, 0).expect("asked");
    let ended = phase_time(&rig, Phase::TurnEnded, 0).expect("turn end");
    let (drawn, gone) = watch.times();
    let drawn_at = drawn.expect("the question was seen on screen");
    let waiting_wall = event_time(&rig, job, "waiting");
    // The drawn moment by the wall clock, to compare with the journal's.
    let drawn_wall = start_wall + (drawn_at - start);
    let all_wrong: Vec<&Sample> = samples
        .iter()
        .filter(|s| {
            let at = start + s.at;
            !agrees(s.state, screen_truth(s.truth, at, drawn, gone))
        })
        .collect();
    eprintln!(
        "{}: question drawn at +{:?}, gone at +{:?}; {} of {} samples wrong with transitions: {:?}",
        agent.name(),
        drawn_at - start,
        gone.map(|g| g - start),
        all_wrong.len(),
        samples.len(),
        all_wrong
    );
    // Whose lag each wrong sample was: the agent's (no signal yet) or
    // switchboard's (a signal, the status not yet).
    let changes = transitions(&rig, job, &watch, start, start_wall);
    for (_, _, t) in &changes {
        eprintln!("  {}", blame::row(t));
    }
    let mut blamed = Vec::new();
    for s in &all_wrong {
        let at = s.at.as_millis() as i64;
        let i = changes.iter().rposition(|(_, _, t)| t.truth_at <= at);
        let last = i.map(|i| &changes[i]);
        let lags = last.is_some_and(|(before, _, _)| agrees(s.state, *before));
        let next = changes.get(i.map_or(0, |i| i + 1));
        let ahead = next.is_some_and(|(_, to, _)| agrees(s.state, *to));
        let who = blame::blame(at, last.map(|(_, _, t)| t), lags, ahead);
        let what = match who {
            blame::Blame::Ahead => next.map_or("other", |(_, _, t)| t.what),
            _ => last.map_or("other", |(_, _, t)| t.what),
        };
        eprintln!(
            "  miss at +{at} ms: {:?} for {:?}: {what}, {who}",
            s.state, s.truth
        );
        blamed.push((what, who));
    }
    let lags = changes
        .iter()
        .filter_map(|(_, _, t)| blame::parts(t).map(|(a, s)| (t.what, a, s)))
        .collect();
    let figures = Figures {
        blamed,
        lags,
        drawn_to_waiting: waiting_wall.map_or(i64::MAX, |w| match w.duration_since(drawn_wall) {
            Ok(d) => d.as_millis() as i64,
            Err(e) => -(e.duration().as_millis() as i64),
        }),
        all_wrong: all_wrong.len(),
        to_waiting: since(asked, event_time(&rig, job, "waiting")),
        to_done: since(ended, event_time(&rig, job, "done")),
        samples: samples.len(),
        settled: samples.iter().filter(settled).count(),
        settled_wrong: wrong.len(),
    };
    eprintln!("{}: {figures:?}", agent.name());
    let _ = &rig.agent_home;
    Some(figures)
}

fn walk_for(dir: &Path, name: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        let p = e.path();
        p.file_name().is_some_and(|n| n == name) || (p.is_dir() && walk_for(&p, name))
    })
}

#[test]
fn claude_asks_is_answered_and_finishes() {
    ask_and_answer(Agent::Claude);
}

#[test]
fn codex_asks_is_answered_and_finishes() {
    ask_and_answer(Agent::Codex);
}

/// The README's figures: `SWITCHBOARD_REAL_RUNS` runs (default 5) of each
/// agent, with the median and the worst of each latency.
#[test]
#[ignore = "measures; run with --ignored"]
fn measure_real_agents() {
    let runs: usize = std::env::var("SWITCHBOARD_REAL_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    for agent in [Agent::Claude, Agent::Codex] {
        let mut all = Vec::new();
        for _ in 0..runs {
            match ask_and_answer(agent) {
                Some(f) => all.push(f),
                None => return,
            }
        }
        let p50 = |mut v: Vec<Duration>| {
            v.sort();
            (v[v.len() / 2], v[v.len() - 1])
        };
        let (w50, wmax) = p50(all.iter().map(|f| f.to_waiting).collect());
        let (d50, dmax) = p50(all.iter().map(|f| f.to_done).collect());
        let mut drawn: Vec<i64> = all.iter().map(|f| f.drawn_to_waiting).collect();
        drawn.sort();
        let (dw50, dwmax) = (drawn[drawn.len() / 2], drawn[drawn.len() - 1]);
        let all_wrong: usize = all.iter().map(|f| f.all_wrong).sum();
        let samples: usize = all.iter().map(|f| f.samples).sum();
        let settled: usize = all.iter().map(|f| f.settled).sum();
        let wrong: usize = all.iter().map(|f| f.settled_wrong).sum();
        println!(
            "FIGURES {}: {runs} runs; question drawn -> waiting p50 {dw50} ms max {dwmax} ms (all: {drawn:?}); tool call -> waiting p50 {w50:?} max {wmax:?}; turn end -> done p50 {d50:?} max {dmax:?}; {samples} samples, {all_wrong} wrong with transitions (question as drawn); {settled} outside transitions, {wrong} of them wrong",
            agent.name()
        );
        // Whose each wrong sample was, by the change it lagged.
        let mut table: std::collections::BTreeMap<&str, [usize; 4]> = Default::default();
        for (what, who) in all.iter().flat_map(|f| f.blamed.iter()) {
            let row = table.entry(what).or_default();
            row[*who as usize] += 1;
        }
        println!(
            "BLAME {}: {all_wrong} wrong samples of {samples}; by change: agent's own lag (no signal yet) / switchboard's (signal seen, status not yet) / status ahead of the screen / wrong reading",
            agent.name()
        );
        for (what, [a, s, ahead, other]) in &table {
            println!(
                "BLAME {}:   {what:<16} {a:>3} / {s:>3} / {ahead:>3} / {other:>3}",
                agent.name()
            );
        }
        // Each change's two lags, median and worst over the runs.
        let mut by_change: std::collections::BTreeMap<&str, (Vec<i64>, Vec<i64>)> =
            Default::default();
        for (what, signal, status) in all.iter().flat_map(|f| f.lags.iter()) {
            let e = by_change.entry(what).or_default();
            e.0.push(*signal);
            e.1.push(*status);
        }
        let mid = |v: &mut Vec<i64>| {
            v.sort();
            match (v.get(v.len() / 2), v.last()) {
                (Some(m), Some(x)) => format!("p50 {m} max {x}"),
                _ => "-".to_string(),
            }
        };
        for (what, (signal, status)) in &mut by_change {
            println!(
                "LAGS {}:   {what:<16} the status's lag: the agent's part (truth -> first signal) {} ms; switchboard's part (signal -> status) {} ms",
                agent.name(),
                mid(signal),
                mid(status)
            );
        }
    }
}

/// Two Codex jobs at once, sharing one CODEX_HOME (and so one app-server
/// daemon): each job's turn end is reported on its own job, because the
/// job's id is in the `notify` argv.
#[test]
fn codex_jobs_side_by_side_report_on_their_own_job() {
    let Some(agents) = installed() else {
        return;
    };
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    sb.run(&[
        "project",
        "add",
        "api",
        repo.to_str().unwrap(),
        "--max-agents",
        "2",
    ])
    .ok();
    std::fs::write(sb.home().join("config.toml"), config()).expect("config");
    let api = FakeApi::start(Script::stream(Duration::from_secs(3)));
    let agent_home = AgentHome::new(&api, &repo, false);
    let env = agent_home.env(&api, &agents);
    let cmd = |args: &[&str]| {
        let mut c = sb.cmd(args);
        c.envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        c
    };
    let child = cmd(&["run", "--headless"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("engine");
    let _engine = Engine {
        child,
        home: sb.home(),
    };
    let ids: Vec<i64> = (0..2)
        .map(|i| {
            let out = common::Run::of(&mut cmd(&[
                "dispatch",
                "api",
                &format!("create the file {i}"),
                "--agent",
                "codex",
                "--json",
            ]));
            out.json()["id"].as_i64().expect("id")
        })
        .collect();
    let journal = sb.journal();
    common::wait_secs(90, "both jobs finish", || {
        ids.iter()
            .all(|id| journal.job(*id).unwrap().unwrap().state.name() == StateName::Done)
    });
    // Done shows before the work is committed; approve waits for it.
    common::wait_secs(30, "both jobs' work committed", || {
        ids.iter().all(|id| {
            journal
                .review_item(*id)
                .unwrap()
                .is_some_and(|r| r.state == "ready")
        })
    });
    for id in &ids {
        let events = journal.events(*id).unwrap();
        let dones: Vec<_> = events
            .iter()
            .filter(|e| e.kind == "report" && e.message.contains("codex-notify): done"))
            .collect();
        assert_eq!(dones.len(), 1, "job #{id}: {events:#?}");
        let done = events.iter().find(|e| e.kind == "done").unwrap();
        assert!(
            done.message.contains("(hook:"),
            "job #{id}: {}",
            done.message
        );
    }
    // Each job's Codex (and anything it started, daemons included) runs
    // with the attempt's environment until the attempt ends: approved,
    // each attempt's processes are gone.
    for id in &ids {
        assert!(
            !procs::attempt_processes(&sb.home(), *id, 1).is_empty(),
            "job #{id}'s Codex is found by its environment"
        );
        common::Run::of(&mut cmd(&["approve", &id.to_string()])).ok();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    for id in &ids {
        while !procs::attempt_processes(&sb.home(), *id, 1).is_empty() {
            assert!(
                Instant::now() < deadline,
                "job #{id}'s processes end with its attempt"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// An agent killed mid-turn comes back into its own conversation (the
/// profile's `resume`): its next request carries the task it was given
/// before, and the job finishes.
fn killed_agent_resumes(agent: Agent) {
    let Some(rig) = Rig::new(Script::hang_then_stream(Duration::from_secs(1)), false) else {
        return;
    };
    let job = rig.dispatch(agent);
    assert!(
        rig.api
            .wait_for(Phase::Hung, 1, Duration::from_secs(60))
            .is_some(),
        "the agent asked the model"
    );
    // Killed a moment into its turn, once the agent has saved the
    // conversation it is to come back to (killed sooner, its resume finds
    // none and the checkpoint prompt is the fallback).
    std::thread::sleep(Duration::from_secs(2));
    let target = format!("={}:", rig.session(job));
    let pid = tmux(
        &rig.sb.home(),
        &["display-message", "-p", "-t", &target, "#{pane_pid}"],
    );
    Command::new("kill")
        .args(["-9", pid.trim()])
        .status()
        .expect("kill");
    common::wait_until(
        Duration::from_secs(90),
        Duration::from_millis(200),
        || match rig.state(job) {
            StateName::Done => Ok(()),
            _ => Err(()),
        },
        |()| {
            format!(
                "the resumed agent finishes; turns: {}; screen:\n{}",
                rig.api.turns().len(),
                rig.screen(job, false)
            )
        },
    );
    let turns = rig.api.turns();
    assert!(turns.len() >= 2, "{turns:?}");
    let resumed = turns.last().expect("a turn");
    assert!(
        resumed.contains("create the file") && resumed.contains("Carry on with the task"),
        "the resumed conversation holds the first task and the note: {resumed}"
    );
    let events = rig.sb.journal().events(job).expect("events");
    assert!(
        events
            .iter()
            .any(|e| e.message.contains("restarting the agent")),
        "{events:#?}"
    );
}

#[test]
fn claude_killed_mid_turn_resumes_its_conversation() {
    killed_agent_resumes(Agent::Claude);
}

#[test]
fn codex_killed_mid_turn_resumes_its_conversation() {
    killed_agent_resumes(Agent::Codex);
}

/// A turn whose every request fails with an HTTP 500 (after the agent's
/// own retry): the agent shows the error and is back at its prompt. The
/// job is never `done`: its attempt fails with the error (and the
/// scheduler's retries with backoff follow).
fn failed_turn(agent: Agent) {
    let Some(rig) = Rig::new(Script::fail(), true) else {
        return;
    };
    let job = rig.dispatch(agent);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    // The screen before the attempt's end took the session with it.
    let mut last_screen = (String::new(), String::new());
    let failed = loop {
        let plain = rig.screen(job, false);
        if !plain.trim().is_empty() {
            last_screen = (plain, rig.screen(job, true));
        }
        let state = rig.state(job);
        if seen.last() != Some(&state) {
            seen.push(state);
        }
        let events = rig.sb.journal().events(job).expect("events");
        if let Some(e) = events.iter().find(|e| e.kind == "failed") {
            break e.message.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the attempt fails; states {seen:?}; phases {:?}; screen:\n{}",
            rig.api.phases(),
            rig.screen(job, false)
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    record(
        &format!("{}_failed", agent.name()),
        &last_screen.0,
        &last_screen.1,
    );
    assert!(
        rig.api.phases().iter().any(|(_, p)| *p == Phase::Failed),
        "the API failed the turn"
    );
    assert!(!seen.contains(&StateName::Done), "never done: {seen:?}");
    assert!(failed.contains("ended on an error"), "{failed}");
    eprintln!("{}: {failed}", agent.name());
}

#[test]
fn claude_turn_that_fails_fails_its_attempt() {
    failed_turn(Agent::Claude);
}

#[test]
fn codex_turn_that_fails_fails_its_attempt() {
    failed_turn(Agent::Codex);
}

/// Aider, where it is installed: `SWITCHBOARD_AIDER` names its program,
/// else `target/tmp/real-agents/aider/bin/aider` (a virtualenv made by
/// hand: `python3 -m venv target/tmp/real-agents/aider &&
/// target/tmp/real-agents/aider/bin/pip install aider-chat==0.86.2`; the
/// install takes minutes and 700 MB, so it is not made by the tests).
fn aider() -> Option<PathBuf> {
    let path = std::env::var_os("SWITCHBOARD_AIDER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("real-agents/aider/bin/aider")
        });
    if path.is_file() {
        Some(path)
    } else {
        eprintln!(
            "SKIPPED: Aider is not installed at {} (see the README: real agents)",
            path.display()
        );
        None
    }
}

/// Aider against the fake Chat Completions API: it streams, offers to run
/// a shell command (its "(Y)es/(N)o" question, after its response),
/// is answered with `switchboard answer ID y`, runs it and is back at its
/// prompt: done.
#[test]
fn aider_asks_is_answered_and_finishes() {
    let Some(aider) = aider() else {
        return;
    };
    let bin = aider
        .parent()
        .expect("bin dir")
        .to_string_lossy()
        .into_owned();
    let Some(rig) = Rig::with_env(
        Script::ask(Duration::from_secs(2), Duration::from_secs(1)),
        false,
        |api| {
            [
                ("OPENAI_API_BASE", format!("{}/v1", api.base_url())),
                ("AIDER_MODEL", "openai/gpt-fake".into()),
                ("AIDER_CHECK_UPDATE", "false".into()),
                ("AIDER_ANALYTICS_DISABLE", "true".into()),
                ("AIDER_GITIGNORE", "false".into()),
                ("AIDER_SHOW_MODEL_WARNINGS", "false".into()),
                ("AIDER_AUTO_COMMITS", "false".into()),
                ("AIDER_SHOW_RELEASE_NOTES", "false".into()),
                ("AIDER_MAP_TOKENS", "0".into()),
                // Shell commands in the reply are offered to run.
                ("AIDER_EDIT_FORMAT", "diff".into()),
                ("LITELLM_LOCAL_MODEL_COST_MAP", "True".into()),
                // The tests' NO_COLOR=1 (for switchboard's own output)
                // would reach Aider through the tmux server and turn off
                // its "pretty" output, spinner included; an operator's
                // Aider has it on.
                ("NO_COLOR", String::new()),
                ("PATH", bin),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
        },
    ) else {
        return;
    };
    let job = rig.dispatch_to("aider");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    let mut recorded_busy = false;
    while rig.state(job) != StateName::Waiting {
        // The fake API waits a second before its first token: near its end,
        // Aider shows that it waits for the model.
        if let Some((asked_at, _)) = rig.api.phases().first().copied()
            && !recorded_busy
        {
            std::thread::sleep(Duration::from_millis(850).saturating_sub(asked_at.elapsed()));
            record(
                "aider_busy",
                &rig.screen(job, false),
                &rig.screen(job, true),
            );
            recorded_busy = true;
        }
        let s = rig.state(job);
        if seen.last() != Some(&s) {
            seen.push(s);
        }
        assert!(
            Instant::now() < deadline && !matches!(s, StateName::Done | StateName::Failed),
            "aider asks; states {seen:?}; phases {:?}; screen:\n{}",
            rig.api.phases(),
            rig.screen(job, false)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    record("aider_ask", &rig.screen(job, false), &rig.screen(job, true));
    common::Run::of(&mut rig.cmd(&["answer", &job.to_string(), "y"])).ok();
    while rig.state(job) != StateName::Done {
        assert!(
            Instant::now() < deadline && rig.state(job) != StateName::Failed,
            "aider finishes; phases {:?}; events {:#?}; screen:\n{}",
            rig.api.phases(),
            rig.sb.journal().events(job).expect("events"),
            rig.screen(job, false)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    record(
        "aider_ready",
        &rig.screen(job, false),
        &rig.screen(job, true),
    );
    assert!(
        walk_for(&rig.sb.home().join("worktrees"), "made-by-agent.txt"),
        "the approved command ran in the job's worktree; screen:\n{}",
        rig.screen(job, false)
    );
}
