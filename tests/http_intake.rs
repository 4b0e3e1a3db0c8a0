//! The HTTP intake of a real engine (`run --headless --listen`), with a
//! real client on loopback: every endpoint's success and refusals, Jira and
//! SNS signatures, many posts at once, a slow client, and a kill right
//! after a 202.

mod common;
mod net;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::Sandbox;
use common::engine::wait_secs;
use net::{fixture, listening, post, request};

const TOKEN: &str = "s3cret-token";

fn config(extra: &str) -> String {
    format!(
        "[scheduler]\nactive_interval = \"200ms\"\nidle_interval = \"500ms\"\n\n[intake.http]\ntoken = \"{TOKEN}\"\nmax_body = \"64KiB\"\nread_timeout = \"1s\"\n{extra}"
    )
}

fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

fn count(sb: &Sandbox, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(sb.home().join("journal.db")).expect("db");
    conn.query_row(sql, [], |r| r.get(0)).expect("count")
}

#[test]
fn messages_are_taken_with_the_token_and_refused_without() {
    let sb = Sandbox::new();
    let (_engine, addr) = listening(&sb, &config(""));
    let task = br#"{"type":"task","prompt":"fix the flaky test"}"#;

    assert_eq!(post(addr, "/messages", &[], task).status, 401);
    let wrong = post(addr, "/messages", &[("Authorization", "Bearer nope")], task);
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("wrong bearer token"), "{}", wrong.body);

    // JSON lines: a task, a raw CloudWatch alarm, a line that is not JSON.
    let alarm = String::from_utf8(fixture("cloudwatch_sns_body.json")).unwrap();
    let alarm_line: serde_json::Value = serde_json::from_str(&alarm).unwrap();
    let body = format!(
        "{}\nnot json at all\n{}\n",
        String::from_utf8_lossy(task),
        alarm_line
    );
    let auth = bearer();
    let answer = post(
        addr,
        "/messages",
        &[("Authorization", &auth)],
        body.as_bytes(),
    );
    assert_eq!(answer.status, 202, "{}", answer.body);
    let json = answer.json();
    assert_eq!(json["accepted"], 2);
    assert_eq!(json["rejected"][0]["line"], 2);
    assert!(
        json["rejected"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("JSON")
    );
    let job = json["jobs"][0].as_i64().expect("a job");
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM alarms"), 1);
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM rejected"), 1);

    // `jobs ID` says where the job came from.
    let shown = sb.run(&["jobs", &job.to_string()]);
    assert!(
        shown.ok().contains("HTTP POST /messages from 127.0.0.1"),
        "{}",
        shown.stdout
    );

    // Nothing readable: 400 with the reasons, nothing journaled.
    let bad = post(
        addr,
        "/messages",
        &[("Authorization", &auth)],
        b"{\"type\":\"nonsense\"}",
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.json()["rejected"][0]["reason"].is_string());

    // Over the size limit.
    let big = vec![b'x'; 100 * 1024];
    assert_eq!(
        post(addr, "/messages", &[("Authorization", &auth)], &big).status,
        413
    );

    // Unknown endpoint and method.
    assert_eq!(request(addr, "GET", "/nope", &[], b"").status, 404);
    assert_eq!(request(addr, "GET", "/messages", &[], b"").status, 405);

    let health = request(addr, "GET", "/health", &[], b"");
    assert_eq!(health.status, 200, "{}", health.body);
    let health = health.json();
    assert_eq!(health["journal"], "ok");
    assert_eq!(health["engine"], "running");
    assert!(health["queued"].is_u64());
    assert!(
        health["intakes"][0]
            .as_str()
            .unwrap()
            .contains("listening on")
    );

    // `doctor` shows the intake, with its last message.
    wait_secs(5, "the intake status written", || {
        std::fs::read_to_string(sb.home().join("intake.status"))
            .is_ok_and(|s| s.contains("last_message\":\"20"))
    });
    let doctor = sb.run(&["doctor"]);
    let line = doctor
        .stdout
        .lines()
        .find(|l| l.contains("http intake"))
        .unwrap_or_else(|| panic!("{}", doctor.stdout));
    assert!(
        line.contains(&format!("http intake listening on {addr}; last message 20")),
        "{line}"
    );
}

