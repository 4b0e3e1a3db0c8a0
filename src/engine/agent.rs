//! Starting an agent for an attempt: its worktree, its argv from the
//! profile, its session.

use std::borrow::Cow;
use std::path::Path;

use crate::config::{AgentProfile, Config, PromptDelivery};
use crate::model::{Job, Project};
use crate::runtime::SpawnSpec;
use crate::workspace::Place;

/// The session of attempt `attempt` of job `job`: derived, so that an
/// attempt journaled before its session existed is never started twice.
pub fn session_name(job: i64, attempt: u32) -> String {
    format!("sb-{job}-{attempt}")
}

/// What `auto` picks from, in order.
const AUTO_ORDER: [&str; 3] = ["claude", "codex", "aider"];

/// How a job whose `auto` found no agent installed is named to the
/// operator (by `dispatch` and in the room's row): it runs the demo agent.
pub const DEMO_FALLBACK: &str = "demo (no agent installed)";

/// The profile a job asks for: its own, its project's, the config's
/// default (possibly "auto").
fn chosen(job_agent: Option<&str>, project: &Project, config: &Config) -> String {
    job_agent
        .map(str::to_string)
        .or_else(|| project.agent.clone())
        .unwrap_or_else(|| config.routing.default_agent.clone())
}

/// The profile a job runs with: its own, its project's, the config's
/// default; "auto" is the first of claude, codex and aider installed, else
/// the demo agent.
pub fn profile_name(job: &Job, project: &Project, config: &Config) -> String {
    resolved_profile(job.agent.as_deref(), project, config)
}

/// [`profile_name`] for a job that asks for `job_agent`.
pub fn resolved_profile(job_agent: Option<&str>, project: &Project, config: &Config) -> String {
    let chosen = chosen(job_agent, project, config);
    if chosen != "auto" {
        return chosen;
    }
    AUTO_ORDER
        .into_iter()
        .find(|p| on_path(p))
        .unwrap_or("demo")
        .to_string()
}

/// The profile a job asking for `job_agent` runs with, as the operator is
/// told it ([`DEMO_FALLBACK`] where `auto` finds no agent), and whether
/// that is the demo agent only because none is installed: from one look
/// along PATH (`dispatch` asked [`falls_back_to_demo`], then
/// [`resolved_profile`], each searching PATH for the same names).
pub fn runs_as(job_agent: Option<&str>, project: &Project, config: &Config) -> (String, bool) {
    runs_as_picked(job_agent, project, config, auto_pick)
}

/// [`runs_as`] with `pick` saying what `auto` finds (asked only for
/// `auto`).
pub fn runs_as_picked(
    job_agent: Option<&str>,
    project: &Project,
    config: &Config,
    pick: impl FnOnce() -> Option<&'static str>,
) -> (String, bool) {
    let chosen = chosen(job_agent, project, config);
    if chosen != "auto" {
        return (chosen, false);
    }
    match pick() {
        Some(program) => (program.to_string(), false),
        None => (DEMO_FALLBACK.to_string(), true),
    }
}

/// What `auto` finds now: the first of claude, codex, aider on PATH.
fn auto_pick() -> Option<&'static str> {
    auto_pick_along(&std::env::var_os("PATH").unwrap_or_default())
}

/// What `auto` finds along the directories of `path`.
fn auto_pick_along(path: &std::ffi::OsStr) -> Option<&'static str> {
    AUTO_ORDER
        .into_iter()
        .find(|p| find_along(path, p).is_some())
}

/// What `auto` found, remembered while PATH and its directories stay as
/// they were: an agent installed or removed adds or takes an entry in a
/// directory, which changes that directory's time. One `stat` a
/// directory instead of one a directory for each of the three names (the
/// engine's door asks for every dispatch).
#[derive(Debug, Default)]
pub struct AutoMemo {
    seen: Option<(std::ffi::OsString, Vec<Option<std::time::SystemTime>>)>,
    found: Option<&'static str>,
}

impl AutoMemo {
    /// What `auto` finds, looked for again only when PATH or one of its
    /// directories changed since the last look.
    pub fn pick(&mut self) -> Option<&'static str> {
        self.pick_along(std::env::var_os("PATH").unwrap_or_default())
    }

    /// [`AutoMemo::pick`] along `path`.
    fn pick_along(&mut self, path: std::ffi::OsString) -> Option<&'static str> {
        let times: Vec<_> = std::env::split_paths(&path)
            .map(|dir| std::fs::metadata(dir).and_then(|m| m.modified()).ok())
            .collect();
        if self.seen.as_ref() != Some(&(path.clone(), times.clone())) {
            // Stamped before the look: a change during it is seen next time.
            self.found = auto_pick_along(&path);
            self.seen = Some((path, times));
        }
        self.found
    }
}

