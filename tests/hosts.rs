//! Hosts over SSH, against real sshd servers in network namespaces made by
//! the test (tests/common/hosts.rs). Skipped, with a message, where
//! namespaces cannot be made (not root).

mod common;

use std::time::{Duration, Instant};

use common::hosts::{TestHost, UserKey, net_namespace_of};
use switchboard::home::Home;
use switchboard::remote::{KeyPolicy, Ssh, SshError, commands};

fn home() -> (tempfile::TempDir, Home) {
    let dir = tempfile::tempdir().expect("temp");
    let home = Home::at(dir.path().join("home"));
    home.ensure().expect("home");
    (dir, home)
}

fn pin(home: &Home, host: &TestHost) {
    let dir = home.root().join("ssh");
    std::fs::create_dir_all(&dir).expect("ssh dir");
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("known_hosts"))
        .and_then(|mut f| f.write_all(host.known_hosts_line().as_bytes()))
        .expect("known_hosts");
}

#[test]
fn commands_run_on_the_host_over_one_shared_connection() {
    need_test_hosts!();
    let key = UserKey::new();
    let host = TestHost::start("build1", &key);
    let (_dir, home) = home();
    pin(&home, &host);
    let ssh = host.ssh(&home, &key);

    let out = ssh
        .run(&commands::RemoteCommand::for_test(&[
            "readlink",
            "/proc/self/ns/net",
        ]))
        .expect("runs over ssh");
    let remote_ns = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(
        remote_ns,
        host.net_namespace(),
        "ran in the host's namespace"
    );
    assert_ne!(Some(remote_ns), net_namespace_of(std::process::id()));
    assert!(ssh.master_up(), "the first command left a master up");
    let meta = std::fs::metadata(home.root().join("ssh")).expect("ssh dir");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o700);

    // Later commands ride on the master: no new TCP handshake, no login.
    let start = Instant::now();
    for _ in 0..5 {
        let home_dir = ssh.run(&commands::home_dir()).expect("printenv");
        assert_eq!(
            String::from_utf8_lossy(&home_dir.stdout).trim(),
            host.home().to_string_lossy()
        );
    }
    eprintln!("5 commands over the master: {:?}", start.elapsed());

    // Hostile text as a file's content and name, through stdin and argv.
    let hostile = "$(touch pwned) `touch pwned2` 'q' \"d\"\n-n\\ ; touch pwned3";
    let file = host.home().join("-a file $(x) 'y'");
    ssh.run(&commands::write_file(&file, hostile))
        .expect("write");
    assert_eq!(std::fs::read_to_string(&file).expect("file"), hostile);
    for f in ["pwned", "pwned2", "pwned3"] {
        assert!(!host.home().join(f).exists());
    }
    // A remote command's own failure is not the host's.
    let err = ssh
        .run(&commands::is_dir(&host.home().join("nothing")))
        .expect_err("no such dir");
    assert!(matches!(err, SshError::Remote { code: 1, .. }), "{err}");
    ssh.close_master();
    assert!(!ssh.master_up());
}

#[test]
fn an_unknown_host_key_is_refused_until_the_operator_accepts_it() {
    need_test_hosts!();
    let key = UserKey::new();
    let host = TestHost::start("build2", &key);
    let (_dir, home) = home();
    let ssh = host.ssh(&home, &key);
    let err = ssh.run(&commands::home_dir()).expect_err("not pinned");
    assert!(matches!(err, SshError::UnknownHostKey { .. }), "{err}");
    assert!(err.to_string().contains("--accept-new-key"), "{err}");
    assert!(!ssh.master_up());

    let accept = Ssh::new(
        &home,
        host.destination(),
        Some(key.private()),
        KeyPolicy::AcceptNew,
    )
    .expect("ssh");
    accept.run(&commands::home_dir()).expect("accepted");
    accept.close_master();
    let pinned = std::fs::read_to_string(home.root().join("ssh/known_hosts")).expect("pinned");
    let want_key = host
        .known_hosts_line()
        .split_whitespace()
        .nth(2)
        .expect("key")
        .to_string();
    assert!(pinned.contains(&want_key), "{pinned}");
    // From now on the strict transport takes it.
    ssh.run(&commands::home_dir()).expect("pinned key taken");
    ssh.close_master();

    // A different key under the same address is refused, also with accept-new.
    let other = TestHost::start("impostor", &key);
    let line = other
        .known_hosts_line()
        .replace(&other.address, &host.address);
    std::fs::write(home.root().join("ssh/known_hosts"), line).expect("swap");
    let err = accept.run(&commands::home_dir()).expect_err("changed key");
    assert!(matches!(err, SshError::ChangedHostKey { .. }), "{err}");
}

