//! The control room as the real binary in a real terminal (a tmux pane on
//! a test server): it runs the engine in-process, a second room on the same
//! home is a viewer, and `q` quits leaving the agents running.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::Sandbox;
use common::terminal::Terminal;

/// Ends the agents' own tmux server of a home, however the test ends.
struct AgentsServer(PathBuf);

impl Drop for AgentsServer {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(self.0.join("tmux/server.sock"))
            .arg("kill-server")
            .output();
    }
}

/// The operator's whole round, from the keyboard: the four panes, a task
/// dispatched from the form whose agent shows in Live, a nudge refused
/// while the agent asks and the answer that lets it go on, the review item, attach and detach, approve (a real
/// merge), help, a second room as viewer, SIGTERM and q restore the
/// terminal.
#[test]
fn the_operator_runs_a_task_from_the_keyboard() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    std::fs::create_dir_all(sb.home()).unwrap();
    // An agent that asks before it works: the nudge is its answer.
    std::fs::write(
        sb.home().join("config.toml"),
        "[scheduler]\nactive_interval = \"200ms\"\n[agents.asks]\ncommand = [\"{switchboard}\", \"demo-agent\", \"--ask\", \"--steps\", \"2\", \"--step-ms\", \"50\", \"{prompt}\"]\nask = '\\[y/n\\]\\s*\\z'\n",
    )
    .unwrap();
    sb.add_project("api", &repo, "asks", &[]);
    let _agents = AgentsServer(sb.home());
    let terminal = Terminal::new(sb.dir.path());
    terminal.open("room", &sb.home());
    let screen = terminal.wait_for("room", "engine running");
    for pane in ["Queue", "Live", "Chains", "Review"] {
        assert!(screen.contains(pane), "{pane} missing:\n{screen}");
    }

    // d, a prompt, Ctrl-S: the job is there and its agent shows in Live.
    terminal.keys("room", &["d"]);
    terminal.wait_for("room", "Dispatch a task");
    terminal.type_text("room", "write the docs");
    terminal.keys("room", &["C-s"]);
    terminal.wait_for("room", "queued #1");
    let screen = terminal.wait_for("room", "Proceed with changes to DEMO.md? [y/n]");
    assert!(screen.contains("● task: write the docs"), "{screen}");
    terminal.wait_for("room", "Live #1 asking");

    // n: a nudge would be typed into the question, so the room refuses it
    // and says how to answer; the answer lets it go on to finish.
    terminal.wait_for("room", "? waiting");
    terminal.keys("room", &["n"]);
    terminal.wait_for("room", "is asking a question");
    // The demo agent reads a line: its answer is y and Enter, typed in
    // its session as an attached operator would.
    let typed = Command::new("tmux")
        .arg("-S")
        .arg(sb.home().join("tmux/server.sock"))
        .args(["send-keys", "-t", "=sb-1-1:", "y", "Enter"])
        .status()
        .unwrap();
    assert!(typed.success());
    terminal.wait_for("room", "added a line to DEMO.md");
    terminal.wait_for("room", "switchboard/1");

    // Enter: the details, with the events' reasons and the attempt.
    terminal.keys("room", &["Enter"]);
    let screen = terminal.wait_for("room", "Attempts");
    assert!(
        screen.contains("sb-1-1") && screen.contains("switchboard/1"),
        "{screen}"
    );
    terminal.back("room");
    // v: the review item's diff, read from the repository.
    terminal.keys("room", &["v"]);
    terminal.wait_for("room", "+- write the docs");
    terminal.back("room");
    // g: the grid of working agents; #1's is done.
    terminal.keys("room", &["g"]);
    terminal.wait_for("room", "No agent is running.");
    terminal.back("room");
    terminal.wait_for("room", "engine running");

    // a: the room steps aside for the agent's session; C-b d brings it back.
    terminal.keys("room", &["a"]);
    let screen = terminal.wait_until("room", "the agent's own screen", |s| {
        s.contains("demo>") && !s.contains("engine running")
    });
    // Its status line says how to come back.
    let screen = if screen.contains("C-b d: back to switchboard") {
        screen
    } else {
        terminal.wait_for("room", "C-b d: back to switchboard")
    };
    assert!(screen.contains("sb-1-1"), "{screen}");
    terminal.keys("room", &["C-b", "d"]);
    terminal.wait_for("room", "back from sb-1-1");

    // y: asks first, naming the branch and where it goes; y again:
    // merged into the repository's main branch, and the room says what
    // became of the worktree and the branch.
    terminal.keys("room", &["y"]);
    terminal.wait_for("room", "Merge job #1's switchboard/1 into main?");
    terminal.keys("room", &["y"]);
    terminal.wait_for("room", "its worktree was removed");
    let log = Command::new("git")
        .args(["log", "--format=%s", "-1"])
        .current_dir(&repo)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&log.stdout).contains("Merge switchboard/1"),
        "{}",
        String::from_utf8_lossy(&log.stdout)
    );

    // ?: the help; any key closes it.
    terminal.keys("room", &["?"]);
    terminal.wait_for("room", "Keys (any key closes)");
    terminal.keys("room", &["x"]);
    terminal.wait_until("room", "help closed", |s| {
        !s.contains("Keys (any key closes)")
    });

    // A second room on the same home is a viewer; SIGTERM closes it and
    // gives the terminal back.
    terminal.open("second", &sb.home());
    terminal.wait_for("second", "viewer: another process runs this home's engine");
    // P in the viewer pauses the queue: the engine (in the first room)
    // carries it out and both rooms say so; P in the first resumes.
    terminal.keys("second", &["P"]);
    terminal.wait_for("room", "⏸ paused: nothing new starts (P resumes)");
    terminal.wait_for("second", "⏸ paused: nothing new starts (P resumes)");
    assert!(sb.home().join("PAUSED").exists());
    terminal.keys("room", &["P"]);
    terminal.wait_until("second", "the pause to end", |s| !s.contains("⏸ paused"));
    assert!(!sb.home().join("PAUSED").exists());
    let pid = terminal.child_pid("second").expect("the second room");
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let screen = terminal.wait_for("second", "room exited 143");
    assert!(screen.contains("closed on signal 15"), "{screen}");
    assert!(
        !screen.contains("Queue"),
        "the alternate screen is gone:\n{screen}"
    );

    // q: the room ends; its one agent was merged, so no agent runs and
    // the home's tmux server is stopped too; the terminal is back.
    terminal.keys("room", &["q"]);
    let screen = terminal.wait_for("room", "room exited 0");
    assert!(
        screen.contains("No agent was running; the home's tmux server is stopped too."),
        "{screen}"
    );
    assert!(!screen.contains("engine running"), "{screen}");
    let left = Command::new("tmux")
        .arg("-S")
        .arg(sb.home().join("tmux/server.sock"))
        .arg("list-sessions")
        .output()
        .unwrap();
    assert!(!left.status.success(), "no tmux server is left behind");
}

