//! A fake model API on 127.0.0.1 that the real Claude Code and Codex talk
//! to in tests: Anthropic's Messages API and OpenAI's Responses API, both
//! streamed as server-sent events, scripted per test.
//!
//! A request that offers tools is the agent's own turn and follows the
//! script; one without tools is a side request (Claude Code's and Codex's
//! title generation) and gets a short answer at once. Every step of the
//! script is written to a phase log with its time: the truth that the
//! status switchboard shows is measured against.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

/// One step of a scripted turn.
#[derive(Debug, Clone)]
pub enum Act {
    /// Stream text for this long (about ten words a second).
    Stream(Duration),
    /// Ask to run a shell command that needs the operator's approval
    /// (ends the response).
    AskTool,
    /// Answer with an HTTP 500 at once (the agents retry it).
    Fail,
    /// Accept the request and never answer.
    Hang,
}

/// What the agent's own turns do: `first` for a request without a tool
/// result, `after_tool` for the request that carries one.
#[derive(Debug, Clone)]
pub struct Script {
    pub first: Vec<Act>,
    pub after_tool: Vec<Act>,
    /// For requests without a tool result after the first (a resumed
    /// conversation); `first` again when `None`.
    pub later: Option<Vec<Act>>,
}

impl Script {
    /// Stream for `think`, ask to run a command, then stream the answer for
    /// `answer` and end the turn.
    pub fn ask(think: Duration, answer: Duration) -> Script {
        Script {
            first: vec![Act::Stream(think), Act::AskTool],
            after_tool: vec![Act::Stream(answer)],
            later: None,
        }
    }

    /// Stream for `for_` and end the turn.
    pub fn stream(for_: Duration) -> Script {
        Script {
            first: vec![Act::Stream(for_)],
            after_tool: vec![Act::Stream(Duration::from_millis(300))],
            later: None,
        }
    }

    /// Every turn of the agent's own fails with an HTTP 500 (retries
    /// too).
    pub fn fail() -> Script {
        Script {
            first: vec![Act::Fail],
            after_tool: vec![Act::Fail],
            later: Some(vec![Act::Fail]),
        }
    }

    /// Hang on the first request (the agent waits for the model until it
    /// is killed); stream for `then` on every later one.
    pub fn hang_then_stream(then: Duration) -> Script {
        Script {
            first: vec![Act::Hang],
            after_tool: vec![Act::Stream(then)],
            later: Some(vec![Act::Stream(then)]),
        }
    }
}

/// What the fake API was doing, for the truth of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// A turn's request arrived (the agent works).
    Request,
    /// The tool call went out: the agent asks until the next request.
    Asked,
    /// The turn ended (`end_turn`): the agent is back at its prompt.
    TurnEnded,
    /// The request was answered with an error.
    Failed,
    /// The request will never be answered.
    Hung,
    /// The test answered the agent's question (it works again).
    Answered,
}

/// The agent's status as the fake API knows it at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    Starting,
    Busy,
    Asking,
    Idle,
}

/// A running fake API; stops accepting when dropped.
pub struct FakeApi {
    pub port: u16,
    log: Arc<Mutex<Vec<(Instant, Phase)>>>,
    /// The same phases by the wall clock (to compare with the journal's
    /// times).
    wall: Arc<Mutex<Vec<(SystemTime, Phase)>>>,
    requests: Arc<Mutex<Vec<String>>>,
    /// The bodies of the agent's own turns, in order.
    turns: Arc<Mutex<Vec<String>>>,
}

