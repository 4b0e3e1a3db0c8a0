//! Drawing the control room: a pure function of its state.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, TableState};

use super::app::{App, Confirm, EngineState, Pane};
use super::update::KEYS;
use crate::model::{StateName, short_age};

fn state_style(state: StateName) -> (Style, &'static str) {
    match state {
        StateName::Queued => (Style::new().fg(Color::Blue), "◦"),
        StateName::Starting => (Style::new().fg(Color::Cyan), "◔"),
        StateName::Running => (Style::new().fg(Color::Green), "▶"),
        StateName::Waiting => (
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            "?",
        ),
        StateName::Stalled => (Style::new().fg(Color::Magenta), "…"),
        StateName::Done => (
            Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
            "✓",
        ),
        StateName::Failed => (
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            "✗",
        ),
        StateName::Killed => (Style::new().add_modifier(Modifier::DIM), "■"),
    }
}

fn block(app: &App, pane: Pane) -> Block<'static> {
    titled(app, pane, format!(" {} ", pane.title()))
}

fn titled(app: &App, pane: Pane, title: String) -> Block<'static> {
    let focused = app.focus == pane;
    let style = if focused {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        Style::new()
    };
    Block::new()
        .borders(Borders::ALL)
        .title(Span::styled(title, style))
        .border_style(style)
}

