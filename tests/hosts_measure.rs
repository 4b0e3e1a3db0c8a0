//! Figures for the README's hosts table, measured over real sshd servers
//! in network namespaces (tests/common/hosts.rs). Ignored: run with
//!
//! ```sh
//! cargo test --release --test hosts_measure -- --ignored --nocapture --test-threads 1
//! ```
//!
//! The namespaces are joined by veth pairs: the network adds next to no
//! latency, so each figure is printed with the round trips it is made of.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::engine::{start_engine, wait_secs};
use common::hosts::{TestHost, UserKey, home_on_hosts, project_on};
use common::terminal::cpu_seconds;

use switchboard::home::Home;
use switchboard::remote::commands;
use switchboard::runtime::{ControlClient, RemoteTmux, SpawnSpec, TmuxServer};

const PANES: usize = 20;

fn p50(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn timed(n: usize, mut f: impl FnMut()) -> Duration {
    f();
    p50((0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect())
}

/// The pids of processes whose command line holds `needle`.
fn pids_with(needle: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("proc").flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(needle) {
            pids.push(pid);
        }
    }
    pids
}

fn spawn_all(server: &TmuxServer, cwd: &Path, argv: &[&str]) -> Vec<String> {
    let names: Vec<String> = (1..=PANES).map(|n| format!("sb-{n}-1")).collect();
    for name in &names {
        server
            .spawn(&SpawnSpec {
                name: name.clone(),
                cwd: cwd.to_path_buf(),
                argv: argv.iter().map(|s| s.to_string()).collect(),
                env: vec![],
            })
            .expect("spawn");
    }
    names
}

#[test]
#[ignore]
fn measure_capture_and_nudge_remote_against_local() {
    need_test_hosts!();
    let key = UserKey::new();
    let host = TestHost::start("m1", &key);
    let dir = tempfile::tempdir().expect("temp");
    let home = Home::at(dir.path().join("home"));
    home.ensure().expect("home");
    std::fs::create_dir_all(home.root().join("ssh")).expect("ssh");
    std::fs::write(home.root().join("ssh/known_hosts"), host.known_hosts_line()).expect("pin");
    let ssh = host.ssh(&home, &key);
    let local = TmuxServer::for_home(&home, 2000).expect("local");
    let remote = TmuxServer::on_host(RemoteTmux::new(&home, "m1", ssh.clone(), 2000));
    let cwd = host.home();
    let quiet = ["sh", "-c", "seq 1 40; sleep 3600"];
    let local_names = spawn_all(&local, &cwd, &quiet);
    let remote_names = spawn_all(&remote, &cwd, &quiet);
    let lc = ControlClient::new(local.clone());
    let rc = ControlClient::new(remote.clone());
    let refs = |v: &[String]| v.iter().map(String::to_string).collect::<Vec<_>>();
    let (ln, rn) = (refs(&local_names), refs(&remote_names));
    let lrefs: Vec<&str> = ln.iter().map(String::as_str).collect();
    let rrefs: Vec<&str> = rn.iter().map(String::as_str).collect();

    let ssh_rtt = timed(50, || {
        ssh.run(&commands::home_dir()).expect("printenv");
    });
    let noop = vec![vec!["display-message".to_string(), "-p".into(), "x".into()]];
    let local_noop = timed(200, || {
        lc.commands(&noop).expect("noop");
    });
    let remote_noop = timed(200, || {
        rc.commands(&noop).expect("noop");
    });
    let local_capture = timed(200, || {
        assert_eq!(lc.capture_many(&lrefs).expect("capture").len(), PANES);
    });
    let remote_capture = timed(200, || {
        assert_eq!(rc.capture_many(&rrefs).expect("capture").len(), PANES);
    });
    println!(
        "one command over the ssh master (a new ssh client process): p50 {}",
        ms(ssh_rtt)
    );
    println!(
        "one control-mode round trip: local p50 {}, remote p50 {}",
        ms(local_noop),
        ms(remote_noop)
    );
    println!(
        "capturing {PANES} panes in one refresh: local p50 {}, remote p50 {} ({:.2}x local + {} round trip)",
        ms(local_capture),
        ms(remote_capture),
        (remote_capture.as_secs_f64() - remote_noop.as_secs_f64()) / local_capture.as_secs_f64(),
        ms(remote_noop)
    );

    // Text sent until visible, as benches/runtime.rs measures it locally.
    let cat = ["sh", "-c", "stty -echo; cat"];
    for server in [&local, &remote] {
        server
            .spawn(&SpawnSpec {
                name: "sb-99-1".into(),
                cwd: cwd.clone(),
                argv: cat.iter().map(|s| s.to_string()).collect(),
                env: vec![],
            })
            .expect("cat");
    }
    std::thread::sleep(Duration::from_millis(300));
    let mut n = 0u64;
    let mut until_visible = |client: &ControlClient| {
        timed(100, || {
            n += 1;
            let marker = format!("marker-{n}");
            client.send_text("sb-99-1", &marker, Duration::ZERO, 0).ok();
            let deadline = Instant::now() + Duration::from_secs(5);
            while !client.capture_many(&["sb-99-1"]).expect("capture")[0].contains(&marker) {
                assert!(Instant::now() < deadline, "{marker} never showed");
            }
        })
    };
    let local_nudge = until_visible(&lc);
    let remote_nudge = until_visible(&rc);
    let host_tmux = remote.remote().expect("a remote server");
    let staging = timed(100, || {
        drop(host_tmux.stage_text(b"a nudge").expect("staged"));
    });
    println!(
        "text sent until visible (paste buffer, paste, Enter verified, capture): local p50 {}, remote p50 {} (remote - local {}; of it, staging the text in a slot file on the host: p50 {})",
        ms(local_nudge),
        ms(remote_nudge),
        ms(remote_nudge.saturating_sub(local_nudge)),
        ms(staging)
    );
    let _ = local.kill_server();
    let _ = remote.kill_server();
}

#[test]
#[ignore]
fn measure_engine_cpu_with_20_quiet_remote_agents() {
    need_test_hosts!();
    let key = UserKey::new();
    let hosts: Vec<TestHost> = ["q1", "q2"]
        .iter()
        .map(|n| TestHost::start(n, &key))
        .collect();
    let sb = home_on_hosts(
        "[scheduler]\nmax_agents = 20\n[agents.quiet]\ncommand = [\"{switchboard}\", \"demo-agent\", \"--hang\", \"{prompt}\"]\n",
        &hosts,
        &key,
    );
    for (i, host) in hosts.iter().enumerate() {
        for p in 0..10 {
            let name = format!("p{i}x{p}");
            let repo = host.repo(&name);
            project_on(&sb, &name, &repo, host, "quiet").ok();
            sb.run(&["dispatch", &name, "stay quiet"]).ok();
        }
    }
    let engine = start_engine(&sb);
    wait_secs(120, "20 agents running", || {
        sb.run(&["jobs", "--json"])
            .json()
            .as_array()
            .is_some_and(|jobs| jobs.iter().filter(|j| j["state"] == "running").count() == 20)
    });
    std::thread::sleep(Duration::from_secs(5));
    let pid = engine.child.id();
    let ssh_dir = sb.home().join("ssh").display().to_string();
    let ssh_pids = pids_with(&ssh_dir);
    let cpu = |pids: &[u32]| {
        pids.iter()
            .map(|p| cpu_seconds(&p.to_string()))
            .sum::<f64>()
    };
    let (engine0, ssh0) = (cpu(&[pid]), cpu(&ssh_pids));
    let secs = 30.0;
    std::thread::sleep(Duration::from_secs_f64(secs));
    let (engine1, ssh1) = (cpu(&[pid]), cpu(&ssh_pids));
    println!(
        "engine with 20 quiet agents on two hosts, {secs} s: engine {:.2}% of one core; its ssh clients and masters ({} processes) {:.2}%",
        (engine1 - engine0) / secs * 100.0,
        ssh_pids.len(),
        (ssh1 - ssh0) / secs * 100.0
    );
}
