//! `host add` contacts the host at once (real sshd servers in network
//! namespaces, tests/common/hosts.rs): the key is pinned only when asked,
//! an unknown or changed key is refused with nothing registered, what is
//! missing on the host is named with how to install it, and a host that
//! cannot be reached is registered with a warning and shown unreachable.
//! Skipped, with a message, where namespaces cannot be made (not root).

mod common;

use std::path::Path;

use common::hosts::{TestHost, UserKey};
use common::{BIN, Run, Sandbox};
use serde_json::Value;

struct Adder {
    sb: Sandbox,
    key: UserKey,
}

impl Adder {
    fn new(key: UserKey) -> Adder {
        let sb = Sandbox::new();
        std::fs::create_dir_all(sb.home()).expect("home");
        Adder { sb, key }
    }

    fn add(&self, host: &TestHost, extra: &[&str]) -> Run {
        let address = host.address_text();
        let key = self.key.private();
        let mut args = vec![
            "host",
            "add",
            &host.name,
            &address,
            "--identity",
            key.to_str().expect("utf-8"),
        ];
        args.extend_from_slice(extra);
        self.sb.run(&args)
    }

    /// `host list --json`'s row of `name`, if it is registered.
    fn row(&self, name: &str) -> Option<Value> {
        let list = self.sb.run(&["host", "list", "--json"]).json();
        list.as_array()?.iter().find(|r| r["name"] == name).cloned()
    }

    fn known_hosts(&self) -> String {
        std::fs::read_to_string(self.sb.home().join("ssh/known_hosts")).unwrap_or_default()
    }

    fn remove(&self, name: &str) {
        self.sb.run(&["host", "remove", name]).ok();
    }
}

/// The host's key, as a known_hosts line has it.
fn host_key(host: &TestHost) -> String {
    host.known_hosts_line()
        .split_whitespace()
        .nth(2)
        .expect("key")
        .to_string()
}

#[test]
fn host_add_checks_the_key_and_what_the_host_has() {
    need_test_hosts!();
    let key = UserKey::new();
    let host = TestHost::start("build1", &key);
    let a = Adder::new(key);

    // An unknown key: refused, nothing registered, nothing pinned.
    let err = a.add(&host, &[]).fails(1).to_string();
    assert!(
        err.contains("not pinned") && err.contains("--accept-new-key"),
        "{err}"
    );
    assert!(err.contains("host build1 was not registered"), "{err}");
    assert!(a.row("build1").is_none());
    assert!(a.known_hosts().is_empty());

    // Accepted when asked: pinned, reachable, and switchboard (not yet
    // copied there) named as missing, with what that stops.
    let said = a.add(&host, &["--accept-new-key"]).ok().to_string();
    assert!(a.known_hosts().contains(&host_key(&host)));
    assert!(
        said.contains("Reached it over ssh: tmux at /") && said.contains(", git at /"),
        "{said}"
    );
    assert!(
        said.contains("warning: switchboard is not on the PATH of host build1")
            && said.contains("hooks cannot report"),
        "{said}"
    );
    assert!(!said.contains("tmux is not on"), "{said}");
    assert_eq!(a.row("build1").expect("registered")["state"], "reachable");

    // With the binary installed: no warning, its path named.
    a.remove("build1");
    host.install_switchboard(Path::new(BIN));
    let said = a.add(&host, &[]).ok().to_string();
    let installed = host.bin().join("switchboard");
    assert!(
        said.contains(&format!("switchboard at {}", installed.display())),
        "{said}"
    );
    assert!(!said.contains("warning"), "{said}");

    // A changed key (another machine at the address): refused, even with
    // --accept-new-key, and the pin is left as it was.
    a.remove("build1");
    let pinned = a.known_hosts();
    let other = UserKey::new();
    let other_key = std::fs::read_to_string(other.dir.path().join("id.pub")).expect("key");
    let mut words = other_key.split_whitespace();
    let line = format!(
        "{} {} {}\n",
        host.address,
        words.next().expect("type"),
        words.next().expect("key")
    );
    std::fs::write(a.sb.home().join("ssh/known_hosts"), &line).expect("pin another");
    let err = a.add(&host, &["--accept-new-key"]).fails(1).to_string();
    assert!(err.contains("CHANGED"), "{err}");
    assert!(a.row("build1").is_none());
    assert_eq!(a.known_hosts(), line);
    std::fs::write(a.sb.home().join("ssh/known_hosts"), pinned).expect("pin back");

    // Out of reach: registered with a warning, and `host list` says so.
    host.link_down();
    let said = a.add(&host, &[]).ok().to_string();
    host.link_up();
    assert!(
        said.contains("warning: host build1 cannot be reached now")
            && said.contains("registered unchecked"),
        "{said}"
    );
    let row = a.row("build1").expect("registered");
    assert_eq!(row["state"], "unreachable", "{row}");
    let listed = a.sb.run(&["host", "list"]).ok().to_string();
    assert!(listed.contains("unreachable since"), "{listed}");
}

#[test]
fn host_add_names_tmux_and_git_missing_with_how_to_install_them() {
    need_test_hosts!();
    let key = UserKey::new();
    let host = TestHost::start("bare1", &key);
    // A login whose PATH has a shell and nothing else.
    let only_sh = host.dir.path().join("only-sh");
    std::fs::create_dir_all(&only_sh).expect("mkdir");
    std::os::unix::fs::symlink("/bin/sh", only_sh.join("sh")).expect("link sh");
    host.set_login_path(only_sh.to_str().expect("utf-8"));
    let a = Adder::new(key);
    let said = a.add(&host, &["--accept-new-key"]).ok().to_string();
    assert!(said.contains("no tmux, no git, no switchboard"), "{said}");
    for expected in [
        "warning: tmux is not on the PATH of host bare1: no agent can start there",
        "sudo apt-get install tmux",
        "warning: git is not on the PATH of host bare1",
        "sudo apt-get install git",
        "warning: switchboard is not on the PATH of host bare1",
    ] {
        assert!(said.contains(expected), "{expected:?} in:\n{said}");
    }
    assert_eq!(a.row("bare1").expect("registered")["state"], "reachable");
}

#[test]
fn host_add_names_a_tmux_too_old_with_how_to_fix_it() {
    need_test_hosts!();
    let key = UserKey::new();
    let host = TestHost::start("old1", &key);
    // The host's tmux says it is 2.9 (a stand-in first on its PATH; git
    // and the rest as usual).
    let old = host.dir.path().join("old-tmux");
    std::fs::create_dir_all(&old).expect("mkdir");
    let tmux = old.join("tmux");
    std::fs::write(&tmux, "#!/bin/sh\necho 'tmux 2.9'\n").expect("write");
    std::fs::set_permissions(&tmux, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    host.set_login_path(&format!("{}:/usr/bin:/bin", old.display()));
    let a = Adder::new(key);
    let said = a.add(&host, &["--accept-new-key"]).ok().to_string();
    for expected in [
        "warning: tmux 2.9 on host old1 is older than 3.2",
        "sudo apt-get install tmux",
    ] {
        assert!(said.contains(expected), "{expected:?} in:\n{said}");
    }
    assert!(
        !said.contains("tmux is not on the PATH"),
        "it is there, only old: {said}"
    );
}
