//! The README against the repository and the binary: its links stay
//! inside the repository and lead to files that exist; every
//! `switchboard …` command in its code blocks is one the binary has.

mod common;

use std::path::Path;

const README: &str = include_str!("../README.md");

#[test]
fn links_stay_inside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (i, _) in README.match_indices("](") {
        let rest = &README[i + 2..];
        let target = &rest[..rest.find(')').unwrap_or(rest.len())];
        let target = target.split('#').next().unwrap_or("");
        if target.is_empty() || target.starts_with("http") {
            continue;
        }
        assert!(!target.contains(".."), "{target} leaves the repository");
        assert!(root.join(target).exists(), "{target} does not exist");
    }
}

#[test]
fn every_command_in_a_sample_is_the_binarys() {
    let help = common::Run::of(std::process::Command::new(common::BIN).arg("--help")).stdout;
    let known: Vec<&str> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(known.contains(&"dispatch"), "{help}");
    let mut in_block = false;
    for line in README.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        let line = line.trim_start();
        if !in_block || !line.starts_with("switchboard ") {
            continue;
        }
        let word = line.split_whitespace().nth(1).unwrap_or("");
        if word.starts_with('-') || word.starts_with('#') {
            continue;
        }
        assert!(
            known.contains(&word),
            "README runs `switchboard {word}`: {line}"
        );
    }
}

/// Every transcript in the README of a command whose output is the same
/// on every run (`$ switchboard simulate …`: a virtual clock, a fixed
/// seed) is what the binary prints now, line for line. One went stale
/// when the simulator's words changed, and an operator comparing their
/// run with it would look for a fault that is not there.
#[test]
fn every_transcript_of_a_deterministic_command_is_what_it_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lines: Vec<&str> = README.lines().collect();
    let mut checked = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some(command) = line.strip_prefix("$ switchboard simulate ") else {
            continue;
        };
        let expected: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| !l.starts_with("```"))
            .copied()
            .collect();
        let sb = common::Sandbox::new();
        let mut cmd = sb.cmd(&["simulate"]);
        cmd.args(command.split_whitespace()).current_dir(root);
        let out = common::Run::of(&mut cmd);
        let printed: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(printed, expected, "README line {}: {line}", i + 1);
        checked += 1;
    }
    assert!(checked > 0, "the README has a simulate transcript");
}