/// Whether a job asking for `job_agent` in `project` gets the demo agent
/// only because `auto` found none of claude, codex, aider installed.
pub fn falls_back_to_demo(job_agent: Option<&str>, project: &Project, config: &Config) -> bool {
    asks_for_auto(job_agent, project, config) && no_agent_installed()
}

/// Whether a job asking for `job_agent` in `project` leaves the choice
/// to `auto`.
pub fn asks_for_auto(job_agent: Option<&str>, project: &Project, config: &Config) -> bool {
    chosen(job_agent, project, config) == "auto"
}

/// Whether none of the agents `auto` picks from is on PATH.
pub fn no_agent_installed() -> bool {
    !AUTO_ORDER.into_iter().any(on_path)
}

fn on_path(program: &str) -> bool {
    resolve_program(program).is_some()
}

/// The longest prompt given to an agent as an argv element. tmux carries a
/// new session's whole command (argv, environment, directory) to its
/// server in one message of at most 16 KiB, so a longer prompt would fail
/// every attempt with `command too long`; it goes in [`PROMPT_FILE`]
/// instead, and the argv names the file.
pub const MAX_ARGV_PROMPT_BYTES: usize = 8 * 1024;

/// Where a prompt too long for argv is written, in the agent's worktree.
/// Its directory ignores itself (`.gitignore` of `*`), so the file is
/// never committed on the job's branch.
pub const PROMPT_FILE: &str = ".switchboard/task.md";

/// The argv of an agent working in `worktree`: `{prompt}` becomes the task
/// text as one whole element (argv delivery), or, past
/// [`MAX_ARGV_PROMPT_BYTES`], a sentence naming [`PROMPT_FILE`], where the
/// whole text is written; `{switchboard}` becomes this binary, and `{job}`
/// inside any element the job's id (digits only, so it can sit inside a
/// value the agent parses, such as Codex's `-c notify=[...]`).
pub fn argv(
    profile: &AgentProfile,
    prompt: &str,
    me: &Path,
    worktree: &Path,
    job: i64,
) -> std::io::Result<Vec<String>> {
    argv_on(&Place::Local, profile, prompt, me, worktree, job)
}

/// [`argv`] for an agent at `place` (a long prompt's file is written
/// there).
pub fn argv_on(
    place: &Place,
    profile: &AgentProfile,
    prompt: &str,
    me: &Path,
    worktree: &Path,
    job: i64,
) -> std::io::Result<Vec<String>> {
    let by_argv =
        profile.prompt == PromptDelivery::Argv && profile.command.iter().any(|p| p == "{prompt}");
    let prompt = if by_argv && prompt.len() > MAX_ARGV_PROMPT_BYTES {
        write_prompt_file(place, worktree, prompt)?;
        Cow::Owned(format!(
            "Your task is in the file {PROMPT_FILE} ({} bytes, too long for a command line). \
             Read all of it, then do what it says.",
            prompt.len()
        ))
    } else {
        Cow::Borrowed(prompt)
    };
    Ok(fill(&profile.command, by_argv, &prompt, me, job))
}

/// The argv that brings a dead agent back into its own conversation, when
/// the profile says how; `{prompt}` in it becomes `prompt` (what to tell
/// the agent on its return), as one whole element.
pub fn resume_argv(
    profile: &AgentProfile,
    prompt: &str,
    me: &Path,
    job: i64,
) -> Option<Vec<String>> {
    let resume = profile.resume.as_ref()?;
    Some(fill(resume, true, prompt, me, job))
}

fn fill(parts: &[String], by_argv: bool, prompt: &str, me: &Path, job: i64) -> Vec<String> {
    parts
        .iter()
        .filter_map(|part| match part.as_str() {
            "{prompt}" if by_argv => Some(prompt.to_string()),
            "{prompt}" => None,
            "{switchboard}" => Some(me.to_string_lossy().into_owned()),
            other => Some(other.replace("{job}", &job.to_string())),
        })
        .collect()
}