#[test]
fn an_sns_envelope_posted_twice_is_journaled_once() {
    let sb = Sandbox::new();
    let (_engine, addr) = listening(&sb, &config(""));
    let auth = bearer();
    let envelope = fixture("cloudwatch_sns_eventbridge.json");
    let first = post(addr, "/messages", &[("Authorization", &auth)], &envelope);
    assert_eq!(first.status, 202, "{}", first.body);
    assert_eq!(first.json()["accepted"], 1);
    let again = post(addr, "/messages", &[("Authorization", &auth)], &envelope);
    assert_eq!(again.status, 202, "{}", again.body);
    assert_eq!(again.json()["duplicate"], true);
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM alarms"), 1);
}

#[test]
fn jira_webhooks_are_checked_against_the_secret() {
    let sb = Sandbox::new();
    let (_engine, addr) = listening(&sb, &config("[intake.jira]\nsecret = \"jira-key\"\n"));
    let hook = fixture("jira_issue_created.json");
    let right = format!("sha256={}", switchboard::net::jira_sign("jira-key", &hook));
    let wrong = format!("sha256={}", switchboard::net::jira_sign("other-key", &hook));

    let answer = post(addr, "/jira", &[("X-Hub-Signature", &right)], &hook);
    assert_eq!(answer.status, 202, "{}", answer.body);
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM tickets"), 1);

    assert_eq!(
        post(addr, "/jira", &[("X-Hub-Signature", &wrong)], &hook).status,
        401
    );
    assert_eq!(post(addr, "/jira", &[], &hook).status, 401);
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM messages"), 1);

    // Signed, but not a Jira webhook.
    let task = br#"{"type":"task","prompt":"x"}"#;
    let signed = format!("sha256={}", switchboard::net::jira_sign("jira-key", task));
    assert_eq!(
        post(addr, "/jira", &[("X-Hub-Signature", &signed)], task).status,
        400
    );
}

/// A key and a self-signed certificate made with the openssl CLI.
fn certificate(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = dir.join("sns-key.pem");
    let cert = dir.join("sns-cert.pem");
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        ])
        .arg("/CN=sns.us-east-1.amazonaws.com")
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (key, cert)
}

/// Signs `message` as SNS does (version 1: SHA1, 2: SHA256) with `key`.
fn sign(dir: &Path, key: &Path, message: &mut serde_json::Value, version: &str) {
    message["SignatureVersion"] = version.into();
    let map = message.as_object().unwrap().clone();
    let text = switchboard::net::sns_signature::string_to_sign(&map).unwrap();
    let file = dir.join("to-sign.txt");
    std::fs::write(&file, text).unwrap();
    let digest = if version == "1" { "-sha1" } else { "-sha256" };
    let out = Command::new("openssl")
        .args(["dgst", digest, "-sign"])
        .arg(key)
        .arg(&file)
        .output()
        .expect("openssl");
    assert!(out.status.success());
    use base64::Engine as _;
    message["Signature"] = base64::engine::general_purpose::STANDARD
        .encode(out.stdout)
        .into();
}

fn sns_notification(id: &str) -> serde_json::Value {
    let mut message: serde_json::Value =
        serde_json::from_slice(&fixture("cloudwatch_sns_envelope.json")).unwrap();
    message["MessageId"] = id.into();
    message["TopicArn"] = "arn:aws:sns:us-east-1:123456789012:alarms".into();
    message
}