/// Writes a config whose `slow` agent works for minutes, and registers
/// `api` with it; max one agent on the repository, so others queue.
fn slow_project(sb: &Sandbox) -> PathBuf {
    let repo = sb.repo("api");
    std::fs::create_dir_all(sb.home()).unwrap();
    std::fs::write(
        sb.home().join("config.toml"),
        "[scheduler]\nactive_interval = \"200ms\"\n[agents.slow]\ncommand = [\"{switchboard}\", \"demo-agent\", \"--steps\", \"600\", \"--step-ms\", \"1000\", \"{prompt}\"]\n",
    )
    .unwrap();
    sb.add_project("api", &repo, "slow", &["--max-agents", "1"]);
    repo
}

/// The selection is a job, not a row: jobs dispatched and ended around
/// it, a filter that hides it and is cleared, and Live stays on it; a
/// kill question about a job that ended meanwhile is withdrawn, and its
/// Enter acts on no other job.
#[test]
fn the_selection_stays_on_its_job() {
    let sb = Sandbox::new();
    slow_project(&sb);
    let _agents = AgentsServer(sb.home());
    for task in ["first task", "second task", "third task"] {
        sb.run(&["dispatch", "api", task]).ok();
    }
    let terminal = Terminal::new(sb.dir.path());
    terminal.open("room", &sb.home());
    terminal.wait_for("room", "Live #1");
    // #1 runs, #2 and #3 wait for the repository: select #2.
    terminal.keys("room", &["j"]);
    terminal.wait_for("room", "Live #2");
    // #1 is killed from another shell: #2 starts and moves up, #1 moves
    // down; a new job is dispatched. The selection stays on #2.
    sb.run(&["kill", "1"]).ok();
    sb.run(&["dispatch", "api", "fourth task"]).ok();
    terminal.wait_until("room", "#2 running", |s| {
        s.contains("Live #2") && s.contains("#4") && s.contains("killed")
    });
    // A filter that hides #2, then Esc clears it: #2 again.
    terminal.keys("room", &["/"]);
    terminal.type_text("room", "third");
    terminal.keys("room", &["Enter"]);
    terminal.wait_for("room", "Live #3");
    terminal.back("room");
    terminal.wait_for("room", "Live #2");
    // K on #2 asks about #2 by name; #2 is killed meanwhile: the question
    // is withdrawn and the Enter kills nothing else.
    terminal.keys("room", &["K"]);
    terminal.wait_for("room", "Kill job #2's agent?");
    assert!(terminal.screen("room").contains("second task"));
    sb.run(&["kill", "2"]).ok();
    terminal.wait_for("room", "kill of #2 cancelled");
    terminal.keys("room", &["Enter"]);
    terminal.wait_for("room", "Events");
    let jobs = sb.run(&["jobs", "--json"]).json();
    let mut killed: Vec<i64> = jobs
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["state"] == "killed")
        .map(|j| j["id"].as_i64().unwrap())
        .collect();
    killed.sort();
    assert_eq!(killed, [1, 2], "only the jobs killed from the shell");
    terminal.keys("room", &["Escape"]);
    terminal.keys("room", &["q"]);
    // #3 and #4 were still at work: the room says which sessions run on.
    let screen = terminal.wait_for("room", "room exited 0");
    assert!(screen.contains("keeps running (sb-3-1)"), "{screen}");
}