/// How to install the program an agent profile runs, for messages.
pub fn install_hint(program: &str) -> &'static str {
    match program {
        "claude" => "install with `npm install -g @anthropic-ai/claude-code`",
        "codex" => "install with `npm install -g @openai/codex`",
        "aider" => "install with `python -m pip install aider-install && aider-install`",
        _ => "install it or fix the profile's `command`",
    }
}

/// Whether a profile's program is there to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// The profile runs switchboard itself (the demo agent).
    BuiltIn,
    /// Found at this path.
    At(std::path::PathBuf),
    /// This program is not on PATH.
    Missing(String),
}

/// Where a profile's program is, or that it is missing (an empty command
/// is missing too).
pub fn installed(profile: &AgentProfile) -> Installed {
    let Some(program) = profile.command.first() else {
        return Installed::Missing(String::new());
    };
    if program == "{switchboard}" {
        return Installed::BuiltIn;
    }
    match resolve_program(program) {
        Some(path) => Installed::At(path),
        None => Installed::Missing(program.clone()),
    }
}

/// Refuses a profile whose program is not installed, with the reason an
/// operator can act on ("claude: not found on PATH; install with …").
pub fn check_installed(profile: &AgentProfile) -> anyhow::Result<()> {
    match installed(profile) {
        Installed::Missing(program) if program.is_empty() => {
            anyhow::bail!("the agent profile's command is empty")
        }
        Installed::Missing(program) => {
            anyhow::bail!("{program}: not found on PATH; {}", install_hint(&program))
        }
        _ => Ok(()),
    }
}

/// Where a profile's program is found on PATH (a path with a slash is
/// taken as it is), or `None` when it is not installed.
pub fn resolve_program(program: &str) -> Option<std::path::PathBuf> {
    if program.contains('/') {
        let p = std::path::PathBuf::from(program);
        return p.is_file().then_some(p);
    }
    find_along(&std::env::var_os("PATH")?, program)
}

