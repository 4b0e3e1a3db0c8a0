//! Opening a pull request with the forge's own command-line tool (`gh`
//! for GitHub, `glab` for GitLab) and following its state. Every value
//! is its own argv element (the body goes to `gh` as a file); the tool
//! runs with a deadline and never prompts.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::model::{DeliveryKind, DeliveryState};
use crate::remote::SshError;
use crate::remote::commands;
use crate::remote::probe::Found;
use crate::workspace::Place;
use crate::workspace::bounded::{NETWORK_TIMEOUT, run_bounded};
use crate::workspace::forge::{Forge, ForgeRepo};

/// A forge's command-line tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Gh,
    Glab,
}

impl Tool {
    /// The tool for a remote's forge: `glab` for GitLab, else `gh`.
    pub fn for_remote(repo: Option<&ForgeRepo>) -> Tool {
        match repo.map(|r| r.forge) {
            Some(Forge::GitLab) => Tool::Glab,
            _ => Tool::Gh,
        }
    }

    pub fn program(self) -> &'static str {
        match self {
            Tool::Gh => "gh",
            Tool::Glab => "glab",
        }
    }

    pub fn kind(self) -> DeliveryKind {
        match self {
            Tool::Gh => DeliveryKind::Pr,
            Tool::Glab => DeliveryKind::Mr,
        }
    }

    /// Whether it is on PATH at `place` (on a host: the login's PATH
    /// there).
    pub fn installed(self, place: &Place) -> anyhow::Result<bool> {
        match place {
            Place::Local => Ok(super::resolve_program(self.program()).is_some()),
            Place::Host(ssh) => {
                let out = ssh.run(&commands::find_programs(&[self.program()]))?;
                Ok(Found::parse(&String::from_utf8_lossy(&out.stdout)).has(self.program()))
            }
        }
    }

    /// Runs the tool with `args` in `cwd` at `place`, never prompting,
    /// within the network deadline.
    fn run(self, place: &Place, cwd: &Path, args: Vec<String>) -> anyhow::Result<ToolOutput> {
        match place {
            Place::Local => {
                let mut cmd = Command::new(self.program());
                cmd.current_dir(cwd).args(args);
                for (k, v) in QUIET {
                    cmd.env(k, v);
                }
                let out = run_bounded(cmd, NETWORK_TIMEOUT)?;
                Ok(ToolOutput {
                    ok: out.status.success(),
                    status: out.status.to_string(),
                    stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                })
            }
            Place::Host(ssh) => {
                let mut argv: Vec<String> = vec!["env".into()];
                argv.extend(QUIET.iter().map(|(k, v)| format!("{k}={v}")));
                argv.push(self.program().into());
                argv.extend(args);
                let cmd = commands::run_in(cwd, NETWORK_TIMEOUT.as_secs(), &argv);
                match ssh.run_within(&cmd, NETWORK_TIMEOUT + Duration::from_secs(10)) {
                    Ok(out) => Ok(ToolOutput {
                        ok: true,
                        status: "exit status: 0".into(),
                        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
                    }),
                    Err(SshError::Remote { code, stderr, .. }) => Ok(ToolOutput {
                        ok: false,
                        status: format!("exit status: {code}, on {}", ssh.address()),
                        stdout: String::new(),
                        stderr,
                    }),
                    Err(e) => Err(e.into()),
                }
            }
        }
    }
}

/// The environment that keeps `gh` and `glab` from prompting or
/// printing colour.
const QUIET: [(&str, &str); 4] = [
    ("GH_PROMPT_DISABLED", "1"),
    ("GH_NO_UPDATE_NOTIFIER", "1"),
    ("GLAB_NO_PROMPT", "1"),
    ("NO_COLOR", "1"),
];

/// What a run of the tool gave.
struct ToolOutput {
    ok: bool,
    status: String,
    stdout: String,
    stderr: String,
}

/// A pull request to open.
pub struct NewRequest<'a> {
    /// The source checkout (the tool reads its remotes).
    pub repo_dir: &'a Path,
    /// `--repo` for the tool, when the remote's address names one.
    pub repo: Option<&'a ForgeRepo>,
    pub base: &'a str,
    pub branch: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    /// Where the body is written for `gh --body-file`.
    pub body_file: &'a Path,
}

