//! Where each part of the room is on screen: one function, used by the
//! drawing and by mouse clicks so they always agree.

use ratatui::layout::{Constraint, Layout, Rect};

use super::app::Pane;

/// The room's areas for a terminal of a given size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomLayout {
    /// Everything above the status bar: the panes, or a full view.
    pub main: Rect,
    /// Queue, Live, Chains, Review.
    pub panes: [Rect; 4],
    pub status: Rect,
    pub footer: Rect,
}

impl RoomLayout {
    pub fn of(area: Rect) -> RoomLayout {
        let [main, status, footer] = Layout::vertical([
            Constraint::Min(6),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(area);
        let [top, bottom] =
            Layout::vertical([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(main);
        let [queue, live] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(top);
        let [chains, review] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(bottom);
        RoomLayout {
            main,
            panes: [queue, live, chains, review],
            status,
            footer,
        }
    }

    pub fn pane(&self, pane: Pane) -> Rect {
        self.panes[Pane::ALL.iter().position(|p| *p == pane).unwrap_or(0)]
    }

    /// The pane under a point of the screen.
    pub fn pane_at(&self, column: u16, row: u16) -> Option<Pane> {
        Pane::ALL
            .into_iter()
            .zip(self.panes)
            .find(|(_, r)| r.contains(ratatui::layout::Position { x: column, y: row }))
            .map(|(p, _)| p)
    }
}

/// Rows of a list pane that show data (inside the border, under a header).
pub fn list_rows(area: Rect, pane: Pane) -> usize {
    area.height.saturating_sub(2 + header_rows(pane)) as usize
}

/// The header rows a pane's table has.
pub fn header_rows(pane: Pane) -> u16 {
    match pane {
        Pane::Chains | Pane::Review => 1,
        _ => 0,
    }
}

/// The first row shown of a list of which `selected` is selected: the
/// table scrolls just enough to show the selection (as ratatui does for a
/// table drawn with a fresh state).
pub fn first_shown(selected: usize, visible: usize) -> usize {
    (selected + 1).saturating_sub(visible.max(1))
}