/// Draws the whole room.
pub fn draw(app: &App, frame: &mut Frame) {
    let [main, status, footer] = Layout::vertical([
        Constraint::Min(6),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(main);
    let [queue, live] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(top);
    let [chains, review] =
        Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(bottom);
    draw_queue(app, frame, queue);
    draw_live(app, frame, live);
    draw_chains(app, frame, chains);
    draw_review(app, frame, review);
    draw_status(app, frame, status);
    let hints: Vec<Span> = KEYS
        .iter()
        .flat_map(|(k, what)| {
            [
                Span::styled(format!(" {k}"), Style::new().add_modifier(Modifier::BOLD)),
                Span::raw(format!(" {what} ")),
            ]
        })
        .collect();
    frame.render_widget(Paragraph::new(Line::from(hints)), footer);
    if app.help {
        draw_help(frame, main);
    }
    if let Some(Confirm::Kill(job)) = &app.confirm {
        let area = centered(frame.area(), 40, 5);
        frame.render_widget(Clear, area);
        let text = vec![
            Line::from(format!("Kill job #{job}?")),
            Line::from("y: kill   any other key: keep"),
        ];
        frame.render_widget(
            Paragraph::new(text).block(Block::bordered().title(" Kill ")),
            area,
        );
    }
}

fn draw_queue(app: &App, frame: &mut Frame, area: Rect) {
    let now = app
        .snapshot
        .now
        .unwrap_or(crate::model::Timestamp::from_millis(0));
    // On a narrow screen the kind and project columns give way.
    let wide = area.width >= 80;
    let rows: Vec<Row> = app
        .queue()
        .into_iter()
        .map(|job| {
            let (style, symbol) = state_style(job.state.name());
            let progress = job
                .progress
                .percent
                .map(|p| format!("{p:>3}%"))
                .unwrap_or_default();
            let why = job.reason.clone().unwrap_or_default();
            let mut cells = vec![
                Span::raw(format!("#{}", job.id)),
                Span::styled(format!("{symbol} {}", job.state.name()), style),
            ];
            if wide {
                cells.push(Span::raw(job.kind.as_str()));
                cells.push(Span::raw(job.project.clone().unwrap_or_else(|| "-".into())));
            }
            cells.push(Span::raw(short_age(now.since(job.created_at))));
            cells.push(Span::raw(progress));
            cells.push(Span::raw(if why.is_empty() {
                job.title.clone()
            } else {
                format!("{} — {why}", job.title)
            }));
            Row::new(cells)
        })
        .collect();
    let widths: Vec<Constraint> = if wide {
        vec![
            Constraint::Length(5),
            Constraint::Length(10),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(4),
            Constraint::Length(4),
            Constraint::Min(10),
        ]
    } else {
        vec![
            Constraint::Length(4),
            Constraint::Length(10),
            Constraint::Length(3),
            Constraint::Length(4),
            Constraint::Min(8),
        ]
    };
    let table = Table::new(rows, widths)
        .block(block(app, Pane::Queue))
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default()
        .with_selected((!app.snapshot.jobs.is_empty()).then_some(app.selection(Pane::Queue)));
    frame.render_stateful_widget(table, area, &mut state);
}

fn draw_live(app: &App, frame: &mut Frame, area: Rect) {
    let inner_height = area.height.saturating_sub(2) as usize;
    let lines: Vec<&str> = app.live.lines().collect();
    let start = lines.len().saturating_sub(inner_height);
    let text: Vec<Line> = lines[start..]
        .iter()
        .map(|l| Line::raw(l.to_string()))
        .collect();
    let title = match app.queue().get(app.selection(Pane::Queue)) {
        Some(job) => format!(" Live #{} ", job.id),
        None => " Live ".into(),
    };
    let block = titled(app, Pane::Live, title);
    frame.render_widget(Paragraph::new(text).block(block), area);
}

fn draw_chains(app: &App, frame: &mut Frame, area: Rect) {
    // Widths that always fit, so the layout is the same on every draw.
    let wide = area.width >= 60;
    let now = app
        .snapshot
        .now
        .unwrap_or(crate::model::Timestamp::from_millis(0));
    let rows: Vec<Row> = app
        .snapshot
        .chains
        .iter()
        .map(|c| {
            let mut cells = vec![
                c.account.clone(),
                c.state(now, app.snapshot.chain_window).to_string(),
                c.alarms.to_string(),
            ];
            if wide {
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
            ],
            vec!["ACCOUNT", "STATE", "ALARMS", "LAST", "JOB"],
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
        .header(Row::new(header).style(Style::new().add_modifier(Modifier::BOLD)))
        .block(block(app, Pane::Chains))
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default()
        .with_selected((!app.snapshot.chains.is_empty()).then_some(app.selection(Pane::Chains)));
    frame.render_stateful_widget(table, area, &mut state);
}

fn draw_review(app: &App, frame: &mut Frame, area: Rect) {
    let wide = area.width >= 60;
    let rows: Vec<Row> = app
        .snapshot
        .reviews
        .iter()
        .map(|r| {
            let mut cells = vec![format!("#{}", r.job)];
            if wide {
                cells.push(r.project.clone());
            }
            cells.push(r.branch.clone());
            cells.push(format!("{}f +{} -{}", r.files, r.insertions, r.deletions));
            cells.push(r.state.clone());
            Row::new(cells)
        })
        .collect();
    let widths: Vec<Constraint> = if wide {
        vec![
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Min(10),
            Constraint::Length(12),
            Constraint::Length(8),
        ]
    } else {
        vec![
            Constraint::Length(4),
            Constraint::Min(8),
            Constraint::Length(12),
            Constraint::Length(8),
        ]
    };
    let table = Table::new(rows, widths)
        .block(block(app, Pane::Review))
        .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = TableState::default()
        .with_selected((!app.snapshot.reviews.is_empty()).then_some(app.selection(Pane::Review)));
    frame.render_stateful_widget(table, area, &mut state);
}

fn draw_status(app: &App, frame: &mut Frame, area: Rect) {
    let engine = match app.engine {
        EngineState::Running => "engine running",
        EngineState::Viewer => "viewer: another engine runs this home",
        EngineState::Draining => "draining",
    };
    let active = app
        .snapshot
        .jobs
        .iter()
        .filter(|j| j.state.name().is_active())
        .count();
    let mut counts = String::new();
    for state in StateName::ALL {
        let n = app
            .snapshot
            .jobs
            .iter()
            .filter(|j| j.state.name() == state)
            .count();
        if n > 0 {
            counts.push_str(&format!(" {state} {n}"));
        }
    }
    let clock = app
        .snapshot
        .now
        .map(|t| t.rfc3339()[11..19].to_string())
        .unwrap_or_default();
    let mut text = format!(
        " {engine} │ agents {active}/{} │{counts} │ {clock}",
        app.snapshot.max_agents
    );
    if let Some(message) = &app.message {
        text.push_str(&format!(" │ {message}"));
    }
    frame.render_widget(
        Paragraph::new(text).style(Style::new().add_modifier(Modifier::REVERSED)),
        area,
    );
}

fn draw_help(frame: &mut Frame, area: Rect) {
    let lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(
                    format!("{k:>10}  "),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::raw(*what),
            ])
        })
        .collect();
    let rect = centered(area, 36, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Keys (any key closes) ")),
        rect,
    );
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
