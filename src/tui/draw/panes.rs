//! The Queue, Chains and Review panes. Column widths always fit the pane
//! (narrow panes drop columns), so the layout is the same on every draw.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Row, Table, TableState};

use super::{now, state_style, titled};
use crate::model::short_age;
use crate::tui::app::{App, Pane};
use crate::tui::layout::{first_shown, list_rows};
use crate::untrusted::visible;

fn bold() -> Style {
    Style::new().add_modifier(Modifier::BOLD)
}

fn selected() -> Style {
    Style::new().add_modifier(Modifier::REVERSED)
}

/// The rows of a pane that are on screen: only these are built, so a
/// queue of thousands draws as fast as a short one.
fn shown(app: &App, area: Rect, pane: Pane, total: usize) -> std::ops::Range<usize> {
    let visible = list_rows(area, pane);
    let start = first_shown(app.selection(pane), visible).min(total);
    start..(start + visible).min(total)
}

fn render(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    pane: Pane,
    table: Table,
    rows: std::ops::Range<usize>,
) {
    let table = table.row_highlight_style(selected());
    let selection = app.selection(pane);
    let mut state = TableState::default()
        .with_selected(rows.contains(&selection).then(|| selection - rows.start));
    frame.render_stateful_widget(table, area, &mut state);
}

/// A ten-cell progress bar: "▰▰▰▱▱▱▱▱▱▱".
fn bar(percent: u8) -> String {
    let full = (percent.min(100) as usize + 5) / 10;
    format!("{}{}", "▰".repeat(full), "▱".repeat(10 - full))
}

pub fn queue(app: &App, frame: &mut Frame, area: Rect) {
    let now = now(app);
    // On a narrow screen the kind, project and bar give way.
    let wide = area.width >= 80;
    // A host column only when some project is on another machine; the
    // engine's own jobs leave it blank.
    let hosts = wide && !app.snapshot.hosts.is_empty();
    let jobs = app.queue();
    let window = shown(app, area, Pane::Queue, jobs.len());
    let rows: Vec<Row> = jobs[window.clone()]
        .iter()
        .map(|job| {
            let (style, symbol) = state_style(job.state.name());
            let percent = job.progress.percent;
            let mut cells = vec![
                Line::raw(format!("#{}", job.id)),
                Line::styled(format!("{symbol} {}", job.state.name()), style),
            ];
            if wide {
                cells.push(Line::raw(job.kind.as_str()));
                cells.push(Line::raw(
                    visible(job.project.as_deref().unwrap_or("-")).into_owned(),
                ));
            }
            let host = app.snapshot.host_of(job);
            let down = host.and_then(|h| app.snapshot.unreachable_since(h));
            if hosts {
                cells.push(match (host, down) {
                    (Some(h), Some(_)) => {
                        Line::styled(format!("@{h} ⚠"), Style::new().fg(Color::Red))
                    }
                    (Some(h), None) => Line::raw(format!("@{h}")),
                    (None, _) => Line::raw(""),
                });
            }
            cells.push(Line::raw(short_age(now.since(job.created_at))));
            cells.push(match percent {
                Some(p) if wide => Line::styled(bar(p), Style::new().fg(Color::Green)),
                Some(p) => Line::raw(format!("{p:>3}%")),
                None => Line::raw(""),
            });
            let mut title = vec![Span::raw(visible(&job.title).into_owned())];
            if app.snapshot.demo_fallback.contains(&job.id) {
                title.push(Span::styled(
                    format!(" · {}", crate::engine::DEMO_FALLBACK),
                    Style::new().fg(Color::Yellow),
                ));
            }
            if let (Some(host), Some(since), true) = (host, down, job.state.name().is_active()) {
                title.push(Span::styled(
                    format!(
                        " — ⚠ {host} unreachable since {} ({} ago)",
                        clock_of(since),
                        short_age(now.since(since))
                    ),
                    Style::new().fg(Color::Red),
                ));
            } else if let Some((word, why)) = job.why_now() {
                let word = if word.is_empty() {
                    String::new()
                } else {
                    format!("{word}: ")
                };
                title.push(Span::styled(
                    format!(" — {word}{}", visible(why)),
                    Style::new().fg(Color::DarkGray),
                ));
            }
            cells.push(Line::from(title));
            Row::new(cells)
        })
        .collect();
    let widths: Vec<Constraint> = if wide {
        let mut widths = vec![
            Constraint::Length(5),
            Constraint::Length(10),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(4),
            Constraint::Length(10),
            Constraint::Min(10),
        ];
        if hosts {
            widths.insert(4, Constraint::Length(10));
        }
        widths
    } else {
        vec![
            Constraint::Length(4),
            Constraint::Length(10),
            Constraint::Length(3),
            Constraint::Length(4),
            Constraint::Min(8),
        ]
    };
    let mut title = format!(" {} ", Pane::Queue.title());
    if !app.filter.is_empty() {
        title = format!(
            " Queue /{} ({} of {}) ",
            visible(&app.filter),
            jobs.len(),
            app.snapshot.jobs.len()
        );
    }
    if jobs.is_empty() {
        let hint = if app.filter.is_empty() {
            format!(
                "Nothing queued. {} dispatches a task.",
                app.keymap.label(crate::tui::action::Action::Dispatch)
            )
        } else {
            "No job matches the filter; Esc clears it.".to_string()
        };
        frame.render_widget(
            ratatui::widgets::Paragraph::new(hint).block(titled(
                app,
                Pane::Queue,
                vec![Span::raw(title)],
            )),
            area,
        );
        return;
    }
    let table = Table::new(rows, widths).block(titled(app, Pane::Queue, vec![Span::raw(title)]));
    render(app, frame, area, Pane::Queue, table, window);
}

