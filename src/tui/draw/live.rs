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

pub fn live(app: &App, frame: &mut Frame, area: Rect) {
    let height = area.height.saturating_sub(2) as usize;
    let job = app.queue_job();
    let mut title = vec![Span::raw(" Live ")];
    if let Some(job) = job {
        title = vec![Span::raw(format!(" Live #{} ", job.id))];
        if let Some(status) = app.live.status.filter(|_| app.live.job == Some(job.id)) {
            let colour = match status {
                "asking" => Color::Yellow,
                "stalled" => Color::Magenta,
                "busy" => Color::Green,
                _ => Color::Reset,
            };
            title.push(Span::styled(format!("{status} "), Style::new().fg(colour)));
        }
        if let Some(at) = app
            .live
            .last_output
            .filter(|_| app.live.job == Some(job.id))
        {
            title.push(Span::raw(format!(
                "· output {} ago ",
                short_age(now(app).since(at))
            )));
        }
        if app.live.scroll > 0 {
            title.push(Span::raw(format!("· ↑{} ", app.live.scroll)));
        }
    }
    let block = titled(app, Pane::Live, title);
    let body = match job {
        Some(job) if app.live.job == Some(job.id) && !app.live.text.lines.is_empty() => {
            tail(&app.live.text, height, app.live.scroll)
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
    let n = app.grid.len();
    let cols = (1..=n).find(|c| c * c >= n).unwrap_or(1);
    let rows = n.div_ceil(cols);
    let row_areas = Layout::vertical(vec![Constraint::Ratio(1, rows as u32); rows]).split(area);
    for (r, row_area) in row_areas.iter().enumerate() {
        let cells =
            Layout::horizontal(vec![Constraint::Ratio(1, cols as u32); cols]).split(*row_area);
        for (c, cell_area) in cells.iter().enumerate() {
            let Some(cell) = app.grid.get(r * cols + c) else {
                continue;
            };
            let height = cell_area.height.saturating_sub(2) as usize;
            let block =
                Block::bordered().title(format!(" #{} {} ", cell.job, visible(&cell.title)));
            frame.render_widget(
                Paragraph::new(tail(&cell.text, height, 0)).block(block),
                *cell_area,
            );
        }
    }
}