/// A first run: the form starts on the prompt; a path that does not exist
/// is refused with the whole reason and the form keeps the prompt; `~/…`
/// is the home directory.
#[test]
fn a_refused_dispatch_keeps_the_form() {
    let sb = Sandbox::new();
    sb.repo("api");
    let elsewhere = sb.dir.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let _agents = AgentsServer(sb.home());
    let terminal = Terminal::new(sb.dir.path());
    let before = format!(
        "cd '{}' && HOME='{}'",
        elsewhere.display(),
        sb.dir.path().display()
    );
    terminal.open_with("room", &sb.home(), &before);
    terminal.wait_for("room", "engine running");
    terminal.keys("room", &["d"]);
    terminal.wait_for("room", "Dispatch a task");
    terminal.type_text("room", "hello");
    // Back to the path: After, Priority, Agent, Path.
    for _ in 0..4 {
        terminal.keys("room", &["BTab"]);
    }
    terminal.type_text("room", "/nowhere/at/all");
    terminal.keys("room", &["C-s"]);
    let screen = terminal.wait_for("room", "not dispatched");
    let flat: String = screen.replace('│', "").split_whitespace().collect();
    assert!(
        flat.contains("orgivearepositorypath") && screen.contains("hello"),
        "the whole reason, and the prompt kept:\n{screen}"
    );
    assert!(!screen.contains("/nowhere/at/allhello"), "{screen}");
    for _ in 0.."/nowhere/at/all".len() {
        terminal.keys("room", &["BSpace"]);
    }
    terminal.type_text("room", "~/api");
    terminal.keys("room", &["C-s"]);
    terminal.wait_for("room", "queued #1");
    let jobs = sb.run(&["jobs", "1", "--json"]).json();
    assert_eq!(jobs["project"], "api");
    assert!(
        jobs["prompt"].as_str().unwrap_or("").contains("hello"),
        "{jobs}"
    );
    terminal.keys("room", &["q"]);
    terminal.wait_for("room", "room exited 0");
}

