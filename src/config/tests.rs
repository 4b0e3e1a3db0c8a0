use std::path::Path;
use std::time::Duration;

use super::*;

fn load(text: &str) -> Result<Config, ConfigError> {
    Config::from_texts(Some(text), Path::new("/h/config.toml"))
}

fn error(text: &str) -> (Option<usize>, Option<String>, String) {
    match load(text).unwrap_err() {
        ConfigError::Invalid {
            line, key, message, ..
        } => (line, key, message),
        other => panic!("{other}"),
    }
}

#[test]
fn the_builtin_config_parses_with_every_profile() {
    let config = Config::builtin().unwrap();
    assert_eq!(config.scheduler.max_agents, 8);
    assert_eq!(config.scheduler.chain_window, Duration::from_secs(3600));
    assert_eq!(config.scheduler.active_interval, Duration::from_secs(2));
    assert_eq!(config.scheduler.idle_interval, Duration::from_secs(30));
    assert_eq!(config.scheduler.stall_after, Duration::from_secs(1800));
    assert_eq!(config.scheduler.max_attempts, 3);
    assert_eq!(config.tmux.history_limit, 10_000);
    assert_eq!(config.tmux.delay_enter, Duration::from_millis(150));
    for name in ["claude", "codex", "aider", "shell", "demo"] {
        assert!(config.agents.contains_key(name), "{name}");
    }
    assert!(config.priorities.incident > config.priorities.ticket);
    assert!(config.priorities.ticket > config.priorities.task);
    assert_eq!(config.routing.default_agent, "auto");
    config.compile_patterns().unwrap();
    // Loading checks only the operator's patterns: every built-in one
    // must be valid here.
    for (name, profile) in &config.agents {
        for (key, pattern) in profile.patterns() {
            pattern
                .check()
                .unwrap_or_else(|e| panic!("agents.{name}.{key}: {e}"));
        }
    }
}

#[test]
fn the_demo_profile_recognises_its_prompt() {
    let config = Config::builtin().unwrap();
    let demo = &config.agents["demo"];
    assert!(demo.ready.as_ref().unwrap().is_match("banner\ndemo> "));
    assert!(!demo.ready.as_ref().unwrap().is_match("⠿ working on it"));
    assert_eq!(demo.prompt, PromptDelivery::Argv);
}

#[test]
fn a_user_file_overlays_key_by_key() {
    let config = load(
        "[scheduler]\nmax_agents = 2\nchain_window = \"90m\"\n\n[routing]\naccounts = { \"123\" = \"api\" }\n\n[agents.mine]\ncommand = [\"my-agent\", \"{prompt}\"]\n",
    )
    .unwrap();
    assert_eq!(config.scheduler.max_agents, 2);
    assert_eq!(config.scheduler.chain_window, Duration::from_secs(5400));
    assert_eq!(
        config.scheduler.max_attempts, 3,
        "untouched keys keep the default"
    );
    assert_eq!(config.routing.accounts["123"], "api");
    assert!(config.agents.contains_key("mine") && config.agents.contains_key("claude"));
    assert_eq!(config.agents["mine"].prompt, PromptDelivery::Argv);
}

#[test]
fn an_empty_or_missing_file_is_the_default() {
    assert_eq!(load("").unwrap().scheduler.max_agents, 8);
    let missing = Config::load(Path::new("/nonexistent/switchboard/config.toml")).unwrap();
    assert_eq!(missing.scheduler.max_agents, 8);
}

#[test]
fn a_wrong_type_names_the_line_and_key() {
    let (line, key, message) = error("# mine\n[scheduler]\nmax_agents = \"many\"\n");
    assert_eq!(line, Some(3));
    assert_eq!(key.as_deref(), Some("scheduler.max_agents"));
    assert!(message.contains("invalid type"), "{message}");
    let text = load("[scheduler]\nmax_agents = \"many\"\n")
        .unwrap_err()
        .to_string();
    assert!(
        text.starts_with("/h/config.toml line 2, key scheduler.max_agents: "),
        "{text}"
    );
}

#[test]
fn a_bad_duration_names_the_line_and_key() {
    let (line, key, message) = error("[scheduler]\nmax_agents = 3\nstall_after = \"soon\"\n");
    assert_eq!(line, Some(3));
    assert_eq!(key.as_deref(), Some("scheduler.stall_after"));
    assert!(message.contains("\"soon\" is not a duration"), "{message}");
}

#[test]
fn an_unknown_key_names_the_line_and_key() {
    let (line, key, message) = error("\n[scheduler]\nmax_agent = 3\n");
    assert_eq!(line, Some(3));
    assert_eq!(key.as_deref(), Some("scheduler.max_agent"));
    assert!(message.contains("unknown field"), "{message}");
}

