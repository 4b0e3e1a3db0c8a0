//! Test hosts: each a network namespace of its own (made by the test, with
//! a veth pair to this one), running its own `sshd -D` with host keys, a
//! user key, a known_hosts line and a git repository made here.
//!
//! We run as root and the filesystem is shared across namespaces: each
//! host gets its own directory, and its login sets `HOME` and `PATH` to
//! that directory's (`environment=` in authorized_keys), so its "remote"
//! home, its switchboard binary and its repository are its own. What runs
//! on a host runs in its namespace, which tests use as proof that it went
//! over SSH ([`net_namespace_of`]).
//!
//! Everything is torn down on drop, also when a test panics: sshd and
//! every process left in the namespace are killed, the namespace (and so
//! the veth pair) deleted, the subnet's claim given back. Names and
//! subnets are unique per process so parallel test binaries do not clash.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use switchboard::home::Home;
use switchboard::model::HostAddress;
use switchboard::remote::{KeyPolicy, Ssh};
use switchboard::runtime::{RemoteTmux, TmuxServer};

use super::{BIN, Run, Sandbox};

const SSHD: &str = "/usr/sbin/sshd";
const CLAIMS: &str = "/tmp/switchboard-test-nets";
static NEXT: AtomicU32 = AtomicU32::new(0);

/// Why test hosts cannot be made here, if they cannot.
pub fn unavailable() -> Option<String> {
    // SAFETY: getuid(2) cannot fail.
    if unsafe { libc::getuid() } != 0 {
        return Some("network namespaces need root".into());
    }
    if !Path::new(SSHD).exists() {
        return Some(format!(
            "{SSHD} is missing (apt-get install openssh-server)"
        ));
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return Some("`ip` is missing (apt-get install iproute2)".into());
    }
    None
}

/// Test hosts are made, or the test says why it is skipped.
#[macro_export]
macro_rules! need_test_hosts {
    () => {
        if let Some(why) = common::hosts::unavailable() {
            eprintln!("SKIPPED: test hosts cannot be made here: {why}");
            return;
        }
    };
}

/// The user key that logs in on every test host.
pub struct UserKey {
    pub dir: tempfile::TempDir,
}

impl UserKey {
    pub fn new() -> UserKey {
        let dir = tempfile::tempdir().expect("temp dir");
        keygen(&dir.path().join("id"));
        UserKey { dir }
    }
    pub fn private(&self) -> PathBuf {
        self.dir.path().join("id")
    }
    pub fn public(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("id.pub")).expect("public key")
    }
}

/// One test host.
pub struct TestHost {
    pub name: String,
    /// The host's own directory: its home, its bin, its repository.
    pub dir: tempfile::TempDir,
    pub address: String,
    namespace: String,
    veth: String,
    claim: PathBuf,
    sshd: Option<Child>,
    host_key_line: String,
}

