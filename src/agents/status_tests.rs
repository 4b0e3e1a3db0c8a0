use super::*;
use crate::config::Config;

fn screen(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/screens/{name}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_profile_reads_its_recorded_screens() {
    let config = Config::builtin().unwrap();
    // claude_*, codex_* and aider_* were recorded from the real programs
    // by tests/record_screens.sh (Aider 0.86.2 with its pretty output);
    // the others are written by hand.
    let cases = [
        ("claude", "claude_busy", AgentStatus::Busy),
        ("claude", "claude_busy_custom_statusline", AgentStatus::Busy),
        ("claude", "claude_ready", AgentStatus::Idle),
        ("claude", "claude_ask", AgentStatus::Asking),
        ("codex", "codex_ready", AgentStatus::Idle),
        ("codex", "codex_ask", AgentStatus::Asking),
        ("claude", "claude_failed", AgentStatus::Errored),
        ("codex", "codex_failed", AgentStatus::Errored),
        ("aider", "aider_busy", AgentStatus::Busy),
        ("aider", "aider_ready", AgentStatus::Idle),
        ("aider", "aider_ask", AgentStatus::Asking),
        ("demo", "demo_busy", AgentStatus::Busy),
        ("demo", "demo_ready", AgentStatus::Idle),
        ("demo", "demo_ask", AgentStatus::Asking),
        ("shell", "shell_ready", AgentStatus::Idle),
    ];
    for (profile, name, expected) in cases {
        let got = screen_status(&screen(name), &config.agents[profile]);
        assert_eq!(got, Some(expected), "{profile} on {name}");
    }
}

#[test]
fn codex_at_work_shows_nothing_on_screen_that_says_idle() {
    // While Codex streams text its screen has no busy line; only its
    // title says it works. Its composer (`› Ask Codex to do anything`) is
    // there all the time and must not read as ready.
    let config = Config::builtin().unwrap();
    let got = screen_status(&screen("codex_busy"), &config.agents["codex"]);
    assert_ne!(got, Some(AgentStatus::Idle));
}

#[test]
fn an_answered_question_in_the_scrollback_is_not_asking() {
    let config = Config::builtin().unwrap();
    let answered = format!(
        "{}y\n⠿ working: step 1/5: reading the code\n",
        screen("demo_ask")
    );
    assert_eq!(
        screen_status(&answered, &config.agents["demo"]),
        Some(AgentStatus::Busy)
    );
    let aider = format!("{}Yes\nApplied edit to src/a.ts\n> \n", screen("aider_ask"));
    assert_eq!(
        screen_status(&aider, &config.agents["aider"]),
        Some(AgentStatus::Idle)
    );
    // Claude: a question answered long ago, far above its prompt.
    let old = format!(
        "{}{}{}",
        screen("claude_ask"),
        "● more work\n".repeat(30),
        screen("claude_ready")
    );
    assert_eq!(
        screen_status(&old, &config.agents["claude"]),
        Some(AgentStatus::Idle)
    );
}

#[test]
fn last_lines_skips_the_blank_rows_under_the_output() {
    assert_eq!(last_lines("a\nb\nc\n\n\n", 2), "b\nc");
    assert_eq!(
        last_lines("a\nb\n\n\nc\n", 2),
        "b\n\n\nc",
        "blank rows do not count"
    );
    assert_eq!(last_lines("a\ndemo> \n   \n\n", 1), "demo> ");
    assert_eq!(last_lines("a\nb", 5), "a\nb");
    assert_eq!(last_lines("", 3), "");
}

fn session(dead: bool, status: Option<i32>, title: &str) -> SessionInfo {
    SessionInfo {
        name: "sb-1-1".into(),
        pane: "%0".into(),
        pid: Some(1),
        dead,
        exit_status: status,
        signal: None,
        title: title.into(),
        reports: Vec::new(),
        activity: None,
    }
}

#[test]
fn the_strongest_signal_wins() {
    let config = Config::builtin().unwrap();
    let demo = &config.agents["demo"];
    let busy = screen("demo_busy");
    let live = session(false, None, "");
    let base = Signals {
        report: None,
        session: Some(&live),
        screen: &busy,
        quiet_for: Duration::ZERO,
        has_output: true,
        rules: None,
    };
    let idle = Duration::from_secs(30);
    let r = read_status(&base, demo, idle);
    assert_eq!((r.status, r.signal), (AgentStatus::Busy, Signal::Screen));
    assert!(r.detail.contains("working"), "{}", r.detail);
    let reported = Signals {
        report: Some(CurrentReport {
            status: ReportStatus::Waiting,
            signal: Signal::Hook,
            what: "asks to use Bash",
        }),
        ..base
    };
    let r = read_status(&reported, demo, idle);
    assert_eq!((r.status, r.signal), (AgentStatus::Asking, Signal::Hook));
    let dead = session(true, Some(3), "");
    let exited = Signals {
        session: Some(&dead),
        ..reported
    };
    let r = read_status(&exited, demo, idle);
    assert_eq!(
        (r.status, r.signal),
        (AgentStatus::Exited(Some(3)), Signal::Exit)
    );
    let gone = Signals {
        session: None,
        ..base
    };
    assert_eq!(read_status(&gone, demo, idle).status, AgentStatus::Gone);
}

#[test]
fn the_title_says_busy_and_asking() {
    let config = Config::builtin().unwrap();
    let codex = &config.agents["codex"];
    let ready = screen("codex_ready");
    let spinning = session(false, None, "⠙ create the file | api");
    let s = Signals {
        report: None,
        session: Some(&spinning),
        screen: &ready,
        quiet_for: Duration::ZERO,
        has_output: true,
        rules: None,
    };
    let r = read_status(&s, codex, Duration::from_secs(5));
    assert_eq!((r.status, r.signal), (AgentStatus::Busy, Signal::Title));
    let asking = session(false, None, "[ ! ] Action Required | create the file | api");
    let r = read_status(
        &Signals {
            session: Some(&asking),
            ..s
        },
        codex,
        Duration::from_secs(5),
    );
    assert_eq!((r.status, r.signal), (AgentStatus::Asking, Signal::Title));
    let plain = session(false, None, "create the file | api");
    let r = read_status(
        &Signals {
            session: Some(&plain),
            ..s
        },
        codex,
        Duration::from_secs(5),
    );
    assert_eq!((r.status, r.signal), (AgentStatus::Idle, Signal::Screen));
}

#[test]
fn only_work_shows_the_task_was_taken_up() {
    let r = |status, signal| Reading::new(status, signal, "");
    assert!(r(AgentStatus::Busy, Signal::Title).takes_up_task());
    assert!(r(AgentStatus::Busy, Signal::Hook).takes_up_task());
    assert!(r(AgentStatus::Idle, Signal::Hook).takes_up_task());
    assert!(!r(AgentStatus::Busy, Signal::Quiet).takes_up_task());
    assert!(!r(AgentStatus::Idle, Signal::Screen).takes_up_task());
    // A question about the task shows it was taken up (Aider shows no
    // work while a fast model streams, then asks to run a command); the
    // 0.4 s hold on a turn's end still covers a start-up question
    // answered before the agent submits its task.
    assert!(r(AgentStatus::Asking, Signal::Screen).takes_up_task());
    assert!(r(AgentStatus::Asking, Signal::Title).takes_up_task());
    assert!(!r(AgentStatus::Asking, Signal::Quiet).takes_up_task());
}

#[test]
fn without_patterns_quiet_decides() {
    let config = Config::builtin().unwrap();
    let plain = AgentProfile {
        ready: None,
        busy: None,
        ask: None,
        ..config.agents["demo"].clone()
    };
    let live = session(false, None, "");
    let s = Signals {
        report: None,
        session: Some(&live),
        screen: "some output",
        quiet_for: Duration::from_secs(5),
        has_output: true,
        rules: None,
    };
    let idle = Duration::from_secs(30);
    assert_eq!(read_status(&s, &plain, idle).status, AgentStatus::Busy);
    let quiet = Signals {
        quiet_for: Duration::from_secs(31),
        ..s
    };
    let r = read_status(&quiet, &plain, idle);
    assert_eq!((r.status, r.signal), (AgentStatus::Idle, Signal::Quiet));
    let fresh = Signals {
        has_output: false,
        rules: None,
        ..s
    };
    assert_eq!(
        read_status(&fresh, &plain, idle).status,
        AgentStatus::Starting
    );
}

#[test]
fn a_status_note_reads_back() {
    let note = status_note(
        AgentStatus::Exited(Some(2)),
        Signal::Exit,
        "the process exited 2: at x",
    );
    assert_eq!(
        parse_status_note(&note),
        Some((
            "exited 2".to_string(),
            Signal::Exit,
            "the process exited 2: at x".to_string()
        ))
    );
    assert_eq!(parse_status_note("busy by magic: x"), None);
}

#[test]
fn a_reported_question_is_over_once_the_title_shows_work() {
    let config = Config::builtin().unwrap();
    let claude = &config.agents["claude"];
    let ask = screen("claude_ask");
    let asking = session(false, None, "✳ Claude Code");
    let s = Signals {
        report: Some(CurrentReport {
            status: ReportStatus::Waiting,
            signal: Signal::Hook,
            what: "asks to use Bash",
        }),
        session: Some(&asking),
        screen: &ask,
        quiet_for: Duration::ZERO,
        has_output: true,
        rules: None,
    };
    let r = read_status(&s, claude, Duration::from_secs(5));
    assert_eq!((r.status, r.signal), (AgentStatus::Asking, Signal::Hook));
    let working = session(false, None, "⠂ Claude Code");
    let busy = screen("claude_busy");
    let r = read_status(
        &Signals {
            session: Some(&working),
            screen: &busy,
            ..s
        },
        claude,
        Duration::from_secs(5),
    );
    assert_eq!((r.status, r.signal), (AgentStatus::Busy, Signal::Title));
}

#[test]
fn a_turn_that_ended_on_an_api_error_is_read_as_errored() {
    // Claude Code runs no Stop hook after an API error: the hook that said
    // the turn began stays the latest report, and must not keep the job
    // busy for ever.
    let config = Config::builtin().unwrap();
    let claude = &config.agents["claude"];
    let idle_title = session(false, None, "✳ Claude Code");
    let screen_text = screen("claude_failed");
    let began = CurrentReport {
        status: ReportStatus::Working,
        signal: Signal::Hook,
        what: "took the prompt",
    };
    let signals = Signals {
        report: Some(began),
        session: Some(&idle_title),
        screen: &screen_text,
        quiet_for: Duration::ZERO,
        has_output: true,
        rules: None,
    };
    let got = read_status(&signals, claude, Duration::from_secs(5));
    assert_eq!(
        (got.status, got.signal),
        (AgentStatus::Errored, Signal::Screen)
    );
    assert!(got.detail.contains("API Error: 500"), "{}", got.detail);
    // Claude's StopFailure hook says it first.
    let failed = CurrentReport {
        status: ReportStatus::Failed,
        signal: Signal::Hook,
        what: "the turn ended on an error: server_error",
    };
    let signals = Signals {
        report: Some(failed),
        ..signals
    };
    let got = read_status(&signals, claude, Duration::from_secs(5));
    assert_eq!(
        (got.status, got.signal),
        (AgentStatus::Errored, Signal::Hook)
    );
    // While it retries, its title spins: it works.
    let spinning = session(false, None, "⠂ Claude Code");
    let signals = Signals {
        report: Some(began),
        session: Some(&spinning),
        ..signals
    };
    let got = read_status(&signals, claude, Duration::from_secs(5));
    assert_eq!(got.status, AgentStatus::Busy);
    // An operator's Esc in Codex is no API error.
    let codex = &config.agents["codex"];
    let interrupted = screen("codex_ready").replace(
        "Worked for",
        "■ Conversation interrupted - tell the model what to do differently.\n\nWorked for",
    );
    assert_ne!(
        screen_status(&interrupted, codex),
        Some(AgentStatus::Errored)
    );
}

#[test]
fn a_question_is_what_the_agent_asked_without_the_signal_s_words() {
    let config = Config::builtin().unwrap();
    let demo = &config.agents["demo"];
    let live = session(false, None, "");
    let ask = screen("demo_ask");
    let on_screen = Signals {
        report: None,
        session: Some(&live),
        screen: &ask,
        quiet_for: Duration::ZERO,
        has_output: true,
        rules: None,
    };
    let idle = Duration::from_secs(30);
    let r = read_status(&on_screen, demo, idle);
    assert_eq!((r.status, r.signal), (AgentStatus::Asking, Signal::Screen));
    // The detail keeps the pattern for `explain`; the question is the line.
    assert!(r.detail.starts_with('/'), "{}", r.detail);
    assert_eq!(r.question(), "Proceed with changes to DEMO.md? [y/n]");
    let reported = Signals {
        report: Some(CurrentReport {
            status: ReportStatus::Waiting,
            signal: Signal::Hook,
            what: "asks to use Bash",
        }),
        ..on_screen
    };
    let r = read_status(&reported, demo, idle);
    assert_eq!(r.detail, "waiting: asks to use Bash");
    assert_eq!(r.question(), "asks to use Bash");
}

#[test]
fn a_screen_that_keeps_changing_is_not_said_to_be_quiet() {
    let config = Config::builtin().unwrap();
    let shell = &config.agents["shell"];
    let live = session(false, None, "");
    let moving = Signals {
        report: None,
        session: Some(&live),
        screen: "compiling 3 of 9",
        quiet_for: Duration::from_millis(400),
        has_output: true,
        rules: None,
    };
    let r = read_status(&moving, shell, Duration::from_secs(30));
    assert_eq!((r.status, r.signal), (AgentStatus::Busy, Signal::Quiet));
    assert_eq!(r.detail, "the screen changed 0.4 s ago");
    let still = Signals {
        quiet_for: Duration::from_secs(31),
        ..moving
    };
    let r = read_status(&still, shell, Duration::from_secs(30));
    assert_eq!(r.status, AgentStatus::Idle);
    assert_eq!(r.detail, "the screen has not changed for 31.0 s");
}