#[test]
fn sns_deliveries_are_verified_against_a_trusted_certificate() {
    let sb = Sandbox::new();
    let (key, cert) = certificate(sb.dir.path());
    let extra = format!(
        "[intake.sns]\ntopics = [\"arn:aws:sns:us-east-1:123456789012:alarms\"]\nconfirm = false\ncertificates = [\"{}\"]\n",
        cert.display()
    );
    let (_engine, addr) = listening(&sb, &config(&extra));
    let dir = sb.dir.path();

    for (n, version) in ["1", "2"].iter().enumerate() {
        let mut message = sns_notification(&format!("id-{n}"));
        sign(dir, &key, &mut message, version);
        let body = serde_json::to_vec(&message).unwrap();
        let answer = post(
            addr,
            "/sns",
            &[("x-amz-sns-message-type", "Notification")],
            &body,
        );
        assert_eq!(answer.status, 202, "version {version}: {}", answer.body);
        // SNS retries with the same MessageId: journaled once.
        let again = post(addr, "/sns", &[], &body);
        assert_eq!(again.status, 202, "{}", again.body);
    }
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM alarms"), 2);

    // A changed message under the old signature.
    let mut forged = sns_notification("id-forged");
    sign(dir, &key, &mut forged, "2");
    forged["Message"] = forged["Message"]
        .as_str()
        .unwrap()
        .replace("\"OK\"", "\"ALARM\"")
        .into();
    let answer = post(addr, "/sns", &[], &serde_json::to_vec(&forged).unwrap());
    assert_eq!(answer.status, 403, "{}", answer.body);

    // Signed, but from a topic not taken.
    let mut other = sns_notification("id-other");
    other["TopicArn"] = "arn:aws:sns:us-east-1:123456789012:elsewhere".into();
    sign(dir, &key, &mut other, "2");
    let answer = post(addr, "/sns", &[], &serde_json::to_vec(&other).unwrap());
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM alarms"), 2);

    // A subscription, with confirm = false: journaled for the operator.
    let mut subscribe = serde_json::json!({
        "Type": "SubscriptionConfirmation",
        "MessageId": "sub-1",
        "Token": "2336412f37",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:alarms",
        "Message": "You have chosen to subscribe to the topic arn:aws:sns:us-east-1:123456789012:alarms.",
        "SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-1:123456789012:alarms&Token=2336412f37",
        "Timestamp": "2026-11-22T07:00:00.000Z",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem"
    });
    sign(dir, &key, &mut subscribe, "2");
    let answer = post(addr, "/sns", &[], &serde_json::to_vec(&subscribe).unwrap());
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        count(
            &sb,
            "SELECT COUNT(*) FROM events WHERE message LIKE '%confirm by opening https://sns.us-east-1%'"
        ),
        1
    );

    // An unsubscription is journaled for the operator.
    let mut unsubscribe = subscribe.clone();
    unsubscribe["Type"] = "UnsubscribeConfirmation".into();
    unsubscribe["MessageId"] = "unsub-1".into();
    sign(dir, &key, &mut unsubscribe, "2");
    let answer = post(
        addr,
        "/sns",
        &[],
        &serde_json::to_vec(&unsubscribe).unwrap(),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        count(
            &sb,
            "SELECT COUNT(*) FROM events WHERE message LIKE 'SNS unsubscribed this endpoint%'"
        ),
        1
    );
}

