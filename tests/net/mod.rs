//! Shared by the network intake tests: an engine listening on a port it
//! chose, and a plain HTTP/1.1 client over a TcpStream (so the tests see
//! exactly what goes over the wire).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::time::Duration;

use crate::common::Sandbox;
use crate::common::engine::{EngineProcess, wait_secs};

/// Starts `run --headless --listen 127.0.0.1:0` with `config`; returns the
/// engine and the address it listens on (from its intake status file).
pub fn listening(sb: &Sandbox, config: &str) -> (EngineProcess, SocketAddr) {
    std::fs::create_dir_all(sb.home()).expect("home");
    std::fs::write(sb.home().join("config.toml"), config).expect("config");
    let child = sb
        .cmd(&["run", "--headless", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the engine");
    let engine = EngineProcess {
        child,
        home: sb.home(),
    };
    let status = sb.home().join("intake.status");
    let mut addr = None;
    wait_secs(20, "the engine to listen", || {
        addr = std::fs::read_to_string(&status).ok().and_then(|text| {
            let start = text.find("listening on ")? + "listening on ".len();
            let rest = &text[start..];
            let end = rest.find(['"', ';'])?;
            rest[..end].parse().ok()
        });
        addr.is_some()
    });
    (engine, addr.expect("address"))
}

/// An answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One request on its own connection.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write head");
    // A server may answer (413) before taking a large body.
    let _ = stream.write_all(body);
    read_answer(&mut stream)
}

pub fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Answer { status, body }
}

pub fn post(addr: SocketAddr, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Answer {
    request(addr, "POST", path, headers, body)
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/intake/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}