/// The form's After field takes what `dispatch --after` takes and is
/// refused in the command line's words: a word that is no job id, a job
/// that does not exist (the journal's `check_after`); the job dispatched
/// waits for the one named.
#[test]
fn a_job_dispatched_from_the_form_waits_for_the_jobs_named_after() {
    let sb = Sandbox::new();
    slow_project(&sb);
    sb.run(&["dispatch", "api", "the first"]).ok();
    let cli = |after: &str| {
        sb.run(&["dispatch", "api", "x", "--after", after])
            .fails(2)
            .to_string()
    };
    let cli_words = cli("1,x");
    let _agents = AgentsServer(sb.home());
    let terminal = Terminal::new(sb.dir.path());
    terminal.open("room", &sb.home());
    terminal.wait_for("room", "engine running");
    terminal.keys("room", &["d"]);
    terminal.wait_for("room", "Dispatch a task");
    terminal.type_text("room", "the second");
    terminal.keys("room", &["BTab"]);
    terminal.type_text("room", "1,x");
    terminal.keys("room", &["C-s"]);
    let screen = terminal.wait_for("room", "is not a job id");
    let said = "\"x\" is not a job id; job ids are whole numbers from 1";
    assert!(screen.contains(said), "{screen}");
    assert!(cli_words.contains(said), "the same words: {cli_words}");
    // A job that does not exist: refused by the journal's check.
    terminal.keys("room", &["BSpace", "BSpace", "BSpace"]);
    terminal.type_text("room", "7");
    terminal.keys("room", &["C-s"]);
    let screen = terminal.wait_for("room", "not dispatched");
    let refused = sb
        .run(&["dispatch", "api", "x", "--after", "7"])
        .fails(1)
        .to_string();
    assert!(
        screen.contains("there is no job #7 to wait for")
            && refused.contains("there is no job #7 to wait for"),
        "{screen}\n{refused}"
    );
    terminal.keys("room", &["BSpace"]);
    terminal.type_text("room", "#1");
    terminal.keys("room", &["C-s"]);
    terminal.wait_for("room", "queued #2");
    let job = sb.run(&["jobs", "2", "--json"]).json();
    assert_eq!(job["after"], serde_json::json!([1]), "{job}");
    assert!(
        job["prompt"].as_str().unwrap_or("").contains("the second"),
        "{job}"
    );
    terminal.wait_for("room", "after #1");
    terminal.keys("room", &["q"]);
    terminal.wait_for("room", "room exited 0");
}

/// Late work through the room: attach to a done demo job, give it more to
/// do, detach; the review item's diff stat changes, and approve merges
/// both changes.
#[test]
fn work_given_to_a_done_agent_is_reviewed_and_merged() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    std::fs::create_dir_all(sb.home()).unwrap();
    std::fs::write(
        sb.home().join("config.toml"),
        "[scheduler]\nactive_interval = \"200ms\"\n[agents.fast]\ncommand = [\"{switchboard}\", \"demo-agent\", \"--steps\", \"2\", \"--step-ms\", \"50\", \"{prompt}\"]\n[room]\nconfirm_approve = false\n",
    )
    .unwrap();
    sb.add_project("api", &repo, "fast", &[]);
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    let _agents = AgentsServer(sb.home());
    let terminal = Terminal::new(sb.dir.path());
    terminal.open("room", &sb.home());
    terminal.wait_for("room", "+1 -0");
    terminal.keys("room", &["a"]);
    terminal.wait_for("room", "C-b d: back to switchboard");
    terminal.type_text("room", "and the changelog");
    terminal.keys("room", &["Enter"]);
    terminal.wait_until("room", "the second task done", |s| {
        s.matches("done: added a line to DEMO.md").count() >= 2
    });
    terminal.keys("room", &["C-b", "d"]);
    terminal.wait_for("room", "back from sb-1-1");
    terminal.wait_for("room", "+2 -0");
    terminal.keys("room", &["y"]);
    terminal.wait_for("room", "its worktree was removed");
    assert_eq!(
        std::fs::read_to_string(repo.join("DEMO.md")).unwrap(),
        "- write the docs\n- and the changelog\n"
    );
    terminal.keys("room", &["q"]);
    terminal.wait_for("room", "room exited 0");
}

