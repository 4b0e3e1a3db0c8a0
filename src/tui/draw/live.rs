//! The Live pane (the selected agent's screen, with its colours, following
//! new output or scrolled back) and the grid of every live agent.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph};

use super::{now, titled};
use crate::model::short_age;
use crate::tui::app::{App, Pane};
use crate::untrusted::visible;

/// The lines of `text` that fit `height` rows, `back` lines up from the
/// newest.
fn tail(text: &Text<'static>, height: usize, back: usize) -> Vec<Line<'static>> {
    let n = text.lines.len();
    let back = back.min(n.saturating_sub(height));
    let end = n - back;
    let start = end.saturating_sub(height);
    text.lines[start..end].to_vec()
}

/// `text` cut into rows of at most `width` columns, colours kept: Live
/// wraps long lines (a question ending `[y/n]` at the right edge shows).
pub fn wrap(text: &Text<'static>, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut out = Vec::with_capacity(text.lines.len());
    for line in &text.lines {
        if line.width() <= width {
            out.push(line.clone());
            continue;
        }
        let mut row: Vec<Span<'static>> = Vec::new();
        let mut used = 0;
        for span in &line.spans {
            let mut piece = String::new();
            for c in span.content.chars() {
                let mut buf = [0u8; 4];
                let w = Span::raw(&*c.encode_utf8(&mut buf)).width();
                if used + w > width && used > 0 {
                    if !piece.is_empty() {
                        row.push(Span::styled(std::mem::take(&mut piece), span.style));
                    }
                    out.push(Line::from(std::mem::take(&mut row)).style(line.style));
                    used = 0;
                }
                piece.push(c);
                used += w;
            }
            if !piece.is_empty() {
                row.push(Span::styled(piece, span.style));
            }
        }
        out.push(Line::from(row).style(line.style));
    }
    out
}

/// The inside of the Live pane at the room's last size.
fn live_inside(app: &App) -> (usize, usize) {
    let area = crate::tui::layout::RoomLayout::of(app.area).pane(Pane::Live);
    (
        area.width.saturating_sub(2) as usize,
        area.height.saturating_sub(2) as usize,
    )
}

/// How far Live can scroll back: its wrapped rows past one screenful. The
/// "↑N" counter never goes past where the view stops.
pub fn max_scroll(app: &App) -> usize {
    let (width, height) = live_inside(app);
    wrap(&app.live.text, width).len().saturating_sub(height)
}

pub fn live(app: &App, frame: &mut Frame, area: Rect) {
    let height = area.height.saturating_sub(2) as usize;
    let job = app.queue_job();
    let mut title = vec![Span::raw(" Live ")];
    if let Some(job) = job {
        title = vec![Span::raw(format!(" Live #{} ", job.id))];
        // First, so a narrow pane still shows how far back the view is.
        if app.live.scroll > 0 {
            title.push(Span::raw(format!("↑{} · ", app.live.scroll)));
        }
        if let Some(status) = app.live.status.filter(|_| app.live.job == Some(job.id)) {
            let colour = match status {
                "asking" => Color::Yellow,
                "stalled" => Color::Magenta,
                "busy" => Color::Green,
                _ => Color::Reset,
            };
            title.push(Span::styled(format!("{status} "), Style::new().fg(colour)));
        }
        // How long the screen has been still: only while there is one.
        if let Some(at) = app
            .live
            .last_output
            .filter(|_| app.live.job == Some(job.id) && !app.live.text.lines.is_empty())
        {
            title.push(Span::raw(format!(
                "· output {} ago ",
                short_age(now(app).since(at))
            )));
        }
    }
    let block = titled(app, Pane::Live, title);
    let body = match job {
        Some(job) if app.live.job == Some(job.id) && !app.live.text.lines.is_empty() => {
            let rows = Text::from(wrap(&app.live.text, area.width.saturating_sub(2) as usize));
            tail(&rows, height, app.live.scroll)
        }
        Some(job) if job.state.name().is_over() => {
            let review = app
                .snapshot
                .reviews
                .iter()
                .find(|r| r.job == job.id)
                .map(|r| format!(", {}", r.state))
                .unwrap_or_default();
            vec![Line::raw(format!(
                "#{} has ended ({}{review}): its agent's session is closed.",
                job.id,
                job.state.name()
            ))]
        }
        Some(job) if job.state.attempt().is_some() => {
            vec![Line::raw("waiting for the agent's screen…")]
        }
        Some(_) => vec![Line::raw("This job has no agent running.")],
        None => vec![Line::raw("No job selected. d dispatches one.")],
    };
    frame.render_widget(Paragraph::new(body).block(block), area);
}

/// Every live agent's pane at once, as many columns as rows.
pub fn grid(app: &App, frame: &mut Frame, area: Rect) {
    if app.grid.is_empty() {
        frame.render_widget(
            Paragraph::new("No agent is running.").block(Block::bordered().title(" Grid ")),
            area,
        );
        return;
    }
    // The page's shape, as the room chose which panes to capture.
    let page = crate::tui::grid::page(app.grid.len(), 0, area);
    let agents = app.grid_agents();
    let shown = app.grid_page(&agents);
    let (cols, rows) = if shown.total > shown.count {
        (shown.cols, shown.rows)
    } else {
        (page.cols, page.rows)
    };
    let area = if shown.total > shown.count {
        let (number, pages) = shown.number();
        let [head, rest] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
        frame.render_widget(
            Paragraph::new(format!(
                " page {number} of {pages}: agents {}-{} of {} (arrows move on)",
                shown.first + 1,
                shown.first + shown.count,
                shown.total
            )),
            head,
        );
        rest
    } else {
        area
    };
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, rows as u32); rows]).split(area);
    for (r, row_area) in row_areas.iter().enumerate() {
        let cells =
            Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols]).split(*row_area);
        for (c, cell_area) in cells.iter().enumerate() {
            let Some(cell) = app.grid.get(r * cols + c) else {
                continue;
            };
            let height = cell_area.height.saturating_sub(2) as usize;
            // The selected tile stands out, as a focused pane does.
            let style = if app.grid_job() == Some(cell.job) {
                Style::new()
                    .fg(Color::Cyan)
                    .add_modifier(ratatui::style::Modifier::BOLD)
            } else {
                Style::new()
            };
            let block = Block::bordered()
                .border_style(style)
                .title(format!(" #{} {} ", cell.job, visible(&cell.title)))
                .title_style(style);
            frame.render_widget(
                Paragraph::new(tail(&cell.text, height, 0)).block(block),
                *cell_area,
            );
        }
    }
}
