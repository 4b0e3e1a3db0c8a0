//! Scenario files: JSON lines, each a message with an `at` time, or a line
//! that sets something up.
//!
//! ```json
//! {"config": {"scheduler": {"max_agents": 2}, "routing": {"default_project": "api"}}}
//! {"project": "api", "max_agents": 1}
//! {"config": {"hosts": {"build1": {"address": "ops@build1", "max_agents": 2}}}}
//! {"project": "web", "max_agents": 4, "host": "build1"}
//! {"at": "2026-01-01T00:10:00Z", "host": "build1", "reachable": false}
//! {"agent": {"duration": "10m"}}
//! {"agent": {"match": "flaky", "duration": "2m", "fail_attempts": 2}}
//! {"agent": {"match": "stuck", "hang": true}}
//! {"at": "2026-01-01T00:00:00Z", "drain": true}
//! {"at": "2026-01-01T00:00:00Z", "pause": true}
//! {"at": "2026-01-01T00:00:00Z", "type": "alarm", "account": "1", "name": "CPU", "state": "ALARM"}
//! {"at": "2026-01-01T00:05:00Z", "arrive": "2026-01-01T00:09:00Z", "type": "alarm", …}
//! ```
//!
//! A message's arrival is its `arrive` time, else its `at`; an alarm's own
//! time is its timestamp (`at`, or CloudWatch's `StateChangeTime`). Any
//! message shape that `ingest` reads may be used. A host line says when the
//! SSH side finds a host unreachable, or reachable again: nothing starts
//! there meanwhile, and its agents' ends are seen only once it is back.

use std::time::Duration;

use serde_json::Value;

use crate::intake::parse_value;
use crate::model::{HostName, Message, Timestamp};
use crate::scheduler::Arrival;

/// How simulated agents behave: the first rule whose `match` is in the
/// job's title or prompt (later rules first), else the default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRule {
    pub matches: Option<String>,
    pub duration: Duration,
    /// The first N attempts fail.
    pub fail_attempts: u32,
    /// The agent never ends by itself.
    pub hang: bool,
}

impl Default for AgentRule {
    fn default() -> Self {
        AgentRule {
            matches: None,
            duration: Duration::from_secs(600),
            fail_attempts: 0,
            hang: false,
        }
    }
}

/// One line of a scenario.
#[derive(Debug, Clone)]
pub enum Line {
    Config(toml::Table),
    Project {
        name: String,
        max_agents: u32,
        /// `None`: the engine's own machine.
        host: Option<HostName>,
    },
    Agent(AgentRule),
    /// The SSH side found `host` unreachable (or reachable again) at `at`.
    Host {
        at: Option<Timestamp>,
        host: HostName,
        reachable: bool,
    },
    Drain {
        at: Option<Timestamp>,
        on: bool,
    },
    /// The operator pauses the queue (`switchboard pause`), or resumes it.
    Pause {
        at: Option<Timestamp>,
        on: bool,
    },
    Arrival {
        arrive: Option<Timestamp>,
        arrival: Arrival,
    },
    Nothing,
}

/// The keys that make a line a setting rather than a message, and the
/// times of a message, read without allocating.
#[derive(serde::Deserialize)]
struct Probe<'a> {
    at: Option<&'a str>,
    arrive: Option<&'a str>,
    config: Option<serde::de::IgnoredAny>,
    project: Option<serde::de::IgnoredAny>,
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    agent: Option<serde::de::IgnoredAny>,
    drain: Option<serde::de::IgnoredAny>,
    pause: Option<serde::de::IgnoredAny>,
    reachable: Option<serde::de::IgnoredAny>,
    comment: Option<serde::de::IgnoredAny>,
}