/// Where `program` is in the directories of `path`.
fn find_along(path: &std::ffi::OsStr, program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// Writes `prompt` to [`PROMPT_FILE`] in `worktree`, in a directory that
/// git ignores.
fn write_prompt_file(place: &Place, worktree: &Path, prompt: &str) -> std::io::Result<()> {
    if place.is_local() {
        crate::workspace::private_dir(worktree)?;
        return std::fs::write(worktree.join(PROMPT_FILE), prompt);
    }
    let io = |e: crate::workspace::GitError| std::io::Error::other(e.to_string());
    crate::workspace::private_dir_on(place, worktree).map_err(io)?;
    place
        .write(&worktree.join(PROMPT_FILE), prompt.as_bytes())
        .map_err(io)
}

/// How to start the agent of one attempt.
pub fn spawn_spec(
    name: String,
    cwd: &Path,
    argv: Vec<String>,
    home: &Path,
    job: i64,
    attempt: u32,
) -> SpawnSpec {
    SpawnSpec {
        name,
        cwd: cwd.to_path_buf(),
        argv,
        env: vec![
            (
                "SWITCHBOARD_HOME".into(),
                home.to_string_lossy().into_owned(),
            ),
            ("SWITCHBOARD_JOB".into(), job.to_string()),
            // With the two above, how the attempt's processes are found
            // when it ends (runtime::procs), daemons included.
            ("SWITCHBOARD_ATTEMPT".into(), attempt.to_string()),
        ],
    }
}

/// [`spawn_spec`] for an agent of `runtime`: on a remote host the agent
/// has no home to write to and reports through its pane instead
/// ([`crate::remote::report`]).
pub(super) fn spawn_spec_for(
    runtime: &super::places::Runtime,
    name: String,
    cwd: &Path,
    argv: Vec<String>,
    home: &Path,
    job: i64,
    attempt: u32,
) -> SpawnSpec {
    let mut spec = spawn_spec(name, cwd, argv, home, job, attempt);
    if runtime.is_remote() {
        spec.env.retain(|(k, _)| k != "SWITCHBOARD_HOME");
        spec.env.push((
            crate::remote::report::MODE_VAR.into(),
            crate::remote::report::PANE.into(),
        ));
        // What the attempt leaves behind on the host is found by it.
        if let Some(remote) = runtime.server.remote() {
            spec.env.push((
                crate::remote::commands::PLACE_VAR.into(),
                remote.place().to_string(),
            ));
        }
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> Project {
        Project {
            name: "app".into(),
            path: "/tmp/app".into(),
            base_branch: "main".into(),
            agent: None,
            max_agents: 1,
            host: crate::model::HostName::local(),
            created_at: crate::model::Timestamp::from_millis(0),
        }
    }

    /// What the operator is told and whether it falls back come from one
    /// look for `auto` (before, `dispatch` and the engine's door searched
    /// PATH twice for a task: once to ask whether it falls back, once for
    /// the name), and none for a named profile.
    #[test]
    fn auto_is_resolved_from_one_look() {
        let config = Config::builtin().unwrap();
        let project = project();
        let mut looks = 0;
        let mut runs = |agent: Option<&str>, found: Option<&'static str>| {
            runs_as_picked(agent, &project, &config, || {
                looks += 1;
                found
            })
        };
        assert_eq!(runs(None, Some("codex")), ("codex".to_string(), false));
        assert_eq!(runs(None, None), (DEMO_FALLBACK.to_string(), true));
        assert_eq!(runs(Some("fast"), None), ("fast".to_string(), false));
        assert_eq!(looks, 2);
    }

    /// The door remembers what `auto` found until a directory on PATH
    /// changes (an agent installed there adds an entry, which changes the
    /// directory's time), then looks again.
    #[test]
    fn what_auto_found_is_remembered_until_a_directory_on_path_changes() {
        let dir = tempfile::tempdir().expect("dir");
        let path = std::env::join_paths([dir.path()]).expect("path");
        let set_time = |secs| {
            std::fs::File::open(dir.path())
                .and_then(|d| {
                    d.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
                })
                .expect("set the directory's time");
        };
        set_time(1_000);
        let mut memo = AutoMemo::default();
        assert_eq!(memo.pick_along(path.clone()), None);
        // A program appears while the directory's time stays: remembered,
        // not looked for.
        std::fs::write(dir.path().join("codex"), "").expect("write");
        set_time(1_000);
        assert_eq!(memo.pick_along(path.clone()), None, "remembered");
        // The directory's time changes: looked for again.
        set_time(2_000);
        assert_eq!(memo.pick_along(path.clone()), Some("codex"));
        // PATH itself changes: looked for again.
        assert_eq!(memo.pick_along(std::ffi::OsString::new()), None);
    }

    #[test]
    fn the_prompt_is_one_whole_argument() {
        let config = Config::builtin().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let me = Path::new("/bin/sb");
        let argv = argv(
            &config.agents["demo"],
            "fix it; rm -rf / $(x) {job}",
            me,
            dir.path(),
            7,
        )
        .unwrap();
        assert_eq!(
            argv,
            ["/bin/sb", "demo-agent", "fix it; rm -rf / $(x) {job}"]
        );
        let codex = super::argv(&config.agents["codex"], "fix it", me, dir.path(), 12).unwrap();
        assert_eq!(
            codex,
            [
                "codex",
                "-c",
                r#"notify=["switchboard", "report", "--job", "12"]"#,
                "fix it"
            ]
        );
        let pasted = super::argv(&config.agents["aider"], "fix it", me, dir.path(), 7).unwrap();
        assert_eq!(pasted, ["aider"], "pasted prompts are not in argv");
        assert_eq!(session_name(12, 3), "sb-12-3");
        assert!(!dir.path().join(PROMPT_FILE).exists());
    }

    #[test]
    fn a_prompt_too_long_for_argv_goes_to_a_file_the_argv_names() {
        let config = Config::builtin().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let me = Path::new("/bin/sb");
        let at_limit = "x".repeat(MAX_ARGV_PROMPT_BYTES);
        let argv = argv(&config.agents["demo"], &at_limit, me, dir.path(), 7).unwrap();
        assert_eq!(argv[2], at_limit, "at the limit it is still argv");
        let long = "y".repeat(MAX_ARGV_PROMPT_BYTES + 1);
        let argv = super::argv(&config.agents["demo"], &long, me, dir.path(), 7).unwrap();
        assert!(
            argv[2].len() < 200 && argv[2].contains(PROMPT_FILE),
            "{argv:?}"
        );
        let written = std::fs::read_to_string(dir.path().join(PROMPT_FILE)).unwrap();
        assert_eq!(written, long);
        let ignore = dir.path().join(".switchboard/.gitignore");
        assert_eq!(std::fs::read_to_string(ignore).unwrap(), "*\n");
        // Pasted prompts are not limited by argv.
        let pasted = super::argv(&config.agents["aider"], &long, me, dir.path(), 7).unwrap();
        assert_eq!(pasted, ["aider"]);
    }
}
