//! The full views of one job: its details and its review item's diff.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::{now, state_style};
use crate::agents::explain::Explanation;
use crate::agents::question::Question;
use crate::journal::JobDetails;
use crate::model::short_age;
use crate::tui::app::{App, DiffView, Scrolled};
use crate::untrusted::visible;

fn heading(text: &str) -> Line<'static> {
    Line::styled(text.to_string(), Style::new().add_modifier(Modifier::BOLD))
}

fn clock(t: crate::model::Timestamp) -> String {
    t.rfc3339()[11..19].to_string()
}

/// The lines of the details view.
fn detail_lines(app: &App, d: &JobDetails) -> Vec<Line<'static>> {
    let job = &d.job;
    let (style, symbol) = state_style(job.state.name());
    let host = app.snapshot.host_of(job);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                format!("#{} ", job.id),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::styled(format!("{symbol} {}", job.state.name()), style),
            Span::raw(format!(
                " · {} · project {}{} · agent {} · priority {} · {} attempt{} · {} old",
                job.kind.as_str(),
                visible(job.project.as_deref().unwrap_or("-")),
                host.map(|h| format!(" on host {h}")).unwrap_or_default(),
                visible(job.agent.as_deref().unwrap_or("(project's)")),
                job.priority,
                job.attempts,
                if job.attempts == 1 { "" } else { "s" },
                short_age(now(app).since(job.created_at)),
            )),
        ]),
        Line::raw(visible(&job.title).into_owned()),
    ];
    if let Some(why) = &job.reason {
        lines.push(Line::styled(
            format!("why: {}", visible(why)),
            Style::new().fg(Color::Yellow),
        ));
    }
    if !d.after.is_empty() {
        lines.push(Line::raw(format!(
            "starts {}",
            crate::scheduler::after_reason(&d.after)
        )));
    }
    if let Some((host, since)) = host.and_then(|h| Some((h, app.snapshot.unreachable_since(h)?))) {
        lines.push(Line::styled(
            format!(
                "⚠ host {host} unreachable since {}Z ({} ago): its agent is left as it is",
                clock(since),
                short_age(now(app).since(since))
            ),
            Style::new().fg(Color::Red),
        ));
    }
    let explained = Explanation::of(job, &d.events);
    if let Some(c) = explained.now() {
        lines.push(Line::raw(format!(
            "agent: {} by its {} at {}: {}",
            visible(&c.status),
            c.signal,
            clock(c.when),
            visible(&c.detail)
        )));
    }
    if let Some(q) = app.question_of(job.id) {
        lines.extend(question_lines(q));
    }
    if let Some(a) = d.attempts.last() {
        lines.push(Line::raw(format!(
            "branch {}  worktree {}",
            visible(a.branch.as_deref().unwrap_or("-")),
            visible(a.worktree.as_deref().unwrap_or("-"))
        )));
    }
    lines.push(Line::raw(""));
    lines.push(heading("From"));
    if d.sources.is_empty() {
        lines.push(Line::raw("  the operator's task"));
    }
    lines.extend(
        d.sources
            .iter()
            .map(|s| Line::raw(format!("  {}", visible(&s.to_string())))),
    );
    lines.push(Line::raw(""));
    lines.push(heading("Attempts"));
    if d.attempts.is_empty() {
        lines.push(Line::raw("  none yet"));
    }
    for a in &d.attempts {
        lines.push(Line::raw(format!(
            "  {}  {}  started {}  {}  restarts {}",
            a.number,
            a.session,
            clock(a.started_at),
            match (a.ended_at, a.exit_code) {
                (Some(at), Some(code)) => format!("ended {} exit {code}", clock(at)),
                (Some(at), None) => format!("ended {}", clock(at)),
                (None, _) => "running".to_string(),
            },
            a.restarts
        )));
    }
    lines.push(Line::raw(""));
    lines.push(heading("Events"));
    for e in &d.events {
        lines.push(Line::from(vec![
            Span::raw(format!("  {} ", clock(e.at))),
            Span::styled(
                format!("{:<10} ", visible(&e.kind)),
                Style::new().fg(Color::Cyan),
            ),
            Span::raw(visible(&e.message).into_owned()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(heading("Prompt"));
    lines.extend(
        job.prompt
            .lines()
            .map(|l| Line::raw(format!("  {}", visible(l)))),
    );
    lines
}

/// An asking agent's question and the keys that answer it.
fn question_lines(q: &Question) -> Vec<Line<'static>> {
    let ask = Style::new().fg(Color::Magenta).add_modifier(Modifier::BOLD);
    let mut lines = vec![Line::raw(""), Line::styled("The agent asks", ask)];
    lines.extend(
        q.text
            .iter()
            .map(|l| Line::raw(format!("  {}", visible(l)))),
    );
    for o in &q.offers {
        lines.push(Line::from(vec![
            Span::styled(format!("  [{}] ", o.key), ask),
            Span::raw(visible(&o.label).into_owned()),
        ]));
    }
    let keys: Vec<String> = q.offers.iter().map(|o| o.key.to_string()).collect();
    lines.push(Line::styled(
        format!(
            "  press {} to answer (sent to the agent as its own key)",
            keys.join("/")
        ),
        Style::new().add_modifier(Modifier::DIM),
    ));
    lines
}

pub fn details(app: &App, view: &Scrolled<JobDetails>, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(format!(" Job #{} ", view.job));
    let lines = match &view.content {
        Some(d) => detail_lines(app, d),
        None => vec![Line::raw("reading…")],
    };
    show(lines, view.scroll, block, frame, area);
}

pub fn diff(view: &Scrolled<DiffView>, frame: &mut Frame, area: Rect) {
    let block = Block::bordered().title(format!(" Diff of #{} ", view.job));
    let Some(d) = &view.content else {
        return show(vec![Line::raw("reading…")], 0, block, frame, area);
    };
    if d.lines.is_empty() {
        return show(vec![Line::raw("No changes.")], 0, block, frame, area);
    }
    // The comments (and the one being typed) under the diff.
    let below = if d.comments.is_empty() && d.input.is_none() {
        0
    } else {
        (d.comments.len() as u16 + if d.input.is_some() { 3 } else { 0 } + 2).min(area.height / 2)
    };
    let [top, bottom] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(below)]).areas(area);
    let lines: Vec<Line> = d
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let style = if l.starts_with("+++") || l.starts_with("---") {
                Style::new().add_modifier(Modifier::BOLD)
            } else if l.starts_with('+') {
                Style::new().fg(Color::Green)
            } else if l.starts_with('-') {
                Style::new().fg(Color::Red)
            } else if l.starts_with("@@") {
                Style::new().fg(Color::Cyan)
            } else if l.starts_with("diff ") {
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
            let style = if i == d.cursor {
                style.add_modifier(Modifier::REVERSED)
            } else {
                style
            };
            Line::styled(visible(l).into_owned(), style)
        })
        .collect();
    show(lines, view.scroll, block, frame, top);
    if below == 0 {
        return;
    }
    let [listed, typing] = Layout::vertical([
        Constraint::Min(2),
        Constraint::Length(if d.input.is_some() { 3 } else { 0 }),
    ])
    .areas(bottom);
    let comments: Vec<Line> = d
        .comments
        .iter()
        .map(|c| Line::raw(visible(&c.to_string()).into_owned()))
        .collect();
    let title = format!(
        " {} comment{}: a reject sends them to the agent ",
        d.comments.len(),
        if d.comments.len() == 1 { "" } else { "s" }
    );
    let skip = comments
        .len()
        .saturating_sub(listed.height.saturating_sub(2) as usize);
    show(
        comments,
        skip,
        Block::bordered().title(title),
        frame,
        listed,
    );
    if let Some((path, line, input)) = &d.input {
        let mut boxed = input.clone();
        boxed.set_block(
            Block::bordered()
                .title(format!(" Comment on {}:{line} ", visible(path)))
                .border_style(Style::new().fg(Color::Cyan)),
        );
        boxed.set_cursor_line_style(Style::new());
        frame.render_widget(&boxed, typing);
    }
}

/// A scrolled text; the scroll stops at the last screenful.
fn show(lines: Vec<Line<'static>>, scroll: usize, block: Block, frame: &mut Frame, area: Rect) {
    let height = area.height.saturating_sub(2) as usize;
    let scroll = scroll.min(lines.len().saturating_sub(height));
    let total = lines.len();
    let shown: Vec<Line> = lines.into_iter().skip(scroll).take(height).collect();
    let block = if total > height {
        block.title_bottom(format!(
            " {}–{} of {} ",
            scroll + 1,
            scroll + shown.len(),
            total
        ))
    } else {
        block
    };
    frame.render_widget(Paragraph::new(shown).block(block), area);
}