/// Reads one scenario line.
pub fn parse_line(text: &str) -> Result<Line, String> {
    if text.trim().is_empty() {
        return Ok(Line::Nothing);
    }
    // Messages, nearly every line of a long scenario, take the fast path.
    if let Ok(p) = serde_json::from_str::<Probe>(text) {
        let setting = p.config.is_some()
            || p.agent.is_some()
            || p.drain.is_some()
            || p.pause.is_some()
            || p.reachable.is_some()
            || p.comment.is_some();
        if !setting && (p.project.is_none() || p.kind.is_some()) {
            let time = |t: Option<&str>| t.map(Timestamp::parse).transpose();
            let arrive = time(p.arrive)?.or(time(p.at)?);
            let message = crate::intake::parse_message(text.as_bytes())?;
            return Ok(Line::Arrival {
                arrive,
                arrival: arrival_of(message, arrive),
            });
        }
    }
    let value: Value = serde_json::from_str(text).map_err(|e| format!("malformed JSON: {e}"))?;
    let Value::Object(obj) = value else {
        return Err("expected a JSON object".into());
    };
    let time = |key: &str| -> Result<Option<Timestamp>, String> {
        match obj.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Timestamp::parse(s)
                .map(Some)
                .map_err(|e| format!("\"{key}\": {e}")),
            Some(_) => Err(format!(
                "\"{key}\" must be a time such as \"2026-01-01T00:00:00Z\""
            )),
        }
    };
    if let Some(config) = obj.get("config") {
        let table = toml::Table::try_from(config).map_err(|e| format!("\"config\": {e}"))?;
        return Ok(Line::Config(table));
    }
    if let (Some(name), false) = (obj.get("project"), obj.contains_key("type")) {
        let name = name
            .as_str()
            .ok_or("\"project\" must be a name")?
            .to_string();
        let max_agents = match obj.get("max_agents") {
            None => 1,
            Some(v) => v
                .as_u64()
                .filter(|n| *n >= 1)
                .ok_or("\"max_agents\" must be a whole number of at least 1")?
                as u32,
        };
        let host = match obj.get("host") {
            None | Some(Value::Null) => None,
            Some(v) => Some(HostName::parse(
                v.as_str().ok_or("\"host\" must be a name")?,
            )?)
            .filter(|h| !h.is_local()),
        };
        return Ok(Line::Project {
            name,
            max_agents,
            host,
        });
    }
    if let Some(reachable) = obj.get("reachable") {
        let reachable = reachable
            .as_bool()
            .ok_or("\"reachable\" must be true or false")?;
        let host = obj
            .get("host")
            .and_then(Value::as_str)
            .ok_or("a \"reachable\" line names its \"host\"")?;
        return Ok(Line::Host {
            at: time("at")?,
            host: HostName::remote(host)?,
            reachable,
        });
    }
    if let Some(rule) = obj.get("agent") {
        return agent_rule(rule).map(Line::Agent);
    }
    if let Some(on) = obj.get("drain") {
        let on = on.as_bool().ok_or("\"drain\" must be true or false")?;
        return Ok(Line::Drain {
            at: time("at")?,
            on,
        });
    }
    if let Some(on) = obj.get("pause") {
        let on = on.as_bool().ok_or("\"pause\" must be true or false")?;
        return Ok(Line::Pause {
            at: time("at")?,
            on,
        });
    }
    if obj.contains_key("comment") && obj.len() == 1 {
        return Ok(Line::Nothing);
    }
    let arrive = time("arrive")?.or(time("at")?);
    let message = parse_value(Value::Object(obj))?;
    Ok(Line::Arrival {
        arrive,
        arrival: arrival_of(message, arrive),
    })
}

/// A message as the scheduler takes it in; an alarm's time is its own
/// timestamp, else its arrival.
fn arrival_of(message: Message, arrive: Option<Timestamp>) -> Arrival {
    match message {
        Message::Task(task) => Arrival::Task {
            project: task.project,
            prompt: task.prompt,
            title: task.title,
            priority: task.priority,
            after: task.after,
        },
        Message::Ticket(ticket) => Arrival::Ticket(ticket),
        Message::Alarm(alarm) => {
            let at = alarm.at.or(arrive).unwrap_or(Timestamp::from_millis(0));
            Arrival::Alarm { alarm, at }
        }
    }
}

fn agent_rule(value: &Value) -> Result<AgentRule, String> {
    let obj = value.as_object().ok_or("\"agent\" must be an object")?;
    let mut rule = AgentRule::default();
    for (key, v) in obj {
        match key.as_str() {
            "match" => {
                rule.matches = Some(
                    v.as_str()
                        .ok_or("agent \"match\" must be text")?
                        .to_string(),
                )
            }
            "duration" => {
                let text = v
                    .as_str()
                    .ok_or("agent \"duration\" must be a duration such as \"10m\"")?;
                rule.duration = humantime::parse_duration(text)
                    .map_err(|e| format!("agent \"duration\" {text:?}: {e}"))?;
            }
            "fail_attempts" => {
                rule.fail_attempts = v
                    .as_u64()
                    .ok_or("agent \"fail_attempts\" must be a whole number")?
                    as u32
            }
            "hang" => rule.hang = v.as_bool().ok_or("agent \"hang\" must be true or false")?,
            other => {
                return Err(format!(
                    "unknown agent key {other:?}; expected match, duration, fail_attempts, hang"
                ));
            }
        }
    }
    Ok(rule)
}
