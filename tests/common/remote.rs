//! A project that delivers to a remote: a real bare repository as
//! `origin`, the engine with or without a recording `gh`/`glab` stand-in
//! on its PATH, and the waits its tests share (tests/remote_delivery.rs).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::engine::{EngineProcess, FAST, home_with, start_engine_with_env, wait_secs};
use super::{Sandbox, git, git_output};

/// The address the project's remote is given: GitHub's shape, while
/// `insteadOf` sends fetch and push to the bare repository.
pub const GITHUB: &str = "https://github.com/acme/api.git";

/// A home with project `api` (agent `fast`), its checkout and the bare
/// repository that is its remote `origin`.
pub struct Remote {
    pub sb: Sandbox,
    pub repo: PathBuf,
    pub bare: PathBuf,
}

impl Remote {
    /// Project `api` delivering by `settings` (lines of its
    /// `[projects.api]`), with `origin` at `address` when given (through
    /// `insteadOf`), else at the bare repository's path.
    pub fn new(settings: &str, address: Option<&str>) -> Remote {
        let config = format!("{FAST}\n[projects.api]\n{settings}\n");
        let sb = home_with(&config, &["api"]);
        let repo = sb.dir.path().join("api");
        let bare = bare_remote(sb.dir.path(), &repo, address);
        Remote { sb, repo, bare }
    }
}

/// The first item of `review --json`.
pub fn review(sb: &Sandbox) -> Value {
    sb.run(&["review", "--json"]).json()[0].clone()
}

pub fn review_state(sb: &Sandbox) -> String {
    review(sb)["state"].as_str().unwrap_or_default().to_string()
}

/// Job `id`'s events, as JSON text.
pub fn events(sb: &Sandbox, id: i64) -> String {
    sb.run(&["jobs", &id.to_string(), "--json"]).json()["events"].to_string()
}

/// Dispatches "write the docs" to `api` and waits for job 1 in review.
pub fn dispatch_until_ready(sb: &Sandbox) {
    sb.run(&["dispatch", "api", "write the docs"]).ok();
    until(sb, "ready", "the review item");
}

/// Approves job 1 and waits for its item to show `state` (`what` names
/// the wait in a timeout).
pub fn approve_until(sb: &Sandbox, state: &str, what: &str) {
    sb.run(&["approve", "1"]).ok();
    until(sb, state, what);
}

/// Waits for the review item to show `state`.
pub fn until(sb: &Sandbox, state: &str, what: &str) {
    wait_secs(30, what, || review_state(sb) == state);
}

/// Someone else's work: a commit pushed to the remote's main from a
/// clone (in `dir`), with `file` set to `text`.
pub fn push_to_remote_main(dir: &Path, bare: &Path, file: &str, text: &str) {
    let clone = dir.join(format!("clone-{}", file.replace('/', "-")));
    if !clone.exists() {
        git(dir, &["clone", "-q", utf8(bare), utf8(&clone)]);
    }
    git(&clone, &["pull", "-q", "--no-rebase", "origin", "main"]);
    fs::write(clone.join(file), text).expect("write");
    git(&clone, &["add", file]);
    git(
        &clone,
        &["commit", "-q", "-m", &format!("someone's {file}")],
    );
    git(&clone, &["push", "-q", "origin", "main"]);
}

/// Merges `branch` of the remote into its main, as a reviewer would (from
/// a clone in `dir`).
pub fn merge_on_remote(dir: &Path, bare: &Path, branch: &str) {
    let clone = dir.join("reviewer");
    git(dir, &["clone", "-q", utf8(bare), utf8(&clone)]);
    git(
        &clone,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "merged by a reviewer",
            &format!("origin/{branch}"),
        ],
    );
    git(&clone, &["push", "-q", "origin", "main"]);
}

/// The engine of `sb`, certainly without `gh` (or `glab`) on its PATH.
pub fn engine(sb: &Sandbox) -> EngineProcess {
    engine_with_path(sb, &path_without_gh())
}

/// The engine of `sb` with `bin` (a stand-in's directory) first on its
/// PATH, and no other `gh` or `glab`.
pub fn engine_with(sb: &Sandbox, bin: &Path) -> EngineProcess {
    let path = format!("{}:{}", bin.display(), path_without_gh());
    engine_with_path(sb, &path)
}

