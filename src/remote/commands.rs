//! Every command switchboard runs on a remote host, in one place.
//!
//! Each is an argv (quoted word by word by [`super::quote`] on its way
//! through ssh) and, where outside text has to travel (text for an agent,
//! a file's content), stdin. The only shell programs here are the fixed
//! scripts of [`private_dir`] and [`write_file`], which take their paths
//! as positional arguments (`"$1"`), never spliced in.

use std::path::Path;

/// A command for a host: its argv, and what it reads on stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteCommand {
    argv: Vec<String>,
    input: Option<Vec<u8>>,
}

impl RemoteCommand {
    fn new<S: Into<String>>(argv: impl IntoIterator<Item = S>) -> RemoteCommand {
        RemoteCommand {
            argv: argv.into_iter().map(Into::into).collect(),
            input: None,
        }
    }

    /// The same command reading `bytes` on stdin.
    pub fn with_input(mut self, bytes: impl Into<Vec<u8>>) -> RemoteCommand {
        self.input = Some(bytes.into());
        self
    }

    /// Any argv, for tests that look at a host from inside (never used
    /// by switchboard itself: its commands are the functions below).
    #[doc(hidden)]
    pub fn for_test(argv: &[&str]) -> RemoteCommand {
        RemoteCommand::new(argv.iter().copied())
    }

    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    pub fn input(&self) -> Option<&[u8]> {
        self.input.as_deref()
    }
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The remote user's home directory (ssh starts there and sets `HOME`).
pub fn home_dir() -> RemoteCommand {
    RemoteCommand::new(["printenv", "HOME"])
}

/// Makes `dir` and its parents, private to the user (0700).
pub fn private_dir(dir: &Path) -> RemoteCommand {
    RemoteCommand::new([
        "sh".to_string(),
        "-c".into(),
        "umask 077 && mkdir -p -- \"$1\" && chmod 700 -- \"$1\"".into(),
        "sh".into(),
        path(dir),
    ])
}

/// Prepares switchboard's private directory on the host,
/// `$HOME/.switchboard/PLACE` (0700), with `tmux/` and `worktrees/` in it
/// and the private tmux server's config written from stdin to
/// `tmux/tmux.conf`; prints the directory. One round trip.
pub fn prepare_place(place: &str, tmux_config: &str) -> RemoteCommand {
    RemoteCommand::new([
        "sh",
        "-c",
        "umask 077 && d=\"$HOME/.switchboard/$1\" && mkdir -p -- \"$d/tmux\" \"$d/worktrees\" \
         && chmod 700 -- \"$HOME/.switchboard\" \"$d\" \"$d/tmux\" && cat > \"$d/tmux/tmux.conf\" \
         && printf '%s' \"$d\"",
        "sh",
        place,
    ])
    .with_input(tmux_config.as_bytes().to_vec())
}

/// A long-lived writer of paste-buffer files in `dir`: reads frames of
/// two lines on stdin (see [`buffer_frame`]), a file name then the text
/// made one line, writes the text to `dir/NAME` (private) and answers `ok`.
/// Text for agents travels this way, as stdin of one ssh session kept open,
/// and only the shell's builtins run per text (`read`, `case`, `printf`,
/// `echo`): a nudge starts no process on the host. The sender reuses a few
/// fixed names (slots), so nothing needs removing. NAME is checked here as
/// by the sender (letters, digits, `-`, `_`, starting `sb-`).
pub fn buffer_writer(dir: &Path) -> RemoteCommand {
    RemoteCommand::new([
        "sh".to_string(),
        "-c".into(),
        "umask 077 && d=\"$1\" && mkdir -p -- \"$d\" && chmod 700 -- \"$d\" || exit 1
while IFS= read -r name && IFS= read -r text; do
  case \"$name\" in sb-*) ;; *) exit 2 ;; esac
  case \"$name\" in *[!A-Za-z0-9_-]*) exit 2 ;; esac
  printf '%b' \"$text\" > \"$d/$name\" || exit 1
  echo ok
done"
            .into(),
        "sh".into(),
        path(dir),
    ])
}

/// One frame for [`buffer_writer`]: `NAME\n`, then `text` on one line,
/// every backslash doubled, a newline written `\n` and any other control
/// byte `\0ooo`, which the writer's `printf '%b'` turns back into the
/// bytes (data, never code: `%b` only reads escapes). `None` for text the
/// shell cannot hold (a NUL byte) or a name that is not a slot's.
pub fn buffer_frame(name: &str, text: &[u8]) -> Option<Vec<u8>> {
    let ok_name = name.starts_with("sb-")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok_name || text.contains(&0) {
        return None;
    }
    let mut frame = Vec::with_capacity(name.len() + text.len() + 8);
    frame.extend_from_slice(name.as_bytes());
    frame.push(b'\n');
    for &b in text {
        match b {
            b'\\' => frame.extend_from_slice(b"\\\\"),
            b'\n' => frame.extend_from_slice(b"\\n"),
            b'\t' => frame.push(b),
            b if b < 0x20 || b == 0x7f => frame.extend_from_slice(format!("\\0{b:03o}").as_bytes()),
            b => frame.push(b),
        }
    }
    frame.push(b'\n');
    Some(frame)
}

/// The environment variable that names, on a host, the home and host an
/// agent was started for (switchboard's private directory there, e.g.
/// `3f2a9c-build1`): with `SWITCHBOARD_JOB` and `SWITCHBOARD_ATTEMPT`, how
/// the processes an attempt left behind on the host are found.
pub const PLACE_VAR: &str = "SWITCHBOARD_PLACE";

/// Ends the processes of attempt `attempt` of job `job` of `place` on the
/// host, found by their environment (`/proc/PID/environ` entries
/// `SWITCHBOARD_PLACE=…`, `SWITCHBOARD_JOB=…`, and `SWITCHBOARD_ATTEMPT=…`
/// or none), as [`crate::runtime::procs`] does here: TERM, then KILL to
/// any still there after `grace_tenths` tenths of a second. Prints how
/// many there were. One ssh command: `grep -z` reads every environment in
/// one process; the values are compared whole (`-xF`), never as patterns
/// (a place holding a newline, which grep would split, is refused). A host
/// without `/proc` finds none.
pub fn end_attempt_processes(
    place: &str,
    job: i64,
    attempt: u32,
    grace_tenths: u32,
) -> RemoteCommand {
    RemoteCommand::new([
        "sh".to_string(),
        "-c".into(),
        r#"place=$1 job=$2 attempt=$3 grace=$4
case "$place" in *'
'*) echo "a place with a newline cannot be matched whole" >&2; exit 2 ;; esac
files=$(grep -lzxF -e "SWITCHBOARD_PLACE=$place" /proc/[0-9]*/environ 2>/dev/null)
[ -n "$files" ] && files=$(grep -lzxF -e "SWITCHBOARD_JOB=$job" $files 2>/dev/null)
pids=
for f in $files; do
  if grep -qzxF -e "SWITCHBOARD_ATTEMPT=$attempt" "$f" 2>/dev/null \
     || ! grep -qz '^SWITCHBOARD_ATTEMPT=' "$f" 2>/dev/null; then
    pid=${f#/proc/}; pid=${pid%/environ}
    [ "$pid" = "$$" ] || pids="$pids $pid"
  fi
done
alive() { case $(cat "/proc/$1/stat" 2>/dev/null) in *') Z '*|'') return 1 ;; esac; }
for p in $pids; do kill -TERM "$p" 2>/dev/null; done
n=0
while [ "$n" -lt "$grace" ]; do
  left=
  for p in $pids; do alive "$p" && left=1; done
  [ -n "$left" ] || break
  sleep 0.1 2>/dev/null || sleep 1
  n=$((n + 1))
done
for p in $pids; do alive "$p" && kill -KILL "$p" 2>/dev/null; done
set -- $pids
echo $#"#
            .into(),
        "sh".into(),
        place.to_string(),
        job.to_string(),
        attempt.to_string(),
        grace_tenths.to_string(),
    ])
}

/// What `switchboard clean` needs to know of a host, in one round trip:
/// the job worktrees in `worktrees` (a line `W job-N` each) and the
/// `switchboard/` branches of each of `repos` (`B I switchboard/N`, I the
/// repository's index in `repos`). The paths are positional words.
pub fn clean_inventory(worktrees: &Path, repos: &[&Path]) -> RemoteCommand {
    let mut argv = vec![
        "sh".to_string(),
        "-c".into(),
        r#"d=$1; shift
for w in "$d"/job-*; do [ -e "$w" ] && printf 'W %s\n' "${w##*/}"; done
i=0
for r in "$@"; do
  git -C "$r" for-each-ref --format='%(refname:short)' refs/heads/switchboard/ 2>/dev/null \
    | while IFS= read -r b; do printf 'B %s %s\n' "$i" "$b"; done
  i=$((i + 1))
done
exit 0"#
            .into(),
        "sh".into(),
        path(worktrees),
    ];
    argv.extend(repos.iter().map(|r| path(r)));
    RemoteCommand::new(argv)
}

/// Writes stdin to `file` (created private to the user).
pub fn write_file(file: &Path, content: impl Into<Vec<u8>>) -> RemoteCommand {
    RemoteCommand::new([
        "sh".to_string(),
        "-c".into(),
        "umask 077 && cat > \"$1\"".into(),
        "sh".into(),
        path(file),
    ])
    .with_input(content)
}

/// A tmux command on the host's private server: `tmux -S SOCKET -f CONFIG
/// ARGS…`.
pub fn tmux<S: AsRef<str>>(socket: &Path, config: &Path, args: &[S]) -> RemoteCommand {
    // -u: the host's locale may not say UTF-8 (an ssh login often has no
    // LANG); the agents' text is, and tmux would print tabs as `_`.
    let mut argv = vec![
        "tmux".to_string(),
        "-u".into(),
        "-S".into(),
        path(socket),
        "-f".into(),
        path(config),
    ];
    argv.extend(args.iter().map(|a| a.as_ref().to_string()));
    RemoteCommand::new(argv)
}

/// Loads `text` from stdin into paste buffer `buffer` of the host's server.
pub fn tmux_load_buffer(socket: &Path, config: &Path, buffer: &str, text: &[u8]) -> RemoteCommand {
    tmux(socket, config, &["load-buffer", "-b", buffer, "-"]).with_input(text.to_vec())
}

/// git in `dir` on the host, never asking on a terminal nor opening an
/// editor, with `env` set for it.
pub fn git<S: AsRef<str>>(dir: &Path, args: &[S], env: &[(&str, &str)]) -> RemoteCommand {
    let mut argv = vec![
        "env".to_string(),
        "GIT_TERMINAL_PROMPT=0".into(),
        "GIT_EDITOR=true".into(),
    ];
    argv.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
    argv.extend(["git".to_string(), "-C".into(), path(dir)]);
    argv.extend(args.iter().map(|a| a.as_ref().to_string()));
    RemoteCommand::new(argv)
}

/// Whether `dir` is a directory on the host (exit 0 when it is).
pub fn is_dir(dir: &Path) -> RemoteCommand {
    RemoteCommand::new(["test".to_string(), "-d".into(), path(dir)])
}

/// Whether `path` exists on the host (exit 0 when it does, 1 when not).
pub fn exists(path: &Path) -> RemoteCommand {
    RemoteCommand::new(["test".to_string(), "-e".into(), self::path(path)])
}

/// A file's content on stdout.
pub fn read_file(file: &Path) -> RemoteCommand {
    RemoteCommand::new(["cat".to_string(), "--".into(), path(file)])
}

/// Removes one file (gone already is fine).
pub fn remove_file(file: &Path) -> RemoteCommand {
    RemoteCommand::new(["rm".to_string(), "-f".into(), "--".into(), path(file)])
}

/// Removes `dir` and what it holds (a worktree's private files).
pub fn remove_dir(dir: &Path) -> RemoteCommand {
    RemoteCommand::new(["rm".to_string(), "-rf".into(), "--".into(), path(dir)])
}

/// Runs `argv` in `dir` on the host (a project's `setup`), its stdin
/// empty, in a session of its own (`setsid`, where the host has it), so
/// that the whole process group it heads, children it started too, is
/// stopped (TERM, then KILL 5 s later) once `secs` have passed.
/// The fixed script takes the directory, the deadline and every word of
/// the argv as positional arguments; nothing is spliced into it. Exit
/// status 125: `dir` could not be entered.
pub fn run_in(dir: &Path, secs: u64, argv: &[String]) -> RemoteCommand {
    run_in_env(dir, secs, &[], argv)
}

/// [`run_in`] with `env` (names of letters, digits and `_`) exported for
/// `argv` and all it starts: a set-up's mark ([`PLACE_VAR`],
/// `SWITCHBOARD_JOB`, `SWITCHBOARD_ATTEMPT`), so that a child of it that
/// left its process group is still found ([`end_attempt_processes`]).
/// Each `NAME=VALUE` is one positional word, exported whole
/// (`export "$1"`); a name that is not one is refused here.
pub fn run_in_with(
    dir: &Path,
    secs: u64,
    env: &[(String, String)],
    argv: &[String],
) -> Result<RemoteCommand, String> {
    for (name, _) in env {
        let ok = name.chars().next().is_some_and(|c| !c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok {
            return Err(format!("{name:?} is not an environment variable's name"));
        }
    }
    Ok(run_in_env(dir, secs, env, argv))
}

fn run_in_env(dir: &Path, secs: u64, env: &[(String, String)], argv: &[String]) -> RemoteCommand {
    let mut words = vec![
        "sh".to_string(),
        "-c".into(),
        "cd -- \"$1\" || exit 125
t=$2
n=$3
shift 3
while [ \"$n\" -gt 0 ]; do export \"$1\" || exit 125; shift; n=$((n - 1)); done
if command -v setsid >/dev/null 2>&1; then setsid \"$@\" </dev/null &
else \"$@\" </dev/null &
fi
p=$!
( s=
  trap '[ -n \"$s\" ] && kill \"$s\"; exit 0' TERM
  sleep \"$t\" & s=$!; wait \"$s\"
  kill -TERM -\"$p\" || kill -TERM \"$p\"
  sleep 5 & s=$!; wait \"$s\"
  kill -KILL -\"$p\" || kill -KILL \"$p\" ) >/dev/null 2>&1 </dev/null &
w=$!
wait \"$p\"
s=$?
kill \"$w\" 2>/dev/null
exit \"$s\""
            .into(),
        "sh".into(),
        path(dir),
        secs.to_string(),
        env.len().to_string(),
    ];
    words.extend(env.iter().map(|(k, v)| format!("{k}={v}")));
    words.extend(argv.iter().cloned());
    RemoteCommand::new(words)
}

/// Where each of `programs` is on the host's `PATH` (as its logins see
/// it): a line `NAME<TAB>PATH` each, PATH empty when it is not there;
/// then, when tmux is there, a line `tmux -V<TAB>` and what it says.
/// Read by [`super::probe::Found::parse`].
pub fn find_programs(programs: &[&str]) -> RemoteCommand {
    let mut words = vec![
        "sh".to_string(),
        "-c".into(),
        "for p do printf '%s\\t%s\\n' \"$p\" \"$(command -v \"$p\" 2>/dev/null)\"; done
if command -v tmux >/dev/null 2>&1; then printf 'tmux -V\\t%s\\n' \"$(tmux -V 2>&1 | head -n 1)\"; fi".into(),
        "sh".into(),
    ];
    words.extend(programs.iter().map(|p| p.to_string()));
    RemoteCommand::new(words)
}

/// What [`copy_files`] did with one path, a word a line in its output.
pub const COPIED: &str = "copied";
/// The path is not in the source checkout (skipped).
pub const MISSING: &str = "missing";
/// The path is there but not a regular file (a link, a directory): the
/// copy stops.
pub const NOT_A_FILE: &str = "not-a-file";
/// The path's directory in the repository is a link (or under one) that
/// leads out of the repository: the copy stops.
pub const OUT_OF_REPOSITORY: &str = "out-of-repository";
/// The path's place in the worktree is under a link that leads out of the
/// worktree: the copy stops, nothing written.
pub const OUT_OF_WORKTREE: &str = "out-of-worktree";

/// Copies each of `paths` (relative) that is a regular file under
/// `source` to the same place under `worktree` (directories made as
/// needed, a link never followed), printing one word a path in order
/// ([`COPIED`], [`MISSING`], [`NOT_A_FILE`], [`OUT_OF_REPOSITORY`],
/// [`OUT_OF_WORKTREE`]); it stops at the first path that is not a file,
/// whose directory leads out of the repository (a link, resolved with `cd
/// -P`) or whose place leads out of the worktree, or that cannot be
/// copied (exit 1, cp's message on stderr).
pub fn copy_files(source: &Path, worktree: &Path, paths: &[String]) -> RemoteCommand {
    let mut words = vec![
        "sh".to_string(),
        "-c".into(),
        "s=$1
w=$2
shift 2
sr=$(cd -P -- \"$s\" && pwd -P) || exit 1
wr=$(cd -P -- \"$w\" && pwd -P) || exit 1
inside() {
  _a=$2
  while [ ! -e \"$_a\" ] && [ ! -L \"$_a\" ]; do _a=${_a%/*}; [ -n \"$_a\" ] || _a=/; done
  if [ -L \"$_a\" ] && [ ! -e \"$_a\" ]; then return 1; fi
  [ -d \"$_a\" ] || return 0
  _r=$(cd -P -- \"$_a\" 2>/dev/null && pwd -P) || return 1
  case \"$_r/\" in \"$1\"/*) return 0 ;; *) return 1 ;; esac
}
for r do
  f=\"$s/$r\"
  inside \"$sr\" \"${f%/*}\" || { echo out-of-repository; exit 0; }
  if [ -L \"$f\" ] || { [ -e \"$f\" ] && [ ! -f \"$f\" ]; }; then echo not-a-file; exit 0; fi
  if [ ! -e \"$f\" ]; then echo missing; continue; fi
  t=\"$w/$r\"
  inside \"$wr\" \"${t%/*}\" || { echo out-of-worktree; exit 0; }
  mkdir -p -- \"${t%/*}\" && cp -- \"$f\" \"$t\" || exit 1
  echo copied
done"
            .into(),
        "sh".into(),
        path(source),
        path(worktree),
    ];
    words.extend(paths.iter().cloned());
    RemoteCommand::new(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::quote::command_line;
    use std::process::{Command, Stdio};

    /// Runs a remote command the way the host's login shell would: its
    /// quoted line through `sh -c`, stdin fed.
    fn run_as_host(cmd: &RemoteCommand, cwd: &Path) -> std::process::Output {
        let line = command_line(cmd.argv()).expect("no NUL");
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(line)
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sh");
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            stdin
                .write_all(cmd.input().unwrap_or_default())
                .expect("stdin");
        }
        child.wait_with_output().expect("wait")
    }

    const HOSTILE: &str = "$(touch pwned) `touch pwned2` 'q' \"d\"\n-n; touch pwned3 #";

    #[test]
    fn hostile_paths_and_text_stay_data() {
        let dir = tempfile::tempdir().expect("temp");
        let weird = dir.path().join(HOSTILE.replace('\n', " "));
        let out = run_as_host(&private_dir(&weird), dir.path());
        assert!(out.status.success(), "{out:?}");
        assert!(weird.is_dir());
        let file = weird.join("-file");
        let out = run_as_host(&write_file(&file, HOSTILE), dir.path());
        assert!(out.status.success(), "{out:?}");
        assert_eq!(std::fs::read_to_string(&file).expect("written"), HOSTILE);
        let out = run_as_host(&is_dir(&weird), dir.path());
        assert!(out.status.success());
        let out = run_as_host(&remove_dir(&weird), dir.path());
        assert!(out.status.success(), "{out:?}");
        assert!(!weird.exists());
        for f in ["pwned", "pwned2", "pwned3"] {
            assert!(!dir.path().join(f).exists(), "{f} was made by a shell");
        }
    }

    #[test]
    fn git_takes_hostile_arguments_as_arguments() {
        let dir = tempfile::tempdir().expect("temp");
        let out = run_as_host(&git(dir.path(), &["init", "-q"], &[]), dir.path());
        assert!(out.status.success(), "{out:?}");
        let cmd = git(
            dir.path(),
            &["config", "sb.test", HOSTILE],
            &[("GIT_AUTHOR_NAME", HOSTILE)],
        );
        assert!(run_as_host(&cmd, dir.path()).status.success());
        let out = run_as_host(&git(dir.path(), &["config", "sb.test"], &[]), dir.path());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim_end(),
            HOSTILE.trim_end()
        );
        assert!(!dir.path().join("pwned").exists());
    }

    #[test]
    fn tmux_text_travels_on_stdin() {
        let cmd = tmux_load_buffer(Path::new("/s"), Path::new("/c"), "b", HOSTILE.as_bytes());
        assert_eq!(cmd.input(), Some(HOSTILE.as_bytes()));
        assert!(!cmd.argv().iter().any(|w| w.contains("pwned")));
        assert_eq!(cmd.argv().last().map(String::as_str), Some("-"));
    }

    /// Runs the writer under `shell` (the host's `sh` may be dash or bash).
    fn run_writer(shell: &str, dir: &Path, input: Vec<u8>) -> std::process::Output {
        let mut cmd = buffer_writer(dir).with_input(input);
        cmd.argv[0] = shell.to_string();
        run_as_host(&cmd, dir.parent().expect("parent"))
    }

    #[test]
    fn the_buffer_writer_keeps_text_as_data() {
        // Every byte but NUL, hostile shell text, backslash escapes that
        // printf would read if they were not doubled, and a long line.
        let mut every: Vec<u8> = (1u8..=0x7f).collect();
        every.extend_from_slice("é ✓ \\c \\n \\0101 %s %b \\x41 \\".as_bytes());
        let long = "x".repeat(20_000) + "\n\\end";
        for shell in ["sh", "dash", "bash"] {
            if Command::new(shell).arg("-c").arg("true").status().is_err() {
                continue;
            }
            let dir = tempfile::tempdir().expect("temp");
            let out_dir = dir.path().join("buffers");
            let mut input = Vec::new();
            for (name, text) in [
                ("sb-a-1", HOSTILE.as_bytes()),
                ("sb-b-2", &every[..]),
                ("sb-a-1", long.as_bytes()),
                ("sb-c-3", b"".as_slice()),
            ] {
                input.extend(buffer_frame(name, text).expect("a frame"));
            }
            let out = run_writer(shell, &out_dir, input);
            assert!(out.status.success(), "{shell}: {out:?}");
            assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\nok\nok\nok\n");
            let read = |n: &str| std::fs::read(out_dir.join(n)).expect("written");
            assert_eq!(
                read("sb-a-1"),
                long.as_bytes(),
                "{shell}: a slot is rewritten"
            );
            assert_eq!(read("sb-b-2"), every, "{shell}");
            assert_eq!(read("sb-c-3"), b"", "{shell}");
            // A name that is not ours ends the writer.
            let bad = run_writer(shell, &out_dir, b"../x\nz\n".to_vec());
            assert!(!bad.status.success());
            assert!(!dir.path().join("x").exists());
            assert!(!dir.path().join("pwned").exists());
        }
        assert_eq!(buffer_frame("../x", b"z"), None);
        assert_eq!(buffer_frame("sb-a", b"nul\0"), None);
    }

    #[test]
    fn setup_runs_its_argv_literally_in_the_directory() {
        let dir = tempfile::tempdir().expect("temp");
        let work = dir.path().join(HOSTILE.replace('\n', " "));
        std::fs::create_dir_all(&work).expect("mkdir");
        let argv = vec![
            "sh".to_string(),
            "-c".into(),
            "printf '%s|' \"$PWD\" \"$@\"".into(),
            "sh".into(),
            HOSTILE.into(),
            "-n".into(),
        ];
        let out = run_as_host(&run_in(&work, 30, &argv), dir.path());
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{}|{HOSTILE}|-n|", work.display())
        );
        let missing = run_as_host(&run_in(&dir.path().join("gone"), 30, &argv), dir.path());
        assert_eq!(missing.status.code(), Some(125));
        let began = std::time::Instant::now();
        let slow = run_as_host(
            &run_in(&work, 1, &["sleep".to_string(), "30".into()]),
            dir.path(),
        );
        assert!(!slow.status.success());
        assert!(began.elapsed() < std::time::Duration::from_secs(10));
        assert!(!dir.path().join("pwned").exists());
        assert!(!work.join("pwned").exists());
    }

    /// The deadline's watch ends with the setup: no `sleep` is left on the
    /// host once the command has returned.
    #[test]
    fn setup_leaves_no_process_behind() {
        let dir = tempfile::tempdir().expect("temp");
        // A deadline no other test uses, to know its sleep by.
        let secs = 86_317;
        let sleeping = || {
            std::fs::read_dir("/proc")
                .expect("/proc")
                .flatten()
                .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
                .filter(|c| c == format!("sleep\0{secs}\0").as_bytes())
                .count()
        };
        let setup = ["sleep".to_string(), "0.2".into()];
        let out = run_as_host(&run_in(dir.path(), secs, &setup), dir.path());
        assert!(out.status.success(), "{out:?}");
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert_eq!(sleeping(), 0, "the deadline's sleep outlived the setup");
    }

    #[test]
    fn copy_files_copies_regular_files_only_and_says_so_in_order() {
        let dir = tempfile::tempdir().expect("temp");
        let (src, dst) = (dir.path().join("src"), dir.path().join("dst"));
        let odd = format!("deep/{}", HOSTILE.replace('\n', " "));
        std::fs::create_dir_all(src.join("deep")).expect("mkdir");
        std::fs::create_dir_all(&dst).expect("mkdir");
        std::fs::write(src.join(".env"), "SECRET=1\n").expect("write");
        std::fs::write(src.join(&odd), "odd\n").expect("write");
        std::os::unix::fs::symlink("/etc/passwd", src.join("link")).expect("link");
        let paths: Vec<String> = vec![".env".into(), "absent".into(), odd.clone(), "link".into()];
        let out = run_as_host(&copy_files(&src, &dst, &paths), dir.path());
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{COPIED}\n{MISSING}\n{COPIED}\n{NOT_A_FILE}\n")
        );
        assert_eq!(
            std::fs::read_to_string(dst.join(".env")).expect("copied"),
            "SECRET=1\n"
        );
        assert_eq!(
            std::fs::read_to_string(dst.join(&odd)).expect("copied"),
            "odd\n"
        );
        assert!(!dst.join("link").exists(), "a link is never followed");
        assert!(!dir.path().join("pwned").exists());
    }

    #[test]
    fn copy_files_refuses_a_directory_that_leads_out_of_the_repository_or_worktree() {
        let dir = tempfile::tempdir().expect("temp");
        let (src, dst) = (dir.path().join("src"), dir.path().join("dst"));
        let outside = dir
            .path()
            .join(format!("out {}", HOSTILE.replace('\n', " ")));
        for d in [&src, &dst, &outside] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        std::fs::write(outside.join("key"), "outside\n").expect("write");
        std::fs::create_dir_all(src.join("inner/real")).expect("mkdir");
        std::fs::write(src.join("inner/real/ok"), "ok\n").expect("write");
        // A link inside the repository to a directory inside it is fine.
        std::os::unix::fs::symlink("real", src.join("inner/near")).expect("link");
        std::os::unix::fs::symlink(&outside, src.join("secrets")).expect("link");
        let paths: Vec<String> = vec!["inner/near/ok".into(), "secrets/key".into()];
        let out = run_as_host(&copy_files(&src, &dst, &paths), dir.path());
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{COPIED}\n{OUT_OF_REPOSITORY}\n")
        );
        assert!(!dst.join("secrets").exists());
        // The worktree's side: a link there leading out of it.
        std::fs::create_dir_all(src.join("conf")).expect("mkdir");
        std::fs::write(src.join("conf/local.toml"), "port = 1\n").expect("write");
        std::os::unix::fs::symlink(&outside, dst.join("conf")).expect("link");
        let paths: Vec<String> = vec!["conf/local.toml".into()];
        let out = run_as_host(&copy_files(&src, &dst, &paths), dir.path());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{OUT_OF_WORKTREE}\n")
        );
        assert!(!outside.join("local.toml").exists(), "nothing written out");
        assert!(!dir.path().join("pwned").exists());
    }

    #[test]
    fn setup_on_a_host_carries_its_mark_and_a_bad_name_is_refused() {
        let dir = tempfile::tempdir().expect("temp");
        let env = vec![
            (PLACE_VAR.to_string(), HOSTILE.to_string()),
            ("SWITCHBOARD_JOB".to_string(), "7".to_string()),
        ];
        let argv = vec![
            "sh".to_string(),
            "-c".into(),
            "printf '%s|%s' \"$SWITCHBOARD_PLACE\" \"$SWITCHBOARD_JOB\"".into(),
        ];
        let cmd = run_in_with(dir.path(), 30, &env, &argv).expect("names");
        let out = run_as_host(&cmd, dir.path());
        assert!(out.status.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{HOSTILE}|7"));
        let bad = vec![("A=B; touch pwned".to_string(), "x".to_string())];
        assert!(run_in_with(dir.path(), 30, &bad, &argv).is_err());
        assert!(!dir.path().join("pwned").exists());
    }

    #[test]
    fn an_attempts_processes_are_ended_by_their_environment_alone() {
        if !Path::new("/proc/self/environ").exists() {
            return;
        }
        let dir = tempfile::tempdir().expect("temp");
        // grep splits patterns at newlines: a place never holds one (it
        // is refused), every other character is matched as itself.
        let hostile = HOSTILE.replace('\n', " ");
        let place = format!("{hostile}.*");
        let spawn = |place: &str, job: &str, attempt: Option<&str>| {
            let mut cmd = Command::new("sleep");
            cmd.arg("30")
                .env(PLACE_VAR, place)
                .env("SWITCHBOARD_JOB", job)
                .env_remove("SWITCHBOARD_ATTEMPT");
            if let Some(a) = attempt {
                cmd.env("SWITCHBOARD_ATTEMPT", a);
            }
            cmd.spawn().expect("sleep")
        };
        let mut mine = spawn(&place, "7", Some("1"));
        let mut unnumbered = spawn(&place, "7", None);
        let mut others = [
            spawn(&place, "7", Some("2")),
            spawn(&place, "70", Some("1")),
            spawn(&format!("{hostile}.x"), "7", Some("1")),
            spawn(&hostile, "7", Some("1")),
        ];
        let out = run_as_host(&end_attempt_processes(&place, 7, 1, 20), dir.path());
        assert!(out.status.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2", "{out:?}");
        assert!(mine.wait().is_ok_and(|s| !s.success()));
        assert!(unnumbered.wait().is_ok_and(|s| !s.success()));
        for other in &mut others {
            assert!(other.try_wait().expect("wait").is_none(), "left alone");
            let _ = other.kill();
            let _ = other.wait();
        }
        assert!(!dir.path().join("pwned").exists());
        // None found: none ended.
        let out = run_as_host(&end_attempt_processes(&place, 7, 1, 20), dir.path());
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0");
        let out = run_as_host(&end_attempt_processes(HOSTILE, 7, 1, 20), dir.path());
        assert!(!out.status.success(), "a newline is refused: {out:?}");
    }

    #[test]
    fn the_clean_inventory_lists_worktrees_and_branches_of_hostile_paths() {
        let dir = tempfile::tempdir().expect("temp");
        let worktrees = dir
            .path()
            .join(HOSTILE.replace('\n', " "))
            .join("worktrees");
        std::fs::create_dir_all(worktrees.join("job-3")).expect("worktree");
        std::fs::create_dir_all(worktrees.join("other")).expect("other");
        let repo = dir.path().join("repo $(touch pwned) '\n");
        std::fs::create_dir_all(&repo).expect("repo");
        let git = |args: &[&str]| {
            let out = run_as_host(&super::git(&repo, args, &[]), dir.path());
            assert!(out.status.success(), "{out:?}");
        };
        git(&["init", "-q", "-b", "main"]);
        git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "x",
        ]);
        git(&["branch", "switchboard/3"]);
        git(&["branch", "feature"]);
        let missing = dir.path().join("missing");
        let out = run_as_host(&clean_inventory(&worktrees, &[&missing, &repo]), dir.path());
        assert!(out.status.success(), "{out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "W job-3\nB 1 switchboard/3\n"
        );
        assert!(!dir.path().join("pwned").exists());
    }

    #[test]
    fn nul_in_a_remote_word_is_refused() {
        let cmd = git(Path::new("/r"), &["log", "a\0b"], &[]);
        assert!(command_line(cmd.argv()).is_err());
    }
}
