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