/// A directory holding a `git` that, given arguments containing `held`,
/// waits until the returned gate file exists; other calls go straight to
/// the real git. Put first on the room's PATH.
fn held_git(sb: &Sandbox, held: &str) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let gate = sb.dir.path().join("git-may-go");
    let bin = sb.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let real = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let wrapper = bin.join("git");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\ncase \"$*\" in *{held}*) while [ ! -e '{}' ]; do sleep 0.1; done;; esac\nexec '{}' \"$@\"\n",
            gate.display(),
            real.trim()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    (bin, gate)
}

/// What the dispatch form shows, its rows joined and without blanks or
/// borders: the box's own columns only (the panes behind it show on
/// either side), so a reason wrapped over rows reads as one.
fn form_text(screen: &str) -> String {
    let rows: Vec<Vec<char>> = screen.lines().map(|l| l.chars().collect()).collect();
    let Some((top, left)) = rows.iter().enumerate().find_map(|(i, row)| {
        let title: Vec<char> = "┌ Dispatch a task".chars().collect();
        row.windows(title.len())
            .position(|w| w == title.as_slice())
            .map(|x| (i, x))
    }) else {
        return String::new();
    };
    rows[top..]
        .iter()
        .map(|row| {
            row.iter()
                .skip(left)
                .take(72)
                .filter(|c| !c.is_whitespace() && !"│┌┐└┘─".contains(**c))
                .collect::<String>()
        })
        .collect()
}