#[test]
fn a_subscription_is_confirmed_by_fetching_its_url() {
    let sb = Sandbox::new();
    let (key, cert) = certificate(sb.dir.path());
    let extra = format!(
        "[intake.sns]\nconfirm = true\ncertificates = [\"{}\"]\n",
        cert.display()
    );
    let (_engine, addr) = listening(&sb, &config(&extra));
    // A stand-in for SNS's confirmation URL.
    let sns = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/?Action=ConfirmSubscription&Token=t1",
        sns.local_addr().unwrap()
    );
    let server = std::thread::spawn(move || {
        let (mut stream, _) = sns.accept().unwrap();
        let mut buf = [0u8; 4096];
        let n = std::io::Read::read(&mut stream, &mut buf).unwrap();
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    let mut subscribe = serde_json::json!({
        "Type": "SubscriptionConfirmation",
        "MessageId": "sub-2",
        "Token": "t1",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:alarms",
        "Message": "You have chosen to subscribe.",
        "SubscribeURL": url,
        "Timestamp": "2026-11-22T07:00:00.000Z",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem"
    });
    sign(sb.dir.path(), &key, &mut subscribe, "1");
    let answer = post(addr, "/sns", &[], &serde_json::to_vec(&subscribe).unwrap());
    assert_eq!(answer.status, 200, "{}", answer.body);
    let seen = server.join().unwrap();
    assert!(
        seen.starts_with("GET /?Action=ConfirmSubscription&Token=t1 "),
        "{seen}"
    );
}

#[test]
fn a_thousand_concurrent_posts_each_become_a_job() {
    let sb = Sandbox::new();
    let (_engine, addr) = listening(&sb, &config(""));
    let auth = bearer();
    let threads: Vec<_> = (0..1000)
        .map(|i| {
            let auth = auth.clone();
            std::thread::spawn(move || {
                let body = format!(r#"{{"type":"task","prompt":"job number {i}"}}"#);
                post(
                    addr,
                    "/messages",
                    &[("Authorization", &auth)],
                    body.as_bytes(),
                )
            })
        })
        .collect();
    let mut jobs = std::collections::HashSet::new();
    let answers: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let failed = answers.iter().filter(|a| a.status != 202).count();
    if failed > 0 {
        let log =
            std::fs::read_to_string(sb.home().join("logs/switchboard.log")).unwrap_or_default();
        let tail: String = log
            .lines()
            .filter(|l| l.contains("intake"))
            .take(20)
            .collect::<Vec<_>>()
            .join("\n");
        panic!(
            "{failed} of 1000 not accepted, e.g. {:?}\n{tail}",
            answers.iter().find(|a| a.status != 202)
        );
    }
    for answer in answers {
        jobs.insert(answer.json()["jobs"][0].as_i64().unwrap());
    }
    assert_eq!(jobs.len(), 1000);
    assert_eq!(count(&sb, "SELECT COUNT(*) FROM jobs"), 1000);
}

#[test]
fn a_slow_client_is_cut_off_and_others_are_served() {
    let sb = Sandbox::new();
    let (_engine, addr) = listening(&sb, &config(""));
    // Headers that never end.
    let mut slow_head = TcpStream::connect(addr).unwrap();
    slow_head
        .write_all(b"POST /messages HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // A body that never comes.
    let mut slow_body = TcpStream::connect(addr).unwrap();
    let auth = bearer();
    slow_body
        .write_all(
            format!("POST /messages HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\nContent-Length: 100\r\n\r\n{{").as_bytes(),
        )
        .unwrap();
    // Meanwhile others are served.
    let task = br#"{"type":"task","prompt":"quick"}"#;
    assert_eq!(
        post(addr, "/messages", &[("Authorization", &auth)], task).status,
        202
    );
    slow_body
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let answer = net::read_answer(&mut slow_body);
    assert_eq!(answer.status, 408, "{answer:?}");
    slow_head
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let _ = std::io::Read::read_to_end(&mut slow_head, &mut rest);
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "the slow client was never cut off"
    );
}

#[test]
fn a_202_means_the_message_survives_a_kill() {
    let sb = Sandbox::new();
    let (engine, addr) = listening(&sb, &config(""));
    let auth = bearer();
    let answer = post(
        addr,
        "/messages",
        &[("Authorization", &auth)],
        br#"{"type":"task","prompt":"durable before acknowledged"}"#,
    );
    assert_eq!(answer.status, 202);
    engine.crash();
    let job = answer.json()["jobs"][0].as_i64().unwrap();
    assert_eq!(
        count(
            &sb,
            &format!(
                "SELECT COUNT(*) FROM jobs WHERE id = {job} AND prompt = 'durable before acknowledged'"
            )
        ),
        1
    );
}

#[test]
fn beyond_loopback_without_a_token_it_refuses_to_listen() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.home()).unwrap();
    let run = sb.run(&["run", "--headless", "--listen", "0.0.0.0:0"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("without a token"), "{}", run.stderr);
}
