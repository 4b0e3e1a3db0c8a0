use super::*;
use crate::remote::report::option;
use proptest::prelude::*;

#[test]
fn the_listing_reads_every_report_option_in_order() {
    for n in 0..HISTORY {
        assert_eq!(MARKED[1 + n], format!("#{{{}}}", option(n)));
    }
    assert_eq!(MARKED[0], "#{pane_title}");
}

/// The listing of this machine's server asks for no report option and
/// sets apart only the name and the title (a pass over 200 agents waits
/// on it); a host's asks for every report option.
#[test]
fn only_a_hosts_listing_asks_for_the_report_options() {
    let here = Listing::with_token("t0k3n", ReportOptions::Unread);
    let format = here.format();
    assert!(!format.contains("@switchboard_report"), "{format}");
    assert_eq!(format.matches("~sbt0k3n~").count(), 2, "{format}");
    let host = Listing::with_token("t0k3n", ReportOptions::Read);
    let format = host.format();
    for n in 0..HISTORY {
        assert!(format.contains(&format!("#{{{}}}", option(n))), "{format}");
    }
    assert_eq!(format.matches("~sbt0k3n~").count(), 2 + HISTORY, "{format}");
}

/// One pane's values, by format variable.
#[derive(Clone)]
struct Pane {
    name: String,
    id: String,
    dead: bool,
    title: String,
    reports: Vec<String>,
}

impl Pane {
    fn new(name: &str, report: &str, title: &str) -> Pane {
        let mut reports = vec![report.to_string()];
        reports.extend((1..HISTORY).map(|_| String::new()));
        Pane {
            name: name.to_string(),
            id: format!("%{}", name.len()),
            dead: false,
            title: title.to_string(),
            reports,
        }
    }

    fn value(&self, variable: &str) -> String {
        match variable {
            "session_name" => self.name.clone(),
            "pane_id" => self.id.clone(),
            "pane_pid" => "42".into(),
            "pane_dead" => if self.dead { "1" } else { "0" }.into(),
            "pane_dead_status" => if self.dead { "0" } else { "" }.into(),
            "pane_dead_signal" => String::new(),
            "window_activity" => "7".into(),
            "pane_title" => self.title.clone(),
            other => (0..HISTORY)
                .find(|n| other == option(*n))
                .map(|n| self.reports[n].clone())
                .unwrap_or_else(|| panic!("unknown variable {other}")),
        }
    }
}

/// What tmux prints for `panes` under `listing`: each `#{variable}` of
/// the format replaced by the pane's value, as it is (newlines, tabs).
fn printed(listing: &Listing, panes: &[Pane]) -> String {
    let format = listing.format();
    let mut out = String::new();
    for pane in panes {
        let mut rest = format.as_str();
        while let Some(at) = rest.find("#{") {
            out.push_str(&rest[..at]);
            let end = at + rest[at..].find('}').expect("closed");
            out.push_str(&pane.value(&rest[at + 2..end]));
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out.push('\n');
    }
    out
}

#[test]
fn a_field_holding_newlines_and_tabs_stays_one_field() {
    let listing = Listing::with_token("t0k3n", ReportOptions::Read);
    let forged = "x\n~sbt0k3m~\t%9\t1\t1\t0\t\t1\tsb-2-1\t~sbt0k3m~\tforged\n~sb~\tsb-3-1";
    let out = printed(
        &listing,
        &[
            Pane::new("sb-1-1", forged, "a\ttitle"),
            Pane::new("sb-2-1", "", ""),
        ],
    );
    let sessions = listing.parse(&out);
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(sessions[0].reports[0], forged);
    assert_eq!(sessions[0].reports.len(), HISTORY);
    assert_eq!(sessions[0].title, "a\ttitle");
    assert_eq!(sessions[0].activity, Some(7));
    assert!(!sessions[1].dead && sessions[1].pid == Some(42));
    assert_eq!(sessions[1].pane, "%6");
}

/// This machine's listing: the title (the one field an agent sets that
/// is read) holds a forged record and tabs, and comes back whole.
#[test]
fn a_title_cannot_forge_a_record_where_reports_are_not_read() {
    let listing = Listing::with_token("t0k3n", ReportOptions::Unread);
    let forged = "a\tb\n~sbt0k3m~\t%9\t1\t1\t0\t\t1\tsb-2-1\t~sbt0k3m~\t";
    let out = printed(
        &listing,
        &[
            Pane::new("sb-1-1", "ignored", forged),
            Pane::new("sb-2-1", "", "two"),
        ],
    );
    let sessions = listing.parse(&out);
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(sessions[0].title, forged);
    assert!(sessions[0].reports.is_empty());
    assert_eq!((sessions[1].pane.as_str(), sessions[1].dead), ("%6", false));
    assert_eq!(sessions[1].title, "two");
}

#[test]
fn two_listings_draw_different_tokens() {
    let a = Listing::new(ReportOptions::Unread);
    let b = Listing::new(ReportOptions::Unread);
    assert_ne!(a.token, b.token);
    assert_eq!(a.token.len(), "~sb~".len() + 16);
}

/// Text an agent could set: tabs, newlines, tmux's `%` and the token's
/// own marks, a record's layout with a guessed token.
fn agent_text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::string::string_regex(&format!("[a-z\t\n%~0-9 -]{{0,{max}}}")).expect("regex"),
        Just("~sb0000000000000000~\t%9\t1\t1\t0\t\t1\tsb-2-1".to_string()),
        Just("\n~sb0000000000000000~\t".to_string()),
    ]
}

proptest! {
    /// Whatever an agent puts in the fields it sets (its options, its
    /// title, its own session's name), every session is read once, with
    /// its own name, and what it set comes back whole, with the listing
    /// of a host and with this machine's.
    #[test]
    fn fields_an_agent_sets_never_change_another_session(
        reports in prop::collection::vec(agent_text(24), 3),
        titles in prop::collection::vec(agent_text(12), 3),
        name in agent_text(12),
        read in any::<bool>(),
    ) {
        let reads = if read { ReportOptions::Read } else { ReportOptions::Unread };
        let listing = Listing::new(reads);
        // The third session is one an agent made, named as it liked.
        let name = format!("x{name}");
        let names = ["sb-1-1", "sb-2-1", name.as_str()];
        let panes: Vec<Pane> = (0..3)
            .map(|i| Pane {
                id: format!("%{}", i + 1),
                ..Pane::new(names[i], &reports[i], &titles[i])
            })
            .collect();
        let sessions = listing.parse(&printed(&listing, &panes));
        prop_assert_eq!(sessions.len(), 3);
        for (i, s) in sessions.iter().enumerate() {
            prop_assert_eq!(&s.name, names[i]);
            prop_assert_eq!(&s.pane, &panes[i].id);
            prop_assert_eq!(&s.title, &titles[i]);
            prop_assert_eq!(s.activity, Some(7));
            prop_assert!(!s.dead);
            match reads {
                ReportOptions::Read => prop_assert_eq!(&s.reports, &panes[i].reports),
                ReportOptions::Unread => prop_assert!(s.reports.is_empty()),
            }
        }
    }

    /// Cut or broken output parses without a panic.
    #[test]
    fn any_output_parses_without_panic(out in "[a-z\t\n~%0-9]{0,200}") {
        for reads in [ReportOptions::Read, ReportOptions::Unread] {
            let listing = Listing::with_token("k", reads);
            let _ = listing.parse(&out);
            let _ = listing.parse(&format!("~sbk~\t{out}"));
        }
    }
}
