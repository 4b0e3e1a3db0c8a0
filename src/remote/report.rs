//! Reports from agents on remote hosts.
//!
//! An agent on a host has no journal to write to. Its `switchboard report`
//! (its hooks, the demo agent) keeps the report in user options of its own
//! pane on the host's private tmux server (the session's `TMUX` and
//! `TMUX_PANE` say which); the engine's patrol reads them in the
//! `list-panes` it already makes each pass, so a report costs no extra
//! round trip and needs no connection back to the engine.
//!
//! The pane keeps the last [`HISTORY`] reports, newest in [`OPTION`], each
//! numbered: a report counts up the pane's [`SEQ_OPTION`], shifts the
//! older ones down by one and sets the newest as `SEQ JSON`, all in a
//! single tmux command list, which the server runs without interleaving
//! another client's commands, so two hooks firing at once (Notification
//! then Stop) both stay, in order, with consecutive numbers. The engine
//! journals, with each report it takes, the pane and the number
//! (`pane_marks`: per job and attempt), and takes only those numbered
//! above it, oldest first: each once, after an engine restart too, whatever
//! the host's clock says. More than [`HISTORY`] reports between two looks
//! push the oldest out; the gap in the numbers says how many, and the
//! job's events say so.

use serde::{Deserialize, Serialize};

use crate::journal::{ReportSource, ReportStatus};

/// The pane option the newest report is kept in; the older ones follow in
/// `@switchboard_report_2` … (see [`option`]).
pub const OPTION: &str = "@switchboard_report";

/// How many reports a pane keeps.
pub const HISTORY: usize = 8;

/// The pane option that counts the pane's reports (the number of the
/// newest).
pub const SEQ_OPTION: &str = "@switchboard_report_seq";

/// Set to [`PANE`] in the environment of agents on remote hosts.
pub const MODE_VAR: &str = "SWITCHBOARD_REPORT";
pub const PANE: &str = "pane";

/// Longest message kept (a pane option is not a log).
const MAX_MESSAGE: usize = 2000;

/// The pane option of the `n`th newest report (0: the newest).
pub fn option(n: usize) -> String {
    if n == 0 {
        OPTION.to_string()
    } else {
        format!("{OPTION}_{}", n + 1)
    }
}

/// One report, as it travels in a pane option. Unknown fields, statuses
/// and sources are refused (a report this version cannot read is told,
/// not guessed at).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaneReport {
    /// When the agent reported (its host's clock), milliseconds.
    pub at: i64,
    pub job: i64,
    pub status: Option<ReportStatus>,
    pub progress: Option<u8>,
    pub message: Option<String>,
    pub source: ReportSource,
}

/// Whether this process reports through its pane (it runs on a host).
pub fn through_pane() -> bool {
    std::env::var(MODE_VAR).is_ok_and(|v| v == PANE)
}

/// The tmux arguments that put `json` on top of `pane`'s history: the
/// count goes up by one (`#{e|+:…,1}`, tmux 3.2's arithmetic; unset
/// counts as 0), each older option takes the one above it (`-F`: the
/// value is the format `#{@switchboard_report_N}`, expanded once, so a
/// report's own text is never read as a format), then the newest is set
/// to the count and a space (`-F`, our own format) with the JSON appended
/// to it (`-a`, one argument, not a format). `;` as its own argument
/// separates the commands of one list.
pub fn shift_args(pane: &str, json: &str) -> Vec<String> {
    let set = |flags: &[&str], option: &str, value: String| {
        let mut words = vec![
            "set-option".to_string(),
            "-p".into(),
            "-t".into(),
            pane.to_string(),
        ];
        words.extend(flags.iter().map(|f| f.to_string()));
        words.extend([option.to_string(), value, ";".into()]);
        words
    };
    let mut args: Vec<String> = Vec::new();
    args.extend(set(
        &["-F"],
        SEQ_OPTION,
        format!("#{{e|+:#{{{SEQ_OPTION}}},1}}"),
    ));
    for n in (1..HISTORY).rev() {
        args.extend([
            "set-option".to_string(),
            "-p".into(),
            "-t".into(),
            pane.to_string(),
            "-F".into(),
            option(n),
            format!("#{{{}}}", option(n - 1)),
            ";".into(),
        ]);
    }
    args.extend(set(&["-F"], OPTION, format!("#{{{SEQ_OPTION}}} ")));
    args.extend(set(&["-a"], OPTION, json.to_string()));
    args.pop();
    args
}

/// One entry of a pane's history: its number (`None`: a report of a
/// switchboard before numbering, its JSON alone) and its text.
pub fn entry(text: &str) -> (Option<u64>, &str) {
    match text.split_once(' ') {
        Some((n, rest)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            (n.parse().ok(), rest)
        }
        _ => (None, text),
    }
}

/// What is new in a pane's numbered history (`options`: newest first)
/// since the report numbered `taken` (0: none yet): the new entries
/// oldest first, with their numbers, and how many were pushed out of the
/// history before they could be read (a gap above `taken`).
pub fn fresh(options: &[String], taken: u64) -> (Vec<(u64, &str)>, u64) {
    let mut new: Vec<(u64, &str)> = options
        .iter()
        .filter_map(|t| match entry(t) {
            (Some(n), text) if n > taken => Some((n, text)),
            _ => None,
        })
        .collect();
    new.sort_by_key(|(n, _)| *n);
    new.dedup_by_key(|(n, _)| *n);
    let lost = new.first().map_or(0, |(n, _)| n - taken - 1);
    (new, lost)
}