#[test]
fn a_cut_link_is_told_as_unreachable() {
    need_test_hosts!();
    let key = UserKey::new();
    let host = TestHost::start("build3", &key);
    let (_dir, home) = home();
    pin(&home, &host);
    let ssh = host.ssh(&home, &key);
    ssh.run(&commands::home_dir()).expect("up");
    host.link_down();
    let start = Instant::now();
    let err = ssh.run(&commands::home_dir()).expect_err("link is down");
    assert!(err.is_unreachable(), "{err}");
    eprintln!("unreachable told after {:?}: {err}", start.elapsed());
    // Once the master has gone, a new connection fails fast.
    let _ = ssh.run(&commands::home_dir());
    host.link_up();
    common::wait_until(
        Duration::from_secs(30),
        Duration::from_millis(200),
        || match ssh.run(&commands::home_dir()) {
            Ok(_) => Ok(()),
            Err(e) => {
                assert!(e.is_unreachable(), "{e}");
                Err(e)
            }
        },
        |e| format!("host did not come back: {e}"),
    );
    ssh.close_master();
}

#[test]
fn the_runtime_drives_a_private_tmux_server_on_the_host() {
    use switchboard::runtime::{ControlClient, SpawnSpec};
    need_test_hosts!();
    let key = UserKey::new();
    let host = TestHost::start("build4", &key);
    let (_dir, home) = home();
    pin(&home, &host);
    let server = host.tmux_server(&home, &key);
    let control = ControlClient::new(server.clone());
    let work = host.home().join("work dir $(x)");
    std::fs::create_dir_all(&work).expect("work dir");

    let names: Vec<String> = (1..=3).map(|i| format!("sb-{i}-1")).collect();
    for name in &names {
        server
            .spawn(&SpawnSpec {
                name: name.clone(),
                cwd: work.clone(),
                argv: vec!["cat".into()],
                env: vec![("SB_NOTE".into(), "it's $(here)".into())],
            })
            .expect("spawn on the host");
    }
    // Listed for re-adoption, over the control client and one-shot alike.
    let listed: Vec<String> = control
        .sessions()
        .expect("sessions")
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(listed, names);
    let info = server.session("sb-2-1").expect("session").expect("there");
    let pid = info.pid.expect("pane pid");
    assert_eq!(
        net_namespace_of(pid),
        Some(host.net_namespace()),
        "the agent runs inside the host's namespace: it was started over SSH"
    );
    assert!(
        !home.tmux_dir().join("server.sock").exists(),
        "no local tmux server was started"
    );
    let socket_dir = host.home().join(".switchboard");
    let mode = |p: &std::path::Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).expect("dir").permissions().mode() & 0o777
    };
    assert_eq!(mode(&socket_dir), 0o700);
    let place = std::fs::read_dir(&socket_dir)
        .expect("place")
        .next()
        .expect("one")
        .expect("entry")
        .path();
    assert_eq!(mode(&place.join("tmux")), 0o700);

    // Hostile text arrives literally, through a paste buffer, Enter verified.
    // Backslash escapes and formats that the host's `printf '%b'` (which
    // writes the staged file) would act on if they were not escaped.
    let hostile =
        "$(touch pwned) `touch pwned2` 'q' \"d\" -n ; touch pwned3 \\c \\n \\0101 %b %s é ✓ \\ end";
    control
        .send_text("sb-1-1", hostile, Duration::from_millis(50), 3)
        .expect("nudge over the control client");
    // It travelled as stdin of the session kept open for text, into a
    // private file of the host that tmux loaded.
    let staged: Vec<_> = std::fs::read_dir(place.join("buffers"))
        .expect("buffers")
        .flatten()
        .collect();
    assert_eq!(staged.len(), 1, "one slot file, rewritten: {staged:?}");
    assert_eq!(
        std::fs::read_to_string(staged[0].path()).expect("staged"),
        hostile
    );
    assert_eq!(mode(&place.join("buffers")), 0o700);
    // The next text takes the same slot: no file is left behind per text.
    control
        .send_text("sb-3-1", hostile, Duration::from_millis(50), 3)
        .expect("second nudge over the control client");
    let count = std::fs::read_dir(place.join("buffers"))
        .expect("buffers")
        .count();
    assert_eq!(count, 1);
    // One-shot: loaded from stdin and pasted by one ssh exec.
    server
        .send_text("sb-2-1", hostile, Duration::from_millis(50), 3)
        .expect("nudge one-shot");
    common::wait_secs(10, "the text echoed back by cat", || {
        let screens = control
            .capture_many(&["sb-1-1", "sb-2-1", "sb-3-1"])
            .expect("capture");
        screens.iter().all(|s| s.matches(hostile).count() == 2)
    });
    for f in ["pwned", "pwned2", "pwned3"] {
        assert!(
            !work.join(f).exists() && !host.home().join(f).exists(),
            "{f}"
        );
    }
    let env = server
        .run(&["show-environment", "-t", "=sb-3-1", "SB_NOTE"])
        .expect("env");
    assert_eq!(env.trim(), "SB_NOTE=it's $(here)");

    // The operator's attach is ssh -t into the session.
    let (program, args, _) = server.attach_command("sb-1-1");
    assert_eq!(program, "ssh");
    assert!(args.contains(&"-t".to_string()), "{args:?}");

    server.kill("sb-3-1").expect("kill");
    assert_eq!(control.sessions().expect("sessions").len(), 2);
    assert!(matches!(
        server.kill("sb-3-1"),
        Err(switchboard::runtime::TmuxError::NoSession(_))
    ));
    server.kill_server().expect("kill server");
}
