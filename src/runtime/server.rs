//! The private tmux server of one home: its socket lives in the home's
//! 0700 `tmux/` directory and it reads only switchboard's own config, so it
//! never touches the user's tmux and the user's config never changes it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::INSTALL_TMUX;
use super::listing::{Listing, ReportOptions};
use super::remote::RemoteTmux;
use super::text::{normalise, press_enter_until_changed};
use super::wait::content_hash;
use crate::home::Home;
use crate::remote::SshError;

/// How long one tmux command may take before the server counts as wedged.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(20);

/// What went wrong talking to tmux.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TmuxError {
    #[error("tmux is not installed; {INSTALL_TMUX}")]
    Missing,
    #[error("cannot run tmux: {0}")]
    Spawn(String),
    #[error("tmux: {0}")]
    Failed(String),
    #[error("no session {0} on this home's tmux server")]
    NoSession(String),
    #[error("session name {0:?} is not usable: letters, digits, '-' and '_' only")]
    BadName(String),
    #[error("{0}")]
    Timeout(String),
    /// The host of a remote server could not be reached, or refused us.
    #[error("{0}")]
    Host(SshError),
}

impl TmuxError {
    /// The server's host cannot be reached now (its agents are not known
    /// dead, only out of sight).
    pub fn is_unreachable(&self) -> bool {
        matches!(self, TmuxError::Host(e) if e.is_unreachable())
    }
}

/// One session of the server, as `list-panes` shows its first pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    pub name: String,
    pub pane: String,
    pub pid: Option<u32>,
    /// The agent's process has exited (the pane remains, for its status).
    pub dead: bool,
    pub exit_status: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<i32>,
    /// The pane's title, as the agent set it (escape sequence OSC 0/2).
    pub title: String,
    /// What the agent last reported through its pane (agents on remote
    /// hosts: [`crate::remote::report`]), newest first, one value per
    /// option of its history (empty where none).
    pub reports: Vec<String>,
    /// When its window last had output, in whole seconds of the tmux
    /// server's clock (`#{window_activity}`).
    pub activity: Option<u64>,
}

/// How to start an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnSpec {
    pub name: String,
    pub cwd: PathBuf,
    /// The program and its arguments: executed directly, never by a shell.
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// A home's tmux server: on this machine, or on a host over SSH.
#[derive(Debug, Clone)]
pub struct TmuxServer {
    socket: PathBuf,
    config: PathBuf,
    /// Set for the server on a remote host (its socket and config are
    /// then paths there, known once it has been prepared).
    remote: Option<std::sync::Arc<RemoteTmux>>,
}

/// The config of a private server.
pub(crate) fn config_text(history_limit: u32) -> String {
    format!(
        "# Written by switchboard for its private tmux server.\n\
         set -g remain-on-exit on\n\
         set -g history-limit {history_limit}\n\
         set -g exit-empty off\n\
         set -g default-terminal tmux-256color\n\
         set -g status off\n"
    )
}