/// A refusal as `switchboard dispatch` says it, blanks left out.
fn cli_refusal(stderr: &str) -> String {
    stderr
        .trim()
        .strip_prefix("error:")
        .unwrap_or(stderr)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The form takes the one path `switchboard dispatch` takes: the same
/// refusals in the same words (a profile gone from the config since the
/// form opened; a directory that is no repository), git never run on the
/// room's thread (while git hangs the room still answers keys), and a
/// task submitted twice in a row is journaled once.
#[test]
fn the_form_dispatches_as_the_command_line_does() {
    let sb = Sandbox::new();
    slow_project(&sb);
    let config = sb.home().join("config.toml");
    let slow = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{slow}[agents.zzlater]\ncommand = [\"{{switchboard}}\", \"demo-agent\", \"{{prompt}}\"]\n"),
    )
    .unwrap();
    let plain = sb.dir.path().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let web = sb.repo("web");
    // A git that hangs on finding a repository's root until the test
    // lets it go.
    let (bin, gate) = held_git(&sb, "show-toplevel");
    let _agents = AgentsServer(sb.home());
    let terminal = Terminal::new(sb.dir.path());
    terminal.open_with(
        "room",
        &sb.home(),
        &format!("PATH='{}':\"$PATH\"", bin.display()),
    );
    terminal.wait_for("room", "engine running");
    terminal.keys("room", &["d"]);
    terminal.wait_for("room", "Dispatch a task");
    terminal.type_text("room", "the task");
    terminal.keys("room", &["BTab", "BTab", "BTab", "Left"]);
    terminal.wait_for("room", "‹ zzlater ›");

    // The profile goes from the config while the form is open.
    std::fs::write(&config, &slow).unwrap();
    terminal.wait_for("room", "read again");
    terminal.keys("room", &["C-s"]);
    let screen = terminal.wait_for("room", "not dispatched");
    let cli = cli_refusal(
        sb.run(&["dispatch", "api", "the task", "--agent", "zzlater"])
            .fails(1),
    );
    assert!(cli.contains("zzlater"), "{cli}");
    assert!(form_text(&screen).contains(&cli), "{cli}\n{screen}");

    // A directory that is no repository: git's refusal, in dispatch's words.
    terminal.keys("room", &["Right", "BTab", "Left", "Tab"]);
    terminal.wait_for("room", "Repository path");
    terminal.type_text("room", &plain.display().to_string());
    std::fs::write(&gate, "").unwrap();
    terminal.keys("room", &["C-s"]);
    let screen = terminal.wait_until("room", "the refusal of a plain directory", |s| {
        form_text(s).contains("notagitrepository")
    });
    let cli = cli_refusal(
        sb.run(&["dispatch", plain.to_str().unwrap(), "the task"])
            .fails(1),
    );
    assert!(form_text(&screen).contains(&cli), "{cli}\n{screen}");
    std::fs::remove_file(&gate).unwrap();

    // A new repository, submitted twice at once while git hangs: the
    // room still answers (Esc closes the form), and once git goes on the
    // task is journaled once.
    for _ in 0..plain.display().to_string().chars().count() {
        terminal.keys("room", &["BSpace"]);
    }
    terminal.type_text("room", &web.display().to_string());
    terminal.tmux(&["send-keys", "-t", "=room:", "C-s", "C-s"]);
    terminal.wait_for("room", "dispatching");
    terminal.keys("room", &["Escape"]);
    terminal.wait_for("room", "d dispatch");
    assert!(sb.run(&["jobs", "--json"]).json() == serde_json::json!([]));
    std::fs::write(&gate, "").unwrap();
    terminal.wait_for("room", "queued #1");
    let jobs = sb.run(&["jobs", "--json"]).json();
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let job = sb.run(&["jobs", "1", "--json"]).json();
    assert_eq!(job["project"], "web", "{job}");
    assert_eq!(job["prompt"], "the task", "{job}");
    terminal.keys("room", &["q"]);
    terminal.wait_for("room", "room exited 0");
}

/// The diff view reads git off the room's thread: while git is held the
/// view says `reading…` and the room still answers (Esc goes back); once
/// git goes on, the diff shows.
#[test]
fn a_slow_git_does_not_hold_the_room_while_the_diff_is_read() {
    let sb = Sandbox::new();
    let repo = sb.repo("api");
    std::fs::create_dir_all(sb.home()).unwrap();
    std::fs::write(
        sb.home().join("config.toml"),
        "[scheduler]\nactive_interval = \"200ms\"\n[agents.fast]\ncommand = [\"{switchboard}\", \"demo-agent\", \"--steps\", \"2\", \"--step-ms\", \"50\", \"{prompt}\"]\n",
    )
    .unwrap();
    sb.add_project("api", &repo, "fast", &[]);
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    let (bin, gate) = held_git(&sb, "--no-ext-diff");
    let _agents = AgentsServer(sb.home());
    let terminal = Terminal::new(sb.dir.path());
    terminal.open_with(
        "room",
        &sb.home(),
        &format!("PATH='{}':\"$PATH\"", bin.display()),
    );
    terminal.wait_for("room", "+1 -0");
    terminal.keys("room", &["v"]);
    terminal.wait_for("room", "reading…");
    terminal.back("room");
    terminal.keys("room", &["v"]);
    terminal.wait_for("room", "reading…");
    std::fs::write(&gate, "").unwrap();
    terminal.wait_for("room", "+- write the docs");
    terminal.back("room");
    terminal.keys("room", &["q"]);
    terminal.wait_for("room", "room exited 0");
}