/// `21:03:10Z`: the time of day in UTC, enough beside an age.
pub fn clock_of(t: crate::model::Timestamp) -> String {
    let stamp = t.rfc3339();
    format!("{}Z", stamp.get(11..19).unwrap_or(&stamp))
}

pub fn chains(app: &App, frame: &mut Frame, area: Rect) {
    let wide = area.width >= 60;
    let now = now(app);
    let window = shown(app, area, Pane::Chains, app.snapshot.chains.len());
    let rows: Vec<Row> = app.snapshot.chains[window.clone()]
        .iter()
        .map(|c| {
            let mut cells = vec![
                visible(&c.account).into_owned(),
                c.state(now, app.snapshot.chain_window).to_string(),
                c.alarms.to_string(),
            ];
            if wide {
                cells.push(c.first_at.rfc3339()[11..16].to_string());
                cells.push(short_age(now.since(c.latest_at)));
            }
            cells.push(c.job.map(|j| format!("#{j}")).unwrap_or_else(|| "-".into()));
            Row::new(cells)
        })
        .collect();
    let (widths, header) = if wide {
        (
            vec![
                Constraint::Min(12),
                Constraint::Length(8),
                Constraint::Length(6),
                Constraint::Length(5),
                Constraint::Length(6),
                Constraint::Length(6),
            ],
            vec!["ACCOUNT", "STATE", "ALARMS", "FIRST", "LATEST", "JOB"],
        )
    } else {
        (
            vec![
                Constraint::Min(12),
                Constraint::Length(8),
                Constraint::Length(6),
                Constraint::Length(5),
            ],
            vec!["ACCOUNT", "STATE", "ALARMS", "JOB"],
        )
    };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(bold()))
        .block(titled(app, Pane::Chains, vec![Span::raw(" Chains ")]));
    render(app, frame, area, Pane::Chains, table, window);
}

pub fn review(app: &App, frame: &mut Frame, area: Rect) {
    let wide = area.width >= 60;
    let window = shown(app, area, Pane::Review, app.snapshot.reviews.len());
    let rows: Vec<Row> = app.snapshot.reviews[window.clone()]
        .iter()
        .map(|r| {
            let mut cells = vec![Line::raw(format!("#{}", r.job))];
            if wide {
                cells.push(Line::raw(visible(&r.project).into_owned()));
            }
            // A pull request's address says more than the branch name.
            cells.push(Line::raw(
                visible(r.url.as_deref().unwrap_or(&r.branch)).into_owned(),
            ));
            cells.push(Line::from(vec![
                Span::raw(format!("{}f ", r.files)),
                Span::styled(format!("+{}", r.insertions), Style::new().fg(Color::Green)),
                Span::raw(" "),
                Span::styled(format!("-{}", r.deletions), Style::new().fg(Color::Red)),
            ]));
            let style = match r.state.as_str() {
                "ready" => Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
                "conflict" => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
                "merged" => Style::new().fg(Color::Green),
                "delivered" => Style::new().fg(Color::Cyan),
                "closed" => Style::new().fg(Color::Magenta),
                _ => Style::new().add_modifier(Modifier::DIM),
            };
            // Delivered work shows how it stands on the remote: `pr open`,
            // `mr open`, `pushed`, then `merged` or `closed`.
            let state = match &r.delivery {
                Some(d) => d.short().to_string(),
                None => visible(&r.state).into_owned(),
            };
            cells.push(Line::styled(state, style));
            Row::new(cells)
        })
        .collect();
    let (widths, header) = if wide {
        (
            vec![
                Constraint::Length(5),
                Constraint::Length(8),
                Constraint::Min(10),
                Constraint::Length(12),
                Constraint::Length(8),
            ],
            vec!["JOB", "PROJECT", "BRANCH", "DIFF", "STATE"],
        )
    } else {
        (
            vec![
                Constraint::Length(4),
                Constraint::Min(8),
                Constraint::Length(12),
                Constraint::Length(8),
            ],
            vec!["JOB", "BRANCH", "DIFF", "STATE"],
        )
    };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(bold()))
        .block(titled(app, Pane::Review, vec![Span::raw(" Review ")]));
    render(app, frame, area, Pane::Review, table, window);
}