impl FakeApi {
    pub fn start(script: Script) -> FakeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let wall = Arc::new(Mutex::new(Vec::new()));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let turns = Arc::new(Mutex::new(Vec::new()));
        let (l, w, r) = (Arc::clone(&log), Arc::clone(&wall), Arc::clone(&requests));
        let t = Arc::clone(&turns);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (l, w, r, t, s) = (
                    Arc::clone(&l),
                    Arc::clone(&w),
                    Arc::clone(&r),
                    Arc::clone(&t),
                    script.clone(),
                );
                std::thread::spawn(move || {
                    let logs = Logs {
                        log: &l,
                        wall: &w,
                        turns: &t,
                    };
                    let _ = serve(stream, &s, &logs, &r);
                });
            }
        });
        FakeApi {
            port,
            log,
            wall,
            requests,
            turns,
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The phases so far, with their times.
    pub fn phases(&self) -> Vec<(Instant, Phase)> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Every request line so far ("POST /v1/messages?beta=true").
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Logs a phase the test itself brought about.
    pub fn note(&self, phase: Phase) {
        Logs {
            log: &self.log,
            wall: &self.wall,
            turns: &self.turns,
        }
        .note(phase);
    }

    /// The bodies of the agent's own turns so far.
    pub fn turns(&self) -> Vec<String> {
        self.turns.lock().map(|t| t.clone()).unwrap_or_default()
    }

    /// The phases by the wall clock.
    pub fn wall_phases(&self) -> Vec<(SystemTime, Phase)> {
        self.wall.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The agent's status at `at`, from the phase log.
    pub fn truth_at(&self, at: Instant) -> Truth {
        truth(&self.phases(), at)
    }

    /// Waits until `phase` was logged `n` times.
    pub fn wait_for(&self, phase: Phase, n: usize, timeout: Duration) -> Option<Instant> {
        let until = Instant::now() + timeout;
        while Instant::now() < until {
            let seen: Vec<Instant> = self
                .phases()
                .into_iter()
                .filter(|(_, p)| *p == phase)
                .map(|(t, _)| t)
                .collect();
            if seen.len() >= n {
                return seen.get(n - 1).copied();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

/// The status at `at` from a phase log.
pub fn truth(log: &[(Instant, Phase)], at: Instant) -> Truth {
    let mut now = Truth::Starting;
    for (t, phase) in log {
        if *t > at {
            break;
        }
        now = match phase {
            Phase::Request | Phase::Hung | Phase::Answered => Truth::Busy,
            Phase::Asked => Truth::Asking,
            Phase::TurnEnded | Phase::Failed => Truth::Idle,
        };
    }
    now
}

/// Where phases are written.
struct Logs<'a> {
    log: &'a Mutex<Vec<(Instant, Phase)>>,
    wall: &'a Mutex<Vec<(SystemTime, Phase)>>,
    turns: &'a Mutex<Vec<String>>,
}

impl Logs<'_> {
    fn note(&self, phase: Phase) {
        if let Ok(mut l) = self.log.lock() {
            l.push((Instant::now(), phase));
        }
        if let Ok(mut w) = self.wall.lock() {
            w.push((SystemTime::now(), phase));
        }
    }
}

struct Request {
    line: String,
    body: Value,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Some(Request {
        line: line.trim().to_string(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    }))
}

fn serve(
    stream: TcpStream,
    script: &Script,
    logs: &Logs,
    requests: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    let Some(req) = read_request(&mut reader)? else {
        return Ok(());
    };
    if let Ok(mut r) = requests.lock() {
        r.push(req.line.clone());
    }
    let note = |p: Phase| logs.note(p);
    let path = req
        .line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_string();
    let anthropic = path.starts_with("/v1/messages");
    let openai = path.starts_with("/v1/responses");
    // OpenAI's Chat Completions API (Aider, through litellm): no tools;
    // every request is the agent's own turn.
    let chat = path.starts_with("/v1/chat/completions");
    if !req.line.starts_with("POST") || !(anthropic || openai || chat) {
        return respond(&mut out, 200, "application/json", "{}");
    }
    let own_turn = chat || req.body["tools"].as_array().is_some_and(|t| !t.is_empty());
    let mut sse = Sse { out: &mut out };
    if !own_turn {
        // Title generation and other side requests.
        let text = if openai {
            r#"{"title":"Create the file"}"#
        } else {
            "Create the file"
        };
        if anthropic && req.body["stream"] != json!(true) {
            let msg = json!({"id": "msg_side", "type": "message", "role": "assistant",
                "model": req.body["model"], "content": [{"type": "text", "text": text}],
                "stop_reason": "end_turn", "stop_sequence": null,
                "usage": {"input_tokens": 5, "output_tokens": 5}});
            return respond(sse.out, 200, "application/json", &msg.to_string());
        }
        sse.start()?;
        return if anthropic {
            anthropic_turn(&mut sse, &[Act::Stream(Duration::ZERO)], text, &|_| {})
        } else {
            openai_turn(&mut sse, &[Act::Stream(Duration::ZERO)], text, &|_| {})
        };
    }
    let body = req.body.to_string();
    let after_tool = body.contains("\"tool_result\"")
        || body.contains("\"function_call_output\"")
        || (chat && body.contains(COMMAND));
    let earlier = logs.turns.lock().map(|mut t| {
        t.push(body.clone());
        t.len() - 1
    });
    let acts = match (&script.later, earlier) {
        _ if after_tool => &script.after_tool,
        (Some(later), Ok(n)) if n > 0 => later,
        _ => &script.first,
    };
    note(Phase::Request);
    match acts.first() {
        Some(Act::Fail) => {
            note(Phase::Failed);
            let error = if anthropic {
                json!({"type": "error", "error": {"type": "api_error", "message": "scripted failure"}})
            } else {
                json!({"error": {"type": "server_error", "message": "scripted failure", "code": "server_error"}})
            };
            return respond(sse.out, 500, "application/json", &error.to_string());
        }
        Some(Act::Hang) => {
            note(Phase::Hung);
            std::thread::sleep(Duration::from_secs(3600));
            return Ok(());
        }
        _ => {}
    }
    sse.start()?;
    if chat {
        chat_turn(&mut sse, acts, &note)
    } else if anthropic {
        anthropic_turn(&mut sse, acts, "", &note)
    } else {
        openai_turn(&mut sse, acts, "", &note)
    }
}

fn respond(out: &mut TcpStream, code: u16, kind: &str, body: &str) -> std::io::Result<()> {
    let reason = if code == 200 { "OK" } else { "Error" };
    write!(
        out,
        "HTTP/1.1 {code} {reason}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )?;
    out.flush()
}

struct Sse<'a> {
    out: &'a mut TcpStream,
}

impl Sse<'_> {
    fn start(&mut self) -> std::io::Result<()> {
        write!(
            self.out,
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n"
        )?;
        self.out.flush()
    }

    fn event(&mut self, data: Value) -> std::io::Result<()> {
        let name = data["type"].as_str().unwrap_or("message").to_string();
        write!(self.out, "event: {name}\ndata: {data}\n\n")?;
        self.out.flush()
    }

    /// A bare `data:` line, as Chat Completions streams are written (an
    /// `event:` line would make the OpenAI SDK wrap the data).
    fn data(&mut self, data: Value) -> std::io::Result<()> {
        write!(self.out, "data: {data}\n\n")?;
        self.out.flush()
    }
}

/// Words to stream for `how_long`, a word each 100 ms; `fixed` instead
/// when given.
fn words(how_long: Duration, fixed: &str) -> Vec<String> {
    if !fixed.is_empty() {
        return vec![fixed.to_string()];
    }
    let n = (how_long.as_millis() / 100).max(1);
    (0..n).map(|i| format!("word{i} ")).collect()
}

fn pause(how_long: Duration, fixed: &str) {
    if fixed.is_empty() && !how_long.is_zero() {
        std::thread::sleep(Duration::from_millis(100));
    }
}

const COMMAND: &str = "touch made-by-agent.txt";

fn anthropic_turn(
    sse: &mut Sse,
    acts: &[Act],
    fixed: &str,
    note: &dyn Fn(Phase),
) -> std::io::Result<()> {
    sse.event(
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
        "role": "assistant", "model": "claude-fake", "content": [], "stop_reason": null,
        "stop_sequence": null, "usage": {"input_tokens": 10, "output_tokens": 1}}}),
    )?;
    let mut stop = "end_turn";
    for (index, act) in acts.iter().enumerate() {
        match act {
            Act::Stream(d) => {
                sse.event(json!({"type": "content_block_start", "index": index,
                    "content_block": {"type": "text", "text": ""}}))?;
                for w in words(*d, fixed) {
                    sse.event(json!({"type": "content_block_delta", "index": index,
                        "delta": {"type": "text_delta", "text": w}}))?;
                    pause(*d, fixed);
                }
                sse.event(json!({"type": "content_block_stop", "index": index}))?;
            }
            Act::AskTool => {
                let input = json!({"command": COMMAND, "description": "Create the file"});
                sse.event(json!({"type": "content_block_start", "index": index,
                    "content_block": {"type": "tool_use", "id": "toolu_01", "name": "Bash", "input": {}}}))?;
                sse.event(json!({"type": "content_block_delta", "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": input.to_string()}}))?;
                sse.event(json!({"type": "content_block_stop", "index": index}))?;
                stop = "tool_use";
            }
            Act::Fail | Act::Hang => {}
        }
    }
    sse.event(
        json!({"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": null},
        "usage": {"output_tokens": 15}}),
    )?;
    sse.event(json!({"type": "message_stop"}))?;
    note(if stop == "tool_use" {
        Phase::Asked
    } else {
        Phase::TurnEnded
    });
    Ok(())
}

