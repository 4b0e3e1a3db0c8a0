//! Starting an agent for an attempt: its worktree, its argv from the
//! profile, its session.

use std::path::Path;

use crate::config::{AgentProfile, Config, PromptDelivery};
use crate::model::{Job, Project};
use crate::runtime::SpawnSpec;

/// The session of attempt `attempt` of job `job`: derived, so that an
/// attempt journaled before its session existed is never started twice.
pub fn session_name(job: i64, attempt: u32) -> String {
    format!("sb-{job}-{attempt}")
}

/// The profile a job runs with: its own, its project's, the config's
/// default; "auto" is the first of claude, codex and aider installed, else
/// the demo agent.
pub fn profile_name(job: &Job, project: &Project, config: &Config) -> String {
    let chosen = job
        .agent
        .clone()
        .or_else(|| project.agent.clone())
        .unwrap_or_else(|| config.routing.default_agent.clone());
    if chosen != "auto" {
        return chosen;
    }
    ["claude", "codex", "aider"]
        .into_iter()
        .find(|p| on_path(p))
        .unwrap_or("demo")
        .to_string()
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// The argv of an agent: `{prompt}` becomes the task text as one whole
/// element (argv delivery), `{switchboard}` this binary.
pub fn argv(profile: &AgentProfile, prompt: &str, me: &Path) -> Vec<String> {
    profile
        .command
        .iter()
        .filter_map(|part| match part.as_str() {
            "{prompt}" if profile.prompt == PromptDelivery::Argv => Some(prompt.to_string()),
            "{prompt}" => None,
            "{switchboard}" => Some(me.to_string_lossy().into_owned()),
            other => Some(other.to_string()),
        })
        .collect()
}

/// How to start the agent of one attempt.
pub fn spawn_spec(name: String, cwd: &Path, argv: Vec<String>, home: &Path, job: i64) -> SpawnSpec {
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
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_is_one_whole_argument() {
        let config = Config::builtin().unwrap();
        let argv = argv(
            &config.agents["demo"],
            "fix it; rm -rf / $(x)",
            Path::new("/bin/sb"),
        );
        assert_eq!(argv, ["/bin/sb", "demo-agent", "fix it; rm -rf / $(x)"]);
        let pasted = super::argv(&config.agents["aider"], "fix it", Path::new("/bin/sb"));
        assert_eq!(pasted, ["aider"], "pasted prompts are not in argv");
        assert_eq!(session_name(12, 3), "sb-12-3");
    }
}
