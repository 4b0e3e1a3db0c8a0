//! Waiting in tests for something that happens in another process or
//! thread: look again every step until it holds, and past a deadline fail
//! saying what was awaited (and what was seen last).

use std::time::{Duration, Instant};

/// How often a wait looks again unless the test says otherwise.
pub const STEP: Duration = Duration::from_millis(100);

/// Waits up to `secs` for `check`, looking every [`STEP`]; past that,
/// fails with "timed out waiting for `what`".
#[track_caller]
pub fn wait_secs(secs: u64, what: &str, mut check: impl FnMut() -> bool) {
    wait_until(
        Duration::from_secs(secs),
        STEP,
        || if check() { Ok(()) } else { Err(()) },
        |()| format!("timed out waiting for {what}"),
    )
}

/// Calls `look` every `step` until it gives `Ok`, and returns what it
/// gave; past `within`, fails with `why` of what the last look saw (its
/// `Err`). The message is made only on failure, so it may look again.
#[track_caller]
pub fn wait_until<T, Seen>(
    within: Duration,
    step: Duration,
    mut look: impl FnMut() -> Result<T, Seen>,
    why: impl FnOnce(Seen) -> String,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        match look() {
            Ok(value) => return value,
            Err(seen) if Instant::now() >= deadline => panic!("{}", why(seen)),
            Err(_) => std::thread::sleep(step),
        }
    }
}