impl TestHost {
    /// A host named `name`, reachable with `key`.
    pub fn start(name: &str, key: &UserKey) -> TestHost {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let id = format!("{:x}{n}", std::process::id() % 0x10_0000);
        let (block, claim) = claim_subnet();
        let prefix = format!("10.77.{}.{}", block / 64, (block % 64) * 4);
        let base: Vec<u32> = prefix
            .split('.')
            .map(|p| p.parse().expect("octet"))
            .collect();
        let ours = format!("10.77.{}.{}", base[2], base[3] + 1);
        let theirs = format!("10.77.{}.{}", base[2], base[3] + 2);
        let namespace = format!("sbtest-{id}");
        let veth = format!("sb{id}a");
        let peer = format!("sb{id}b");
        let dir = tempfile::tempdir().expect("host dir");
        let mut host = TestHost {
            name: name.to_string(),
            dir,
            address: theirs.clone(),
            namespace: namespace.clone(),
            veth: veth.clone(),
            claim,
            sshd: None,
            host_key_line: String::new(),
        };
        ip(&["netns", "add", &namespace]);
        ip(&["link", "add", &veth, "type", "veth", "peer", "name", &peer]);
        ip(&["link", "set", &peer, "netns", &namespace]);
        ip(&["addr", "add", &format!("{ours}/30"), "dev", &veth]);
        ip(&["link", "set", &veth, "up"]);
        in_ns(
            &namespace,
            &["ip", "addr", "add", &format!("{theirs}/30"), "dev", &peer],
        );
        in_ns(&namespace, &["ip", "link", "set", &peer, "up"]);
        in_ns(&namespace, &["ip", "link", "set", "lo", "up"]);

        let d = host.dir.path().to_path_buf();
        for sub in ["home", "bin", "etc"] {
            std::fs::create_dir_all(d.join(sub)).expect("mkdir");
        }
        keygen(&d.join("etc/host_key"));
        let public = std::fs::read_to_string(d.join("etc/host_key.pub")).expect("host key");
        let mut words = public.split_whitespace();
        host.host_key_line = format!(
            "{theirs} {} {}\n",
            words.next().expect("type"),
            words.next().expect("key")
        );
        let path = format!("{}:/usr/local/bin:/usr/bin:/bin", d.join("bin").display());
        std::fs::write(
            d.join("etc/authorized_keys"),
            format!(
                "environment=\"HOME={}\",environment=\"PATH={path}\",environment=\"SB_TEST_HOST={name}\" {}",
                d.join("home").display(),
                key.public()
            ),
        )
        .expect("authorized_keys");
        std::fs::write(
            d.join("etc/sshd_config"),
            format!(
                "ListenAddress {theirs}\nPort 22\nHostKey {hk}\nPidFile {pid}\n\
                 AuthorizedKeysFile {ak}\nPasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
                 PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n\
                 PermitUserEnvironment yes\nAllowStreamLocalForwarding yes\n\
                 StreamLocalBindUnlink yes\nX11Forwarding no\nMaxSessions 100\n\
                 MaxStartups 100\nLogLevel ERROR\n",
                hk = d.join("etc/host_key").display(),
                pid = d.join("etc/sshd.pid").display(),
                ak = d.join("etc/authorized_keys").display(),
            ),
        )
        .expect("sshd_config");
        std::fs::create_dir_all("/run/sshd").expect("privilege separation dir");
        let sshd = Command::new("ip")
            .args(["netns", "exec", &namespace, SSHD, "-D", "-e", "-f"])
            .arg(d.join("etc/sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("etc/sshd.log")).expect("log"))
            .spawn()
            .expect("sshd");
        host.sshd = Some(sshd);
        host.wait_listening();
        host
    }

    fn wait_listening(&self) {
        let addr: SocketAddr = format!("{}:22", self.address).parse().expect("address");
        super::wait_until(
            Duration::from_secs(10),
            Duration::from_millis(50),
            || TcpStream::connect_timeout(&addr, Duration::from_millis(200)),
            |_| {
                format!(
                    "sshd of {} did not listen: {}",
                    self.name,
                    std::fs::read_to_string(self.dir.path().join("etc/sshd.log"))
                        .unwrap_or_default()
                )
            },
        );
    }

    /// The host's line for a known_hosts file (its key, pinned).
    pub fn known_hosts_line(&self) -> &str {
        &self.host_key_line
    }

    /// The host's `[hosts.NAME]` address.
    pub fn address_text(&self) -> String {
        format!("root@{}:22", self.address)
    }

    pub fn destination(&self) -> HostAddress {
        HostAddress::parse(&self.address_text()).expect("address")
    }

    /// The host's `HOME` as its logins see it.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// The directory on the host's `PATH`.
    pub fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    /// Puts the switchboard binary on the host's PATH (what the README's
    /// install does with scp).
    pub fn install_switchboard(&self, binary: &Path) {
        let to = self.bin().join("switchboard");
        std::fs::copy(binary, &to).expect("copy switchboard");
    }

    /// Sets the `PATH` of the host's logins from now on (a master
    /// connection already up keeps the one it logged in with).
    pub fn set_login_path(&self, path: &str) {
        let file = self.dir.path().join("etc/authorized_keys");
        let text = std::fs::read_to_string(&file).expect("authorized_keys");
        let start = text.find("environment=\"PATH=").expect("a PATH") + "environment=\"PATH=".len();
        let end = start + text[start..].find('"').expect("its end");
        let text = format!("{}{path}{}", &text[..start], &text[end..]);
        std::fs::write(&file, text).expect("authorized_keys");
    }

    /// A git repository with one commit on `main`, at a path of this host.
    pub fn repo(&self, name: &str) -> PathBuf {
        let path = self.home().join(name);
        std::fs::create_dir_all(&path).expect("mkdir");
        super::git(&path, &["init", "-q", "-b", "main"]);
        std::fs::write(
            path.join("README.md"),
            format!("# {name} on {}\n", self.name),
        )
        .expect("write");
        super::git(&path, &["add", "."]);
        super::git(&path, &["commit", "-q", "-m", "first"]);
        path
    }

    /// An SSH connection of `home` to this host, logging in with `key`,
    /// the host's key as pinned in the home.
    pub fn ssh(&self, home: &Home, key: &UserKey) -> Ssh {
        Ssh::new(
            home,
            self.destination(),
            Some(key.private()),
            KeyPolicy::Pinned,
        )
        .expect("ssh")
    }

    /// This host's tmux server as the engine of `home` sees it.
    pub fn tmux_server(&self, home: &Home, key: &UserKey) -> TmuxServer {
        TmuxServer::on_host(RemoteTmux::new(home, &self.name, self.ssh(home, key), 2000))
    }

    /// Cuts the link (this side of the veth pair goes down).
    pub fn link_down(&self) {
        ip(&["link", "set", &self.veth, "down"]);
    }

    /// Brings the link back.
    pub fn link_up(&self) {
        ip(&["link", "set", &self.veth, "up"]);
        self.wait_listening();
    }

    /// The namespace's processes.
    pub fn pids(&self) -> Vec<u32> {
        let out = Command::new("ip")
            .args(["netns", "pids", &self.namespace])
            .output()
            .expect("ip netns pids");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }

    /// The namespace this host's processes live in (`net:[…]`).
    pub fn net_namespace(&self) -> String {
        let pid = self.sshd.as_ref().expect("sshd").id();
        // `ip netns exec` execs sshd in place: same pid.
        net_namespace_of(pid).expect("sshd's namespace")
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        if let Some(mut sshd) = self.sshd.take() {
            let _ = sshd.kill();
            let _ = sshd.wait();
        }
        for pid in self.pids() {
            // SAFETY: kill(2) of processes in the test's own namespace.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.namespace])
            .status();
        let _ = Command::new("ip")
            .args(["link", "del", &self.veth])
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_file(&self.claim);
    }
}

/// A sandbox home with `config` and every one of `hosts` added (logging
/// in with `key`, the switchboard binary installed on it), their host keys
/// pinned in the home's known_hosts. Projects are the caller's: see
/// [`project_on`].
pub fn home_on_hosts(config: &str, hosts: &[TestHost], key: &UserKey) -> Sandbox {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.home().join("ssh")).expect("home");
    std::fs::write(sb.home().join("config.toml"), config).expect("config");
    let pinned: String = hosts.iter().map(|h| h.known_hosts_line()).collect();
    // Pinned first: `host add` contacts the host and refuses a key it
    // does not know.
    std::fs::write(sb.home().join("ssh/known_hosts"), pinned).expect("pin");
    for host in hosts {
        host.install_switchboard(Path::new(BIN));
        sb.run(&[
            "host",
            "add",
            &host.name,
            &host.address_text(),
            "--identity",
            key.private().to_str().expect("utf-8"),
        ])
        .ok();
    }
    sb
}

/// `project add NAME REPO --host HOST --agent AGENT` on `sb`.
pub fn project_on(sb: &Sandbox, name: &str, repo: &Path, host: &TestHost, agent: &str) -> Run {
    sb.run(&[
        "project",
        "add",
        name,
        repo.to_str().expect("utf-8"),
        "--host",
        &host.name,
        "--agent",
        agent,
    ])
}

/// The network namespace of process `pid`, e.g. `net:[4026532]`.
pub fn net_namespace_of(pid: u32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/ns/net"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// A /30 block of 10.77.0.0/16 no other live test process holds.
fn claim_subnet() -> (u32, PathBuf) {
    std::fs::create_dir_all(CLAIMS).expect("claims dir");
    let me = std::process::id();
    let start = (me.wrapping_mul(7919)) % 16000;
    for i in 0..16000 {
        let block = (start + i) % 16000;
        let file = Path::new(CLAIMS).join(block.to_string());
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&file)
        {
            Ok(mut f) => {
                use std::io::Write;
                let _ = write!(f, "{me}");
                return (block, file);
            }
            Err(_) => {
                let owner: Option<u32> = std::fs::read_to_string(&file)
                    .ok()
                    .and_then(|t| t.trim().parse().ok());
                let alive = owner.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
                if !alive && std::fs::remove_file(&file).is_ok() {
                    // Taken over from a test that died; claim it properly.
                    continue;
                }
            }
        }
    }
    panic!("no free test subnet");
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen");
    assert!(status.success(), "ssh-keygen");
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn in_ns(namespace: &str, args: &[&str]) {
    let mut all = vec!["netns", "exec", namespace];
    all.extend_from_slice(args);
    ip(&all);
}