/// The argv (after the program) that opens `req`.
pub fn create_args(tool: Tool, req: &NewRequest) -> Vec<String> {
    let mut args: Vec<String> = match tool {
        Tool::Gh => [
            "pr",
            "create",
            "--base",
            req.base,
            "--head",
            req.branch,
            "--title",
            req.title,
            "--body-file",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain(std::iter::once(
            req.body_file.to_string_lossy().into_owned(),
        ))
        .collect(),
        Tool::Glab => [
            "mr",
            "create",
            "--source-branch",
            req.branch,
            "--target-branch",
            req.base,
            "--title",
            req.title,
            "--description",
            req.body,
            "--yes",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
    };
    if let Some(repo) = req.repo {
        args.extend(["--repo".to_string(), repo.repo_arg()]);
    }
    args
}

/// Opens the pull request at `place` (the tool runs where the
/// repository is; `gh`'s body file is written there, through stdin on a
/// host); its URL.
pub fn create(place: &Place, tool: Tool, req: &NewRequest) -> anyhow::Result<String> {
    if tool == Tool::Gh {
        place.write(req.body_file, req.body.as_bytes())?;
    }
    let out = tool.run(place, req.repo_dir, create_args(tool, req));
    if tool == Tool::Gh {
        let _ = place.remove_file(req.body_file);
    }
    let out = out?;
    if !out.ok {
        anyhow::bail!(
            "`{} {} create` failed ({}): {}",
            tool.program(),
            if tool == Tool::Gh { "pr" } else { "mr" },
            out.status,
            said(&out)
        );
    }
    url_in(&out.stdout).ok_or_else(|| {
        anyhow::anyhow!(
            "`{}` opened no request that it named (no URL in its output: {})",
            tool.program(),
            said(&out)
        )
    })
}

/// The argv (after the program) that asks for a request's state.
pub fn view_args(tool: Tool, url: &str, branch: &str, repo: Option<&ForgeRepo>) -> Vec<String> {
    let mut args: Vec<String> = match tool {
        Tool::Gh => vec![
            "pr".into(),
            "view".into(),
            url.into(),
            "--json".into(),
            "state,url,mergedAt".into(),
        ],
        Tool::Glab => vec![
            "mr".into(),
            "view".into(),
            branch.into(),
            "--output".into(),
            "json".into(),
        ],
    };
    if tool == Tool::Glab
        && let Some(repo) = repo
    {
        args.extend(["--repo".to_string(), repo.repo_arg()]);
    }
    args
}

/// The request's state now, and its URL as the forge gives it (the tool
/// run at `place`).
pub fn state(
    place: &Place,
    tool: Tool,
    repo_dir: &Path,
    url: &str,
    branch: &str,
    repo: Option<&ForgeRepo>,
) -> anyhow::Result<(DeliveryState, Option<String>)> {
    let out = tool.run(place, repo_dir, view_args(tool, url, branch, repo))?;
    if !out.ok {
        anyhow::bail!(
            "`{} view` failed ({}): {}",
            tool.program(),
            out.status,
            said(&out)
        );
    }
    parse_state(&out.stdout).map_err(anyhow::Error::msg)
}

/// Reads `gh pr view --json state,url` (`{"state":"OPEN","url":…}`) or
/// `glab mr view --output json` (`{"state":"opened","web_url":…}`).
pub fn parse_state(json: &str) -> Result<(DeliveryState, Option<String>), String> {
    let value: serde_json::Value = serde_json::from_str(json.trim())
        .map_err(|e| format!("the tool's answer is not JSON ({e})"))?;
    let word = value
        .get("state")
        .and_then(|s| s.as_str())
        .ok_or("the tool's answer has no state")?;
    let state = match word.to_ascii_lowercase().as_str() {
        "open" | "opened" | "locked" => DeliveryState::Open,
        "merged" => DeliveryState::Merged,
        "closed" => DeliveryState::Closed,
        other => return Err(format!("unknown pull request state {other:?}")),
    };
    let url = value
        .get("url")
        .or_else(|| value.get("web_url"))
        .and_then(|u| u.as_str())
        .map(str::to_string);
    Ok((state, url))
}

/// The last line of a tool's output that is a web address.
pub fn url_in(stdout: &str) -> Option<String> {
    stdout
        .lines()
        .rev()
        .filter_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("https://") || w.starts_with("http://"))
        })
        .next()
        .map(str::to_string)
}

/// What the tool said, on one line, for an error.
fn said(out: &ToolOutput) -> String {
    let text = if out.stderr.trim().is_empty() {
        &out.stdout
    } else {
        &out.stderr
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gh_and_glab_answers_are_read() {
        let (s, url) = parse_state(
            r#"{"mergedAt":null,"state":"OPEN","url":"https://github.com/acme/api/pull/7"}"#,
        )
        .unwrap();
        assert_eq!(s, DeliveryState::Open);
        assert_eq!(url.as_deref(), Some("https://github.com/acme/api/pull/7"));
        let (s, _) = parse_state(
            r#"{"mergedAt":"2026-11-29T10:00:00Z","state":"MERGED","url":"https://github.com/acme/api/pull/7"}"#,
        )
        .unwrap();
        assert_eq!(s, DeliveryState::Merged);
        let (s, url) = parse_state(
            r#"{"iid":3,"state":"closed","web_url":"https://gitlab.com/g/api/-/merge_requests/3"}"#,
        )
        .unwrap();
        assert_eq!(s, DeliveryState::Closed);
        assert!(url.unwrap().ends_with("/merge_requests/3"));
        assert!(parse_state("not json").is_err());
        assert!(parse_state(r#"{"state":"DRAFTY"}"#).is_err());
    }

    #[test]
    fn the_url_is_found_in_what_the_tool_prints() {
        assert_eq!(
            url_in("https://github.com/acme/api/pull/7\n").as_deref(),
            Some("https://github.com/acme/api/pull/7")
        );
        let glab = "\nCreating merge request for switchboard/3 into main in g/api\n\n!3 title (switchboard/3)\n https://gitlab.com/g/api/-/merge_requests/3\n\n";
        assert_eq!(
            url_in(glab).as_deref(),
            Some("https://gitlab.com/g/api/-/merge_requests/3")
        );
        assert_eq!(url_in("nothing here"), None);
    }

    #[test]
    fn every_value_is_its_own_argument() {
        let repo = ForgeRepo::parse("git@github.com:acme/api.git").unwrap();
        let req = NewRequest {
            repo_dir: Path::new("/r"),
            repo: Some(&repo),
            base: "main",
            branch: "switchboard/4",
            title: "fix; rm -rf / $(x)",
            body: "body",
            body_file: Path::new("/w/.switchboard/pr-body.md"),
        };
        assert_eq!(
            create_args(Tool::Gh, &req),
            [
                "pr",
                "create",
                "--base",
                "main",
                "--head",
                "switchboard/4",
                "--title",
                "fix; rm -rf / $(x)",
                "--body-file",
                "/w/.switchboard/pr-body.md",
                "--repo",
                "acme/api"
            ]
        );
        let glab = create_args(Tool::Glab, &req);
        assert!(glab.windows(2).any(|w| w == ["--description", "body"]));
    }
}