fn utf8(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// A bare repository `remote.git` under `dir`, added to `repo` as its
/// remote `origin` (at `address` through `insteadOf`, when given), with
/// `repo`'s main pushed to it.
pub fn bare_remote(dir: &Path, repo: &Path, address: Option<&str>) -> PathBuf {
    let bare = dir.join("remote.git");
    git(dir, &["init", "-q", "--bare", "-b", "main", "remote.git"]);
    let bare_path = utf8(&bare);
    match address {
        Some(url) => {
            git(repo, &["remote", "add", "origin", url]);
            git(
                repo,
                &["config", &format!("url.{bare_path}.insteadOf"), url],
            );
        }
        None => git(repo, &["remote", "add", "origin", bare_path]),
    }
    git(repo, &["push", "-q", "origin", "main"]);
    bare
}

/// Whether `name` resolves in `repo`.
pub fn has_ref(repo: &Path, name: &str) -> bool {
    std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", "--verify", "--quiet", name])
        .output()
        .expect("git")
        .status
        .success()
}

pub fn rev(repo: &Path, what: &str) -> String {
    git_output(repo, &["rev-parse", what]).trim().to_string()
}

/// The engine of `sb` with `path` as its PATH.
pub fn engine_with_path(sb: &Sandbox, path: &str) -> EngineProcess {
    start_engine_with_env(sb, &[("PATH", path)])
}

/// PATH without any directory that holds a `gh` (or `glab`).
pub fn path_without_gh() -> String {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|d| !d.join("gh").exists() && !d.join("glab").exists())
        .collect();
    std::env::join_paths(dirs)
        .expect("PATH")
        .to_string_lossy()
        .into_owned()
}

/// Writes an executable `name` script into `dir/bin`; returns `dir/bin`.
fn stand_in(dir: &Path, name: &str, script: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).expect("mkdir");
    let file = bin.join(name);
    fs::write(&file, script).expect("write");
    fs::set_permissions(&file, fs::Permissions::from_mode(0o755)).expect("chmod");
    bin
}

/// A stand-in for `gh` in `dir/bin`: it records each call's argv (a line,
/// tab-separated) in `dir/calls` (and the test host it ran on, or `here`,
/// in `dir/where`: see [`ran_on`]) and the body file of `pr create` in
/// `dir/body`, prints the URL as `gh pr create` does, and answers `pr
/// view` with `dir/state.json` (an open pull request until a test writes
/// another).
pub fn fake_gh(dir: &Path) -> PathBuf {
    let d = utf8(dir);
    let script = format!(
        r#"#!/bin/sh
{{ printf 'gh'; for a in "$@"; do printf '\t%s' "$a"; done; printf '\n'; }} >> '{d}/calls'
printf '%s\n' "${{SB_TEST_HOST:-here}}" >> '{d}/where'
cat > '{d}/stdin'
if [ "$1" = pr ] && [ "$2" = create ]; then
  prev=""
  for a in "$@"; do
    if [ "$prev" = "--body-file" ]; then cp "$a" '{d}/body'; fi
    prev="$a"
  done
  echo "https://github.com/acme/api/pull/7"
  exit 0
fi
if [ "$1" = pr ] && [ "$2" = view ]; then
  cat '{d}/state.json'
  exit 0
fi
echo "gh stand-in: unexpected call" >&2
exit 1
"#
    );
    let bin = stand_in(dir, "gh", &script);
    fs::write(
        dir.join("state.json"),
        r#"{"mergedAt":null,"state":"OPEN","url":"https://github.com/acme/api/pull/7"}"#,
    )
    .expect("write");
    bin
}

/// The calls a [`fake_gh`] recorded, each its argv after `gh`.
pub fn calls(dir: &Path) -> Vec<Vec<String>> {
    fs::read_to_string(dir.join("calls"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('\t').skip(1).map(str::to_string).collect())
        .collect()
}

/// A stand-in for `glab` in `dir/bin`, as [`fake_gh`]: `mr create` prints
/// what glab prints (the URL on its last line), `mr view` answers with
/// `dir/state.json` (a failure until a test writes another).
pub fn fake_glab(dir: &Path) -> PathBuf {
    let d = utf8(dir);
    let script = format!(
        r#"#!/bin/sh
{{ for a in "$@"; do printf '%s\0' "$a"; done; printf '\036\0'; }} >> '{d}/calls'
printf '%s\n' "${{SB_TEST_HOST:-here}}" >> '{d}/where'
if [ "$1" = mr ] && [ "$2" = create ]; then
  printf '\nCreating merge request for switchboard/1 into main in acme/api\n\n!3 title (switchboard/1)\n https://gitlab.com/acme/api/-/merge_requests/3\n\n'
  exit 0
fi
if [ "$1" = mr ] && [ "$2" = view ]; then
  cat '{d}/state.json'
  exit 0
fi
echo "glab stand-in: unexpected call" >&2
exit 1
"#
    );
    let bin = stand_in(dir, "glab", &script);
    fs::write(dir.join("state.json"), "glab: 401 Unauthorized").expect("write");
    bin
}

/// The calls a [`fake_glab`] recorded: arguments NUL-terminated (a
/// description has newlines), each call ended by an RS argument.
pub fn glab_calls(dir: &Path) -> Vec<Vec<String>> {
    let text = fs::read_to_string(dir.join("calls")).unwrap_or_default();
    let mut out = vec![Vec::new()];
    for arg in text.split('\0').filter(|a| !a.is_empty()) {
        if arg == "\u{1e}" {
            out.push(Vec::new());
        } else if let Some(last) = out.last_mut() {
            last.push(arg.to_string());
        }
    }
    out.retain(|c| !c.is_empty());
    out
}

/// Where each call of a stand-in ran: the test host's name (its login
/// sets `SB_TEST_HOST`), or `here`.
pub fn ran_on(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("where"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}
