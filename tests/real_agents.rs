//! The real Claude Code and Codex under switchboard's engine, each against
//! the project's fake model API (tests/common/fake_api.rs). Installed from
//! npm into target/ on first run; skipped, with a message saying so, where
//! npm is missing or the install fails.
//!
//! `SWITCHBOARD_RECORD_SCREENS=1` also writes the screens seen in each
//! phase to tests/fixtures/screens (see tests/record_screens.sh).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::Sandbox;
use common::fake_api::{FakeApi, Phase, Script, Truth};
use common::real_agents::{Agent, AgentHome, installed};
use switchboard::model::StateName;

/// How long after a change of truth a sample counts as in transition.
const GRACE: Duration = Duration::from_millis(500);

const CONFIG: &str = r#"
[scheduler]
active_interval = "100ms"
idle_interval = "500ms"
"#;

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
        let agents = installed()?;
        let sb = Sandbox::new();
        let repo = sb.project("api");
        std::fs::write(sb.home().join("config.toml"), CONFIG).expect("config");
        let api = FakeApi::start(script);
        let agent_home = AgentHome::new(&api, &repo, claude_hooks);
        let env = agent_home.env(&api, &agents);
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
        let out = common::Run::of(&mut self.cmd(&[
            "dispatch",
            "api",
            "create the file",
            "--agent",
            agent.name(),
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

    fn title(&self, job: i64) -> String {
        let target = format!("={}:", self.session(job));
        tmux(
            &self.sb.home(),
            &["display-message", "-p", "-t", &target, "#{pane_title}"],
        )
        .trim()
        .to_string()
    }

    fn keys(&self, job: i64, keys: &[&str]) {
        let target = format!("={}:", self.session(job));
        let mut args = vec!["send-keys", "-t", &target];
        args.extend(keys);
        tmux(&self.sb.home(), &args);
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

/// Runs a job through the ask script: it streams, asks, is answered with
/// `yes` (the agent's own key), streams the answer and ends its turn.
/// Samples the job's state every 0.1 s against the fake API's phase log.
fn ask_and_answer(agent: Agent) {
    let think = Duration::from_secs(3);
    let Some(rig) = Rig::new(Script::ask(think, Duration::from_secs(2)), true) else {
        return;
    };
    let start = Instant::now();
    let job = rig.dispatch(agent);
    let mut samples = Vec::new();
    let mut answered = false;
    let mut recorded_busy = false;
    let deadline = start + Duration::from_secs(90);
    loop {
        let now = Instant::now();
        assert!(
            now < deadline,
            "the run did not end: {:?}\nscreen:\n{}",
            rig.api.phases(),
            rig.screen(job, false)
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
        if truth == Truth::Asking && !answered {
            // Let the question be drawn and read, then answer it.
            std::thread::sleep(Duration::from_millis(1500));
            record(
                &format!("{}_ask", agent.name()),
                &rig.screen(job, false),
                &rig.screen(job, true),
            );
            eprintln!("asking title: {}", rig.title(job));
            let yes = match agent {
                Agent::Claude => "1",
                Agent::Codex => "y",
            };
            rig.keys(job, &[yes]);
            rig.api.note(Phase::Answered);
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
    eprintln!("phases: {:?}", rig.api.phases());
    let events = common::Run::of(&mut rig.cmd(&["jobs", &job.to_string(), "--json"])).json();
    for e in events["events"].as_array().into_iter().flatten() {
        eprintln!("  {} {} {}", e["at"], e["kind"], e["message"]);
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
    let in_transition = samples.iter().filter(|s| !settled(s)).count();
    let wrong: Vec<&Sample> = samples
        .iter()
        .filter(settled)
        .filter(|s| !agrees(s.state, s.truth))
        .collect();
    eprintln!(
        "{}: {} samples in a transition (within {GRACE:?} of a change), {} of them wrong",
        agent.name(),
        in_transition,
        samples
            .iter()
            .filter(|s| !settled(s) && !agrees(s.state, s.truth))
            .count()
    );
    eprintln!(
        "{}: {} samples, {} wrong (first at {:?}): {:?}",
        agent.name(),
        samples.len(),
        wrong.len(),
        wrong.first().map(|s| s.at),
        wrong
    );
    assert_eq!(rig.state(job), StateName::Done, "samples: {samples:?}");
    let made = walk_for(&worktree, "made-by-agent.txt");
    assert!(made, "the approved command ran in the job's worktree");
    assert!(
        wrong.is_empty(),
        "{} of {} samples wrong",
        wrong.len(),
        samples.len()
    );
    let _ = &rig.agent_home;
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