/// A Chat Completions stream. There are no tools: asking to run a
/// command is a shell block in the text, which Aider offers to run once
/// the response has ended ("Run shell command? (Y)es/(N)o").
fn chat_turn(sse: &mut Sse, acts: &[Act], note: &dyn Fn(Phase)) -> std::io::Result<()> {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
            "model": "gpt-fake", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
    };
    // A model takes a moment before its first token (Aider shows
    // "Waiting for <model>" meanwhile).
    std::thread::sleep(Duration::from_millis(1000));
    sse.data(chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    ))?;
    let mut asked = false;
    for act in acts {
        match act {
            Act::Stream(d) => {
                for w in words(*d, "") {
                    sse.data(chunk(json!({"content": w}), Value::Null))?;
                    pause(*d, "");
                }
            }
            Act::AskTool => {
                let text = format!("\n\nRun this to create the file:\n\n```bash\n{COMMAND}\n```\n");
                sse.data(chunk(json!({"content": text}), Value::Null))?;
                asked = true;
            }
            Act::Fail | Act::Hang => {}
        }
    }
    sse.data(chunk(json!({}), json!("stop")))?;
    sse.out.write_all(b"data: [DONE]\n\n")?;
    sse.out.flush()?;
    note(if asked {
        Phase::Asked
    } else {
        Phase::TurnEnded
    });
    Ok(())
}

