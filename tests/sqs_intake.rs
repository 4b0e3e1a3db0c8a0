//! The SQS intake of a real engine against a local SQS (moto's server,
//! installed by the test into `target/moto-venv`): every shape arrives as
//! one journaled message, the unreadable one lands in `rejected`, the
//! queue ends empty, and a message redelivered after the engine was killed
//! between journaling and deleting it makes no second job.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use common::Sandbox;
use common::engine::{EngineProcess, wait_secs};

/// moto's server, killed when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn venv() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/moto-venv")
}

/// Installs moto[server] once per test run; `None` (with the reason
/// printed) only where python3 is missing.
fn moto_installed() -> Option<PathBuf> {
    static INSTALLED: OnceLock<Option<PathBuf>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            if Command::new("python3").arg("--version").output().is_err() {
                eprintln!("SKIPPED: python3 is missing, so no local SQS (moto) can run; .ci/run installs it");
                return None;
            }
            let venv = venv();
            let server = venv.join("bin/moto_server");
            if !server.exists() {
                let made = Command::new("python3")
                    .args(["-m", "venv"])
                    .arg(&venv)
                    .status()
                    .expect("python3 -m venv");
                assert!(made.success(), "python3 -m venv failed (is python3-venv installed?)");
                let pip = Command::new(venv.join("bin/pip"))
                    .args(["install", "-q", "moto[server]"])
                    .status()
                    .expect("pip");
                assert!(pip.success(), "pip install moto[server] failed");
            }
            Some(server)
        })
        .clone()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start_moto() -> Option<Moto> {
    let server = moto_installed()?;
    let port = free_port();
    let child = Command::new(server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    wait_secs(60, "moto to listen", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    Some(moto)
}

/// Runs Python with boto3 (installed with moto) against `moto`: `sqs` is a
/// client, `url` the queue's URL; what the code prints is returned.
fn boto(moto: &Moto, code: &str) -> String {
    boto_with(moto, code, "")
}

/// As [`boto`], with `body` in the environment as `BODY`.
fn boto_with(moto: &Moto, code: &str, body: &str) -> String {
    let script = format!(
        "import boto3, os\nsqs = boto3.client('sqs', region_name='us-east-1', endpoint_url='{}')\nurl = sqs.create_queue(QueueName='switchboard', Attributes={{'VisibilityTimeout': '2'}})['QueueUrl']\n{code}\n",
        moto.endpoint
    );
    let out = Command::new(venv().join("bin/python"))
        .arg("-c")
        .arg(script)
        .envs(credentials())
        .env("BODY", body)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn credentials() -> [(&'static str, &'static str); 3] {
    [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ]
}

fn send(moto: &Moto, body: &[u8]) {
    send_all(moto, &[body]);
}

/// Sends `bodies` in order from one Python (each start of Python with
/// boto3 takes a second or more).
fn send_all(moto: &Moto, bodies: &[&[u8]]) {
    let texts: Vec<&str> = bodies
        .iter()
        .map(|b| std::str::from_utf8(b).expect("utf-8"))
        .collect();
    boto_with(
        moto,
        "import json\nfor body in json.loads(os.environ['BODY']):\n    sqs.send_message(QueueUrl=url, MessageBody=body)",
        &serde_json::to_string(&texts).expect("json"),
    );
}

/// Messages in the queue, visible or in flight.
fn in_queue(moto: &Moto) -> u64 {
    boto(
        moto,
        "a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=['All'])['Attributes']\nprint(int(a['ApproximateNumberOfMessages']) + int(a['ApproximateNumberOfMessagesNotVisible']))",
    )
    .parse()
    .expect("a count")
}

fn engine(sb: &Sandbox, moto: &Moto, hold: Option<&std::path::Path>) -> EngineProcess {
    engine_via(sb, moto, &moto.endpoint, hold)
}

/// The engine of `sb` polling `moto`'s queue through `endpoint`.
fn engine_via(
    sb: &Sandbox,
    moto: &Moto,
    endpoint: &str,
    hold: Option<&std::path::Path>,
) -> EngineProcess {
    std::fs::create_dir_all(sb.home()).expect("home");
    let url = boto(moto, "print(url)");
    std::fs::write(
        sb.home().join("config.toml"),
        format!(
            "[scheduler]\nactive_interval = \"200ms\"\nidle_interval = \"500ms\"\n\n[intake.sqs]\nqueue_url = \"{url}\"\nregion = \"us-east-1\"\nendpoint_url = \"{}\"\nwait = \"1s\"\n",
            endpoint
        ),
    )
    .expect("config");
    let mut cmd = sb.cmd(&["run", "--headless"]);
    cmd.envs(credentials())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(hold) = hold {
        cmd.env(switchboard::net::sqs::HOLD_BEFORE_DELETE, hold);
    }
    EngineProcess {
        child: cmd.spawn().expect("start the engine"),
        home: sb.home(),
    }
}

fn count(sb: &Sandbox, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(sb.home().join("journal.db")).expect("db");
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or(-1)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/intake/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

#[test]
fn every_shape_from_the_queue_is_journaled_once_and_deleted() {
    let Some(moto) = start_moto() else { return };
    let sb = Sandbox::new();
    send_all(
        &moto,
        &[
            &fixture("cloudwatch_sns_envelope.json"),
            &fixture("cloudwatch_sns_body.json"),
            &fixture("cloudwatch_eventbridge.json"),
            &fixture("jira_issue_created.json"),
            b"{\"AlarmName\": \"half an alarm\"",
        ],
    );
    let _engine = engine(&sb, &moto, None);
    wait_secs(60, "five messages journaled", || {
        count(&sb, "SELECT COUNT(*) FROM deliveries WHERE id LIKE 'sqs:%'") == 5
    });
    // The SNS envelope inside one is known by its own MessageId too, so
    // SNS delivering it again (in another SQS message) adds nothing.
    assert_eq!(
        count(
            &sb,
            "SELECT COUNT(*) FROM deliveries WHERE id = 'sns:a1b2c3d4-5678-90ab-cdef-111111111111'"
        ),
        1
    );
    wait_secs(30, "the queue to empty", || in_queue(&moto) == 0);
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM alarms"), 3);
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM tickets"), 1);
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM rejected"), 1);
    assert_eq!(
        count(
            &sb,
            "SELECT COUNT(*) FROM rejected WHERE source LIKE 'SQS message %' AND reason <> ''"
        ),
        1
    );
    // Nothing comes twice, however long it runs.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM alarms"), 3);
    let status = std::fs::read_to_string(sb.home().join("intake.status")).expect("status");
    assert!(status.contains("polling"), "{status}");
}

#[test]
#[cfg(debug_assertions)]
fn a_message_redelivered_after_a_kill_makes_no_second_job() {
    let Some(moto) = start_moto() else { return };
    let sb = Sandbox::new();
    send(
        &moto,
        br#"{"type":"task","prompt":"journaled, then the engine died"}"#,
    );
    let hold = sb.dir.path().join("held");
    let first = engine(&sb, &moto, Some(&hold));
    wait_secs(60, "the message journaled and held before delete", || {
        hold.exists()
    });
    first.crash();
    let jobs = "SELECT COUNT(*) FROM jobs WHERE prompt = 'journaled, then the engine died'";
    assert_eq!(count(&sb, jobs), 1);
    assert_eq!(
        in_queue(&moto),
        1,
        "the message was deleted before the kill"
    );

    let _second = engine(&sb, &moto, None);
    wait_secs(60, "the redelivered message deleted", || {
        in_queue(&moto) == 0
    });
    assert_eq!(count(&sb, jobs), 1);

    // `jobs ID` says which SQS message the job came from.
    let id = count(&sb, "SELECT id FROM jobs").to_string();
    let shown = sb.run(&["jobs", &id]);
    assert!(
        shown.ok().contains("task journaled from SQS message "),
        "{}",
        shown.stdout
    );
}

/// A relay to `moto` on 127.0.0.1 that writes `to` over every `from` (of
/// the same length) in moto's answers: what no SQS client can send (moto
/// itself refuses it) reaches the engine as if the queue had sent it.
fn relay(moto: &Moto, from: &'static [u8], to: &'static [u8]) -> String {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    assert_eq!(from.len(), to.len(), "the answer keeps its length");
    let upstream = moto.endpoint.trim_start_matches("http://").to_string();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let Ok(server) = TcpStream::connect(&upstream) else {
                return;
            };
            let (mut c_in, mut s_out) = (
                client.try_clone().expect("clone"),
                server.try_clone().expect("clone"),
            );
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_in, &mut s_out);
            });
            let (mut s_in, mut c_out) = (server, client);
            std::thread::spawn(move || {
                // Carried over: a `from` cut in two by the reads.
                let mut pending: Vec<u8> = Vec::new();
                let mut buf = [0u8; 16 * 1024];
                loop {
                    let n = match s_in.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&buf[..n]);
                    let mut i = 0;
                    while i + from.len() <= pending.len() {
                        if &pending[i..i + from.len()] == from {
                            pending[i..i + from.len()].copy_from_slice(to);
                            i += from.len();
                        } else {
                            i += 1;
                        }
                    }
                    let keep = (from.len() - 1).min(pending.len());
                    let out = pending.len() - keep;
                    if c_out.write_all(&pending[..out]).is_err() {
                        break;
                    }
                    pending.drain(..out);
                    // A short answer waits for nothing more: flush what is
                    // left when the upstream has nothing more to give now.
                    if n < buf.len() && c_out.write_all(&pending).is_ok() {
                        pending.clear();
                    }
                }
                let _ = c_out.write_all(&pending);
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// One message of a batch whose body cannot be text (an unpaired UTF-16
/// surrogate escape) is journaled as rejected and deleted; the others of
/// its batch are journaled; nothing is received again.
#[test]
fn a_message_that_cannot_be_text_is_rejected_and_its_batch_taken() {
    let Some(moto) = start_moto() else { return };
    let sb = Sandbox::new();
    send_all(
        &moto,
        &[
            br#"{"type":"task","prompt":"before the bad one"}"#,
            br#"{"type":"task","prompt":"QQQQQQ cannot be text"}"#,
            br#"{"type":"task","prompt":"after the bad one"}"#,
        ],
    );
    let endpoint = relay(&moto, b"QQQQQQ", br"\ud800");
    let _engine = engine_via(&sb, &moto, &endpoint, None);
    wait_secs(60, "the bad message journaled as rejected", || {
        count(&sb, "SELECT COUNT(*) FROM rejected") == 1
    });
    wait_secs(60, "the good ones journaled", || {
        count(&sb, "SELECT COUNT(*) FROM jobs") == 2
    });
    wait_secs(30, "the queue to empty", || in_queue(&moto) == 0);
    let reason: String = rusqlite::Connection::open(sb.home().join("journal.db"))
        .expect("db")
        .query_row("SELECT reason FROM rejected", [], |r| r.get(0))
        .expect("a reason");
    assert!(reason.contains("surrogate"), "{reason}");
    // Nothing comes back: no second rejection, no more jobs.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM rejected"), 1);
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM jobs"), 2);
}