#[test]
fn a_syntax_error_names_the_line() {
    let (line, key, message) = error("[scheduler]\nmax_agents = 3\nchain_window = \n");
    assert_eq!(line, Some(3));
    assert_eq!(key, None);
    assert!(!message.is_empty());
}

#[test]
fn a_bad_pattern_names_the_profile_key() {
    let (line, key, message) = error("[agents.mine]\ncommand = [\"x\"]\nready = \"([unclosed\"\n");
    assert_eq!(line, Some(3));
    assert_eq!(key.as_deref(), Some("agents.mine.ready"));
    assert!(message.contains("not a regular expression"), "{message}");
}

#[test]
fn rules_beyond_types_name_their_key() {
    let (line, key, _) = error("[scheduler]\nmax_agents = 0\n");
    assert_eq!(
        (line, key.as_deref()),
        (Some(2), Some("scheduler.max_agents"))
    );
    let (line, key, message) = error("[routing]\ndefault_agent = \"nobody\"\n");
    assert_eq!(
        (line, key.as_deref()),
        (Some(2), Some("routing.default_agent"))
    );
    assert!(message.contains("claude"), "{message}");
    let (_, key, _) = error("[agents.mine]\ncommand = []\n");
    assert_eq!(key.as_deref(), Some("agents.mine.command"));
}

#[test]
fn an_unknown_table_or_top_level_key_is_named_once() {
    let (line, key, _) = error("max_agents = 3\n");
    assert_eq!((line, key.as_deref()), (Some(1), Some("max_agents")));
    let (line, key, _) = error("[schedular]\nmax_agents = 3\n");
    assert_eq!((line, key.as_deref()), (Some(1), Some("schedular")));
}

#[test]
fn keys_are_configurable_and_faults_name_the_line() {
    let config = load("[keys]\ndispatch = \"ctrl-n\"\nquit = [\"q\", \"f10\"]\n").unwrap();
    assert_eq!(config.keys.dispatch.0[0].label(), "C-n");
    assert_eq!(config.keys.quit.0.len(), 2);
    assert_eq!(
        config.keys.kill.0[0].label(),
        "K",
        "the rest keep their defaults"
    );
    let (line, key, message) = error("[keys]\n\ndispatch = \"hyper-d\"\n");
    assert_eq!((line, key.as_deref()), (Some(3), Some("keys.dispatch")));
    assert!(message.contains("unknown key \"hyper-d\""), "{message}");
    let (line, key, message) = error("[keys]\nnudge = \"d\"\n");
    assert_eq!((line, key.as_deref()), (Some(2), Some("keys.nudge")));
    assert!(message.contains("also bound to dispatch"), "{message}");
    // The binding the operator wrote is named, not the built-in default it
    // collides with; of two of theirs, the later line.
    let (line, key, _) = error("[scheduler]\nmax_agents = 3\n\n[keys]\ndispatch = \"n\"\n");
    assert_eq!((line, key.as_deref()), (Some(5), Some("keys.dispatch")));
    let (line, key, _) = error("[keys]\nnudge = \"x\"\n\n\ndispatch = \"x\"\n");
    assert_eq!((line, key.as_deref()), (Some(5), Some("keys.dispatch")));
    let (_, key, _) = error("[notify]\ndesktop = \"smoke-signal\"\n");
    assert_eq!(key.as_deref(), Some("notify.desktop"));
}

#[test]
fn hosts_are_read_and_checked_naming_the_key() {
    let config = load(
        "[hosts.build1]\naddress = \"ops@build1.internal:2222\"\nmax_agents = 8\nidentity = \"~/.ssh/sb\"\n",
    )
    .unwrap();
    let hosts = config.hosts();
    assert_eq!(hosts.len(), 1);
    assert_eq!(hosts[0].name.as_str(), "build1");
    assert_eq!(hosts[0].address.to_string(), "ops@build1.internal:2222");
    assert_eq!(hosts[0].max_agents, Some(8));
    assert!(!hosts[0].accept_new_key);
    assert!(Config::builtin().unwrap().hosts().is_empty());

    let (line, key, message) = error("\n[hosts.b]\naddress = \"-oProxyCommand=x\"\n");
    assert_eq!(line, Some(3));
    assert_eq!(key.as_deref(), Some("hosts.b.address"));
    assert!(message.contains("option"), "{message}");

    let (line, key, message) = error("[hosts.local]\naddress = \"x\"\n");
    assert_eq!((line, key.as_deref()), (Some(1), Some("hosts.local")));
    assert!(message.contains("reserved"), "{message}");

    let (line, key, _) = error("[hosts.b]\naddress = \"x\"\nmax_agents = 0\n");
    assert_eq!(
        (line, key.as_deref()),
        (Some(3), Some("hosts.b.max_agents"))
    );

    let (_, key, message) = error("[hosts.b]\naddress = \"x\"\nport = 22\n");
    assert_eq!(key.as_deref(), Some("hosts.b.port"));
    assert!(message.contains("unknown field"), "{message}");
}
