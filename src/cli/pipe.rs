//! A closed pipe ends a command quietly, the way Unix filters end:
//! `switchboard jobs --watch | head -1` stops when `head` has read its
//! line, with no panic and no message, status 141 in the shell.
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe is an error (and
//! `println!` panics on it). Commands that only print get the default
//! action back; the engine and the room keep ignoring it, since they
//! write to tmux's pipes and must outlive a tmux that went away.

/// Gives SIGPIPE its default action (end the process) back.
pub fn end_on_closed_pipe() {
    // SAFETY: called once at start-up on the main thread, before any other
    // thread exists; SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Ends the process as a write would have, once whoever reads our stdout
/// has gone: a watch that prints nothing for a while would otherwise
/// never notice.
pub fn end_if_stdout_closed() {
    if stdout_closed() {
        // SAFETY: raising a signal has no memory effects; SIGPIPE's default
        // action (set by `end_on_closed_pipe`) ends the process.
        unsafe {
            libc::raise(libc::SIGPIPE);
        }
    }
}

fn stdout_closed() -> bool {
    let mut fd = libc::pollfd {
        fd: libc::STDOUT_FILENO,
        events: 0,
        revents: 0,
    };
    // SAFETY: one valid pollfd, its count, no wait.
    let ready = unsafe { libc::poll(&mut fd, 1, 0) };
    ready > 0 && fd.revents & (libc::POLLERR | libc::POLLHUP) != 0
}