fn openai_turn(
    sse: &mut Sse,
    acts: &[Act],
    fixed: &str,
    note: &dyn Fn(Phase),
) -> std::io::Result<()> {
    sse.event(json!({"type": "response.created", "response": {"id": "resp_1"}}))?;
    let mut asked = false;
    for (index, act) in acts.iter().enumerate() {
        match act {
            Act::Stream(d) => {
                let id = format!("msg_{index}");
                sse.event(
                    json!({"type": "response.output_item.added", "output_index": index,
                    "item": {"type": "message", "id": id, "role": "assistant", "content": []}}),
                )?;
                let mut all = String::new();
                for w in words(*d, fixed) {
                    all.push_str(&w);
                    sse.event(json!({"type": "response.output_text.delta", "item_id": id,
                        "output_index": index, "content_index": 0, "delta": w}))?;
                    pause(*d, fixed);
                }
                sse.event(
                    json!({"type": "response.output_item.done", "output_index": index,
                    "item": {"type": "message", "id": id, "role": "assistant",
                    "content": [{"type": "output_text", "text": all}]}}),
                )?;
            }
            Act::AskTool => {
                let args = json!({"cmd": COMMAND, "sandbox_permissions": "require_escalated",
                    "justification": "Create the file?"});
                let item = json!({"type": "function_call", "id": "fc_1", "call_id": "call_1",
                    "name": "exec_command", "arguments": args.to_string()});
                sse.event(json!({"type": "response.output_item.added", "output_index": index, "item": item}))?;
                sse.event(json!({"type": "response.output_item.done", "output_index": index, "item": item}))?;
                asked = true;
            }
            Act::Fail | Act::Hang => {}
        }
    }
    sse.event(
        json!({"type": "response.completed", "response": {"id": "resp_1",
        "usage": {"input_tokens": 10, "input_tokens_details": null, "output_tokens": 15,
        "output_tokens_details": null, "total_tokens": 25}}}),
    )?;
    note(if asked {
        Phase::Asked
    } else {
        Phase::TurnEnded
    });
    Ok(())
}