impl TmuxServer {
    /// The server of `home`, with `history_limit` lines of scrollback for
    /// new panes. Writes the server's config file.
    pub fn for_home(home: &Home, history_limit: u32) -> Result<TmuxServer, TmuxError> {
        let dir = home.tmux_dir();
        let config = dir.join("tmux.conf");
        let text = config_text(history_limit);
        if std::fs::read_to_string(&config).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&config, text)
                .map_err(|e| TmuxError::Spawn(format!("{}: {e}", config.display())))?;
        }
        Ok(TmuxServer {
            socket: dir.join("server.sock"),
            config,
            remote: None,
        })
    }

    /// The private server of `home` on a remote host, reached through
    /// `remote` (nothing is done there until the first command).
    pub fn on_host(remote: RemoteTmux) -> TmuxServer {
        TmuxServer {
            socket: PathBuf::new(),
            config: PathBuf::new(),
            remote: Some(std::sync::Arc::new(remote)),
        }
    }

    /// The host's transport, for a remote server.
    pub fn remote(&self) -> Option<&RemoteTmux> {
        self.remote.as_deref()
    }

    /// The socket (on this machine; for a remote server, the path on its
    /// host once known).
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Where text waits to be loaded into paste buffers (private, like the
    /// socket's directory).
    pub fn buffer_dir(&self) -> PathBuf {
        self.socket
            .parent()
            .map_or_else(|| PathBuf::from("."), |d| d.join("buffers"))
    }

    /// A tmux client command for this server running `args` (for a remote
    /// server, the ssh command that runs it on the host).
    pub fn client_command(&self, args: &[&str]) -> Result<Command, TmuxError> {
        match &self.remote {
            Some(remote) => remote.command(args),
            None => {
                let mut cmd = self.command();
                cmd.args(args);
                Ok(cmd)
            }
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&self.socket).arg("-f").arg(&self.config);
        // A client started inside the operator's tmux must not attach there.
        cmd.env_remove("TMUX");
        cmd
    }

    /// Runs one tmux command; its stdout.
    pub fn run(&self, args: &[&str]) -> Result<String, TmuxError> {
        self.run_with_input(args, None)
    }

    /// Runs one tmux command with `input` on its stdin; its stdout.
    pub(crate) fn run_with_input(
        &self,
        args: &[&str],
        input: Option<&[u8]>,
    ) -> Result<String, TmuxError> {
        if let Some(remote) = &self.remote {
            return remote.run(args, input);
        }
        let mut cmd = self.command();
        cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        cmd.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd.spawn().map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => TmuxError::Missing,
            _ => TmuxError::Spawn(e.to_string()),
        })?;
        if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin
                .write_all(bytes)
                .map_err(|e| TmuxError::Spawn(e.to_string()))?;
        }
        // A wedged server must not hang the engine: the command gets a
        // deadline, and is ended when it passes.
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("tmux-command".into())
            .spawn(move || {
                let _ = tx.send(child.wait_with_output());
            })
            .map_err(|e| TmuxError::Spawn(e.to_string()))?;
        let output = match rx.recv_timeout(COMMAND_TIMEOUT) {
            Ok(output) => output.map_err(|e| TmuxError::Spawn(e.to_string()))?,
            Err(_) => {
                // SAFETY: kill(2) on the pid of our own child, not yet reaped
                // (the waiting thread reaps it once it dies).
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                return Err(TmuxError::Timeout(format!(
                    "tmux did not answer `{}` within {}s; the home's tmux server may be wedged (`switchboard doctor` looks at it)",
                    args.first().copied().unwrap_or(""),
                    COMMAND_TIMEOUT.as_secs()
                )));
            }
        };
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).into_owned())
        } else {
            Err(TmuxError::Failed(
                String::from_utf8_lossy(&output.stderr).trim().to_string(),
            ))
        }
    }

    /// Starts a session running `spec.argv` in `spec.cwd` with `spec.env`.
    pub fn spawn(&self, spec: &SpawnSpec) -> Result<(), TmuxError> {
        check_name(&spec.name)?;
        let cwd = spec.cwd.to_string_lossy();
        let mut args: Vec<String> = vec![
            "new-session".into(),
            "-d".into(),
            "-s".into(),
            spec.name.clone(),
            "-c".into(),
            argument(&cwd),
        ];
        args.extend(["-x".into(), "160".into(), "-y".into(), "48".into()]);
        for (k, v) in &spec.env {
            args.push("-e".into());
            args.push(argument(&format!("{k}={v}")));
        }
        args.push("--".into());
        // tmux runs a lone argument through a shell; two or more are
        // executed directly. A one-element argv goes through env(1).
        if spec.argv.len() == 1 {
            args.push("env".into());
        }
        args.extend(spec.argv.iter().map(|w| argument(w)));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run(&refs)?;
        Ok(())
    }

    /// Every session of this server; none when the server is not running.
    /// The panes' report options are read on a host's server only (see
    /// [`ReportOptions`]).
    pub fn sessions(&self) -> Result<Vec<SessionInfo>, TmuxError> {
        self.list(self.report_options())
    }

    /// Whether this server's agents report through their panes: those on
    /// a host do, those on this machine write to the journal.
    pub(crate) fn report_options(&self) -> ReportOptions {
        match self.remote {
            Some(_) => ReportOptions::Read,
            None => ReportOptions::Unread,
        }
    }

    /// Every session of this server, its panes' report options read or
    /// not as `reports` says.
    pub fn list(&self, reports: ReportOptions) -> Result<Vec<SessionInfo>, TmuxError> {
        let listing = Listing::new(reports);
        match self.run(&["list-panes", "-a", "-F", &listing.format()]) {
            Ok(out) => Ok(listing.parse(&out)),
            Err(TmuxError::Failed(e)) if no_sessions(&e) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// One session, if it exists.
    pub fn session(&self, name: &str) -> Result<Option<SessionInfo>, TmuxError> {
        Ok(self.sessions()?.into_iter().find(|s| s.name == name))
    }

    /// The pane's screen (and `history` lines of scrollback), plain or with
    /// its colours as escape sequences.
    pub fn capture(&self, name: &str, colours: bool, history: u32) -> Result<String, TmuxError> {
        check_name(name)?;
        let target = target(name);
        let start = format!("-{history}");
        // -N keeps the spaces a program wrote at the end of a line (a
        // prompt such as "demo> "), without padding the rest.
        let mut args = vec!["capture-pane", "-p", "-N", "-t", &target, "-S", &start];
        if colours {
            args.push("-e");
        }
        self.run(&args).map_err(|e| self.explain(name, e))
    }

    /// Types `text` into the agent: pasted from a buffer (with bracketed
    /// paste markers when the agent asked for them), control characters
    /// normalised, then Enter after `delay_enter`, verified by the pane
    /// changing and pressed again, up to `retries` times, if it did not.
    pub fn send_text(
        &self,
        name: &str,
        text: &str,
        delay_enter: Duration,
        retries: u32,
    ) -> Result<(), TmuxError> {
        check_name(name)?;
        let target = target(name);
        let buffer = format!("sb-{name}-{}", std::process::id());
        let clean = normalise(text);
        self.load_and_paste(&buffer, &target, clean.as_bytes())
            .map_err(|e| self.explain(name, e))?;
        std::thread::sleep(delay_enter);
        press_enter_until_changed(
            name,
            retries,
            Duration::from_millis(10),
            || self.pane_state(name),
            || {
                self.run(&["send-keys", "-t", &target, "Enter"])
                    .map(|_| ())
                    .map_err(|e| self.explain(name, e))
            },
        )
    }

    /// Loads `text` from stdin into paste buffer `buffer` and pastes it
    /// into `target` (deleting the buffer), in one tmux client: `;` as its
    /// own argument chains the two commands, so on a host this is one ssh
    /// exec, the text its stdin.
    pub(crate) fn load_and_paste(
        &self,
        buffer: &str,
        target: &str,
        text: &[u8],
    ) -> Result<(), TmuxError> {
        self.run_with_input(
            &[
                "load-buffer",
                "-b",
                buffer,
                "-",
                ";",
                "paste-buffer",
                "-d",
                "-p",
                "-b",
                buffer,
                "-t",
                target,
            ],
            Some(text),
        )
        .map(|_| ())
    }

    /// What the pane shows, where its cursor is and whether it is dead, as
    /// one hash: an Enter that took effect changes at least one of them,
    /// even when the agent prints nothing.
    fn pane_state(&self, name: &str) -> Result<u64, TmuxError> {
        let screen = self.capture(name, false, 0)?;
        let cursor = self
            .run(&[
                "display-message",
                "-p",
                "-t",
                &target(name),
                "#{cursor_x} #{cursor_y} #{pane_dead}",
            ])
            .map_err(|e| self.explain(name, e))?;
        Ok(content_hash(&format!("{screen}\u{0}{cursor}")))
    }

    /// Ends a session and its agent.
    pub fn kill(&self, name: &str) -> Result<(), TmuxError> {
        check_name(name)?;
        let session = format!("={name}");
        match self.run(&["kill-session", "-t", &session]) {
            Ok(_) => Ok(()),
            Err(e) if self.session(name)?.is_none() && !matches!(e, TmuxError::Missing) => {
                Err(TmuxError::NoSession(name.to_string()))
            }
            Err(e) => Err(self.explain(name, e)),
        }
    }

    /// Stops the whole server (tests, and an operator's clean-up).
    pub fn kill_server(&self) -> Result<(), TmuxError> {
        match self.run(&["kill-server"]) {
            Ok(_) => Ok(()),
            Err(TmuxError::Failed(e))
                if e.contains("no server running") || e.contains("error connecting") =>
            {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The command line that puts the operator's terminal in the session:
    /// program, arguments, and the variable to remove from its environment
    /// (so it works from inside the operator's own tmux too). Detach with
    /// the prefix key and `d`, as always.
    pub fn attach_command(&self, name: &str) -> (String, Vec<String>, &'static str) {
        if let Some(remote) = &self.remote
            && let Ok(cmd) = remote.attach_command(name)
        {
            let args = cmd
                .get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            return (
                cmd.get_program().to_string_lossy().into_owned(),
                args,
                "TMUX",
            );
        }
        let args = vec![
            "-S".to_string(),
            self.socket.to_string_lossy().into_owned(),
            "-f".to_string(),
            self.config.to_string_lossy().into_owned(),
            "attach-session".to_string(),
            "-t".to_string(),
            format!("={name}"),
        ];
        ("tmux".to_string(), args, "TMUX")
    }

    fn explain(&self, name: &str, e: TmuxError) -> TmuxError {
        match e {
            TmuxError::Failed(msg)
                if msg.contains("can't find")
                    || msg.contains("no server running")
                    || msg.contains("error connecting")
                    || msg.contains("no current target") =>
            {
                TmuxError::NoSession(name.to_string())
            }
            other => other,
        }
    }
}

/// tmux's answer when there is no server yet, or a server with no session
/// left (it stays up).
pub(crate) fn no_sessions(error: &str) -> bool {
    error.contains("no server running")
        || error.contains("error connecting")
        || error.contains("no current target")
}

/// How a zombie process ended: (exit status, signal), from the exit code
/// the kernel keeps for it until it is reaped.
#[cfg(target_os = "linux")]
pub(super) fn zombie_status(pid: u32) -> Option<(Option<i32>, Option<i32>)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    if fields.first() != Some(&"Z") {
        return None;
    }
    // Field 52 of the whole line is the 50th after the name.
    let code: i32 = fields.get(49)?.parse().ok()?;
    Some(if code & 0x7f == 0 {
        (Some((code >> 8) & 0xff), None)
    } else {
        (None, Some(code & 0x7f))
    })
}

#[cfg(not(target_os = "linux"))]
pub(super) fn zombie_status(_pid: u32) -> Option<(Option<i32>, Option<i32>)> {
    None
}

/// `word` as one argument of a tmux command line given as argv: tmux ends
/// a command at any argument that ends in `;` (dropping the `;`) and reads
/// a final `\;` as `;`, so a word that ends in `;` (a prompt, a path, an
/// environment value) gets a `\` before its last `;` and reaches the
/// command whole. Never for the `;` that chains two commands.
pub(crate) fn argument(word: &str) -> String {
    match word.strip_suffix(';') {
        Some(rest) => format!("{rest}\\;"),
        None => word.to_string(),
    }
}

/// An exact pane target (the session's current pane): `=name` never
/// matches a longer name by prefix.
fn target(name: &str) -> String {
    format!("={name}:")
}

/// A session name switchboard could have made: letters, digits, - and _.
pub(crate) fn check_name(name: &str) -> Result<(), TmuxError> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(TmuxError::BadName(name.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// tmux ends a command at any argument that ends in `;`: an agent's
    /// words (a prompt ending in `;`, a lone `;`), its environment and its
    /// directory reach it exactly all the same.
    #[test]
    fn spawned_words_ending_in_a_semicolon_reach_the_agent_exactly() {
        let dir = tempfile::tempdir().expect("temp dir");
        let home = crate::home::Home::at(dir.path());
        home.ensure().expect("home");
        let server = TmuxServer::for_home(&home, 100).expect("server");
        let cwd = dir.path().join("work;");
        std::fs::create_dir(&cwd).expect("cwd");
        let out = dir.path().join("args");
        let words = ["fix it;", ";", "a\\;", "\\", "b;;", "done"];
        let mut argv: Vec<String> = vec![
            "sh".into(),
            "-c".into(),
            r#"{ printf '%s\n' "$@"; printf '%s\n' "$V" "$PWD"; } > "$0.tmp" && mv "$0.tmp" "$0"; sleep 5"#
                .into(),
            out.display().to_string(),
        ];
        argv.extend(words.iter().map(|w| w.to_string()));
        server
            .spawn(&SpawnSpec {
                name: "sb-1-1".into(),
                cwd: cwd.clone(),
                argv,
                env: vec![("V".into(), "value;".into())],
            })
            .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !out.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let said = std::fs::read_to_string(&out).unwrap_or_default();
        let _ = server.run(&["kill-server"]);
        let mut expected: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        expected.push("value;".into());
        expected.push(cwd.display().to_string());
        assert_eq!(said.lines().collect::<Vec<_>>(), expected);
    }
}
