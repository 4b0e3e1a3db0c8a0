//! The inbox of a running engine (`switchboard run --headless`) fed what
//! production feeds it: a file still being written, a symbolic link to
//! `/etc/passwd`, a FIFO, a 256 MB file. The engine stays up, takes the
//! good file once complete, moves the rest aside with reasons, and its
//! memory does not follow the size of the file.

mod common;

use std::process::{Child, Stdio};
use std::time::Duration;

use common::Sandbox;

struct Engine(Child, std::path::PathBuf);

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::process::Command::new("tmux")
            .arg("-S")
            .arg(self.1.join("tmux/server.sock"))
            .arg("kill-server")
            .output();
    }
}

fn wait_for(what: &str, check: impl FnMut() -> bool) {
    common::wait_secs(30, what, check);
}

/// The engine's peak resident memory, in KiB (Linux).
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn prompts(sb: &Sandbox) -> Vec<String> {
    let jobs = sb.run(&["jobs", "--json"]).json();
    jobs.as_array()
        .unwrap()
        .iter()
        .map(|j| j["prompt"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_inbox_of_a_running_engine_takes_only_finished_regular_files() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.home()).unwrap();
    std::fs::write(
        sb.home().join("config.toml"),
        "[scheduler]\nactive_interval = \"200ms\"\nidle_interval = \"500ms\"\n",
    )
    .unwrap();
    let child = sb
        .cmd(&["run", "--headless"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    let _engine = Engine(child, sb.home());
    let inbox = sb.home().join("inbox");
    let rejected = inbox.join("rejected");
    wait_for("the engine to start", || {
        rejected.is_dir() && peak_kib(pid) > 0
    });
    let before = peak_kib(pid);

    // Half a message, then a pause well past a pass, then the rest.
    let task = r#"{"type":"task","prompt":"written slowly"}"#;
    let slow = inbox.join("slow.json");
    std::fs::write(&slow, &task[..15]).unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&slow)
        .unwrap();
    std::io::Write::write_all(&mut f, &task.as_bytes()[15..]).unwrap();
    drop(f);

    std::os::unix::fs::symlink("/etc/passwd", inbox.join("passwd")).unwrap();
    // 256 MB in one line, sparse (no disk written).
    std::fs::File::create(inbox.join("huge"))
        .unwrap()
        .set_len(256 << 20)
        .unwrap();

    wait_for("the slow file to be journaled", || {
        prompts(&sb) == ["written slowly"]
    });
    wait_for("the link and the huge file to move aside", || {
        rejected.join("passwd.reason").exists() && rejected.join("huge.reason").exists()
    });
    assert!(
        !rejected.join("slow.json").exists(),
        "the slow file was rejected"
    );
    let link = std::fs::read_to_string(rejected.join("passwd.reason")).unwrap();
    assert!(link.contains("symbolic link"), "{link}");
    let huge = std::fs::read_to_string(rejected.join("huge.reason")).unwrap();
    assert!(huge.contains("limit"), "{huge}");
    let (_, _, rejected_rows) = sb.journal().intake_counts().unwrap();
    assert_eq!(
        rejected_rows, 2,
        "one row for the link, one for the huge line"
    );
    let grew = peak_kib(pid).saturating_sub(before);
    eprintln!("engine peak memory: {before} KiB before, grew by {grew} KiB");
    assert!(
        grew < 64 * 1024,
        "a 256 MB file grew the engine by {grew} KiB"
    );
}