/// Adds `report` to this process's pane.
pub fn send(
    job: i64,
    status: Option<ReportStatus>,
    progress: Option<u8>,
    message: Option<&str>,
    source: ReportSource,
) -> Result<(), String> {
    let pane = std::env::var("TMUX_PANE")
        .map_err(|_| "not inside a tmux pane (no TMUX_PANE): cannot report".to_string())?;
    let report = PaneReport {
        at: crate::model::Timestamp::now().millis(),
        job,
        status,
        progress,
        message: message.map(|m| m.chars().take(MAX_MESSAGE).collect()),
        source,
    };
    let json = serde_json::to_string(&report).map_err(|e| e.to_string())?;
    // The session's own server (TMUX): argv only, the JSON one argument.
    let out = std::process::Command::new("tmux")
        .args(shift_args(&pane, &json))
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run tmux: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "tmux set-option: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The report in a pane option's text: `None` when it holds none, an
/// error naming what is wrong when it holds one this version refuses.
pub fn parse(text: &str) -> Result<Option<PaneReport>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    serde_json::from_str(text)
        .map(Some)
        .map_err(|e| format!("a report this version cannot read ({e})"))
}

/// The reports of a pane's history (`options`: the option values, newest
/// first) that came after `seen` (the newest one taken before, by its
/// text), oldest first. Empty values are skipped; when `seen` is not in
/// the history (none taken yet, an engine restart, or more reports than
/// it keeps between two looks) every report is returned.
pub fn unseen<'a>(options: &'a [String], seen: Option<&str>) -> Vec<&'a str> {
    let present: Vec<&str> = options
        .iter()
        .map(String::as_str)
        .filter(|t| !t.is_empty())
        .collect();
    let end = seen
        .and_then(|s| present.iter().position(|t| *t == s))
        .unwrap_or(present.len());
    present[..end].iter().rev().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_survives_the_option_round_trip() {
        let r = PaneReport {
            at: 5,
            job: 7,
            status: Some(ReportStatus::Done),
            progress: Some(100),
            message: Some("tab\there \"q\" $(x) #{pane_id} #(id)".into()),
            source: ReportSource::DemoAgent,
        };
        let text = serde_json::to_string(&r).expect("json");
        assert!(!text.contains('\t') && !text.contains('\n'), "{text}");
        assert!(text.contains("\"source\":\"demo-agent\""), "{text}");
        assert_eq!(parse(&text), Ok(Some(r.clone())));
        assert_eq!(parse(""), Ok(None));
        assert!(parse("garbage").is_err());
    }

    #[test]
    fn unknown_statuses_and_sources_are_refused_by_name() {
        let status =
            r#"{"at":1,"job":2,"status":"finished","progress":null,"message":null,"source":"cli"}"#;
        let e = parse(status).expect_err("refused");
        assert!(e.contains("finished"), "{e}");
        let source =
            r#"{"at":1,"job":2,"status":"done","progress":null,"message":null,"source":"pager"}"#;
        let e = parse(source).expect_err("refused");
        assert!(e.contains("pager"), "{e}");
        let known = r#"{"at":1,"job":2,"status":"waiting","progress":null,"message":null,"source":"claude-hook"}"#;
        let r = parse(known).expect("read").expect("a report");
        assert_eq!(
            (r.status, r.source),
            (Some(ReportStatus::Waiting), ReportSource::ClaudeHook)
        );
    }

    #[test]
    fn the_history_gives_what_came_after_the_last_seen_oldest_first() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let options = h(&["d", "c", "b", "a"]);
        assert_eq!(unseen(&options, Some("b")), vec!["c", "d"]);
        assert_eq!(unseen(&options, Some("d")), Vec::<&str>::new());
        assert_eq!(unseen(&options, None), vec!["a", "b", "c", "d"]);
        assert_eq!(unseen(&options, Some("gone")), vec!["a", "b", "c", "d"]);
        assert_eq!(unseen(&h(&["b", "a", "", ""]), Some("a")), vec!["b"]);
        assert_eq!(unseen(&h(&["", "", "", ""]), None), Vec::<&str>::new());
    }

    #[test]
    fn the_shift_names_the_options_in_order_and_keeps_the_json_one_word() {
        let json = r#"{"message":"a ; b #{pane_id}"}"#;
        let args = shift_args("%3", json);
        assert_eq!(args.last().map(String::as_str), Some(json));
        // The count, the shift, the number, the JSON appended.
        assert_eq!(args.iter().filter(|a| *a == ";").count(), HISTORY + 1);
        assert!(args.contains(&"#{@switchboard_report}".to_string()));
        assert!(args.contains(&"#{e|+:#{@switchboard_report_seq},1}".to_string()));
        assert_eq!(args[args.len() - 2], OPTION);
        assert_eq!(args[args.len() - 3], "-a");
        assert_eq!(option(0), OPTION);
        assert_eq!(option(3), "@switchboard_report_4");
    }

    #[test]
    fn numbered_entries_after_the_last_taken_come_oldest_first_with_the_gap() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(entry("12 {\"a\":1}"), (Some(12), "{\"a\":1}"));
        assert_eq!(entry("{\"a\":1}"), (None, "{\"a\":1}"));
        assert_eq!(entry(""), (None, ""));
        let options = h(&["7 g", "6 f", "5 e", "", ""]);
        assert_eq!(fresh(&options, 5), (vec![(6, "f"), (7, "g")], 0));
        assert_eq!(fresh(&options, 7), (vec![], 0));
        assert_eq!(fresh(&options, 0), (vec![(5, "e"), (6, "f"), (7, "g")], 4));
        assert_eq!(fresh(&options, 2), (vec![(5, "e"), (6, "f"), (7, "g")], 2));
        assert_eq!(
            fresh(&h(&["{}", ""]), 0),
            (vec![], 0),
            "unnumbered: not here"
        );
    }
}
