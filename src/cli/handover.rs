//! `dispatch`'s side of the engine's door ([`crate::engine::door`]): hand
//! the task to the running engine, or say there is none to hand it to.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use anyhow::bail;

use super::queue_task::{Queued, TaskRequest};
use crate::engine::door::{MAX_REQUEST_BYTES, Reply, Request, version};
use crate::home::Home;

/// How long the engine may take to journal the task and answer: its
/// journal may wait for another writer for the whole busy timeout first,
/// so `dispatch` waits that long and a little more, and does not give up
/// just as the engine commits.
const ANSWER_LIMIT: Duration = Duration::from_secs(crate::journal::BUSY_TIMEOUT.as_secs() + 5);

/// What became of a task handed over.
#[derive(Debug)]
pub enum Handover {
    /// The engine journaled it.
    Taken(Queued),
    /// The engine refused it, saying why (the words `dispatch` would use).
    Refused(String),
    /// No engine (of this version) took it: journal it here.
    NoEngine,
}

/// Hands `task` to the engine running on `home`, if one runs.
pub fn hand_over(home: &Home, task: &TaskRequest) -> anyhow::Result<Handover> {
    let Ok(mut line) = serde_json::to_vec(&Request {
        version: version(),
        task: task.clone(),
    }) else {
        // Not JSON (a directory name that is not UTF-8): journaled here.
        return Ok(Handover::NoEngine);
    };
    line.push(b'\n');
    if line.len() as u64 > MAX_REQUEST_BYTES {
        return Ok(Handover::NoEngine);
    }
    let path = home.engine_socket();
    let Ok(mut stream) = UnixStream::connect(&path) else {
        // No socket, or one a dead engine left: no engine to hand it to.
        return Ok(Handover::NoEngine);
    };
    stream.set_read_timeout(Some(ANSWER_LIMIT))?;
    stream.set_write_timeout(Some(ANSWER_LIMIT))?;
    if stream.write_all(&line).is_err() {
        // The engine went before reading it: nothing was journaled.
        return Ok(Handover::NoEngine);
    }
    let mut answer = Vec::new();
    let read = BufReader::new(&stream).read_until(b'\n', &mut answer);
    let reply = match (&read, serde_json::from_slice::<Reply>(&answer)) {
        (Ok(_), Ok(reply)) => reply,
        _ if !answer.is_empty() => bail!(
            "the engine's answer cannot be read; `switchboard jobs` shows whether the task was queued"
        ),
        (Err(e), _) if e.kind() == std::io::ErrorKind::ConnectionReset => {
            // The engine's end closed with the task still unread in it (a
            // connection never taken, or taken and not read): the kernel
            // resets only then, so nothing was journaled. Had the task been
            // read whole, its end would have closed empty: an end of file,
            // where the engine may have journaled it.
            tracing::debug!("dispatch: the engine went before reading the task; journaled here");
            return Ok(Handover::NoEngine);
        }
        (Err(e), _)
            if matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            bail!(
                "the engine did not answer within {} s (it may be held up); \
                 `switchboard jobs` shows whether the task was queued before you dispatch it again",
                ANSWER_LIMIT.as_secs()
            )
        }
        _ => bail!(
            "the engine read the task but did not answer (it may have stopped); \
             `switchboard jobs` shows whether it was queued before you dispatch it again"
        ),
    };
    match reply {
        Reply::Queued(queued) => {
            tracing::debug!("dispatch: job #{} journaled by the engine", queued.id);
            Ok(Handover::Taken(queued))
        }
        Reply::Refused(why) => Ok(Handover::Refused(why)),
        Reply::OtherVersion(theirs) => {
            tracing::info!("dispatch: the engine is version {theirs}; journaled here");
            Ok(Handover::NoEngine)
        }
    }
}
