//! The grid's pages: as many tiles as fit on screen at a useful size, the
//! page holding the selected agent. Only the tiles of that page are drawn,
//! and only their panes are captured: 200 agents cost the room what one
//! screenful of them does. Pure: one function serves drawing and watching.

use ratatui::layout::Rect;

/// The smallest tile drawn: its border and four lines of a 22-column pane.
pub const MIN_TILE: (u16, u16) = (24, 6);

/// Which tiles show, and how they are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridPage {
    /// Index of the first tile shown, among all agents in grid order.
    pub first: usize,
    /// Tiles shown.
    pub count: usize,
    /// Agents in all.
    pub total: usize,
    pub cols: usize,
    pub rows: usize,
}

impl GridPage {
    /// 1-based number of this page, and how many pages there are.
    pub fn number(&self) -> (usize, usize) {
        let per_page = self.per_page();
        (
            self.first / per_page + 1,
            self.total.div_ceil(per_page).max(1),
        )
    }

    fn per_page(&self) -> usize {
        (self.cols * self.rows).max(1)
    }
}

/// The page of `total` agents that holds the `selected`-th, in `area`.
pub fn page(total: usize, selected: usize, area: Rect) -> GridPage {
    let max_cols = usize::from((area.width / MIN_TILE.0).max(1));
    let mut max_rows = usize::from((area.height / MIN_TILE.1).max(1));
    if total > max_cols * max_rows {
        // Paged: a line above the tiles says which page this is.
        max_rows = usize::from((area.height.saturating_sub(1) / MIN_TILE.1).max(1));
    }
    let capacity = max_cols * max_rows;
    let first = if total > capacity {
        (selected.min(total - 1) / capacity) * capacity
    } else {
        0
    };
    let count = total.saturating_sub(first).min(capacity);
    let (cols, rows) = tiles(count, max_cols, max_rows);
    GridPage {
        first,
        count,
        total,
        // A full page keeps its shape, so the pages' tiles line up.
        cols: if total > capacity { max_cols } else { cols },
        rows: if total > capacity { max_rows } else { rows },
    }
}

/// Columns and rows for `count` tiles: near square, within the limits.
fn tiles(count: usize, max_cols: usize, max_rows: usize) -> (usize, usize) {
    if count == 0 {
        return (1, 1);
    }
    let square = (1..=count).find(|c| c * c >= count).unwrap_or(1);
    let cols = square.max(count.div_ceil(max_rows)).min(max_cols);
    (cols, count.div_ceil(cols))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_few_agents_share_the_screen_as_before() {
        let p = page(4, 0, Rect::new(0, 0, 160, 40));
        assert_eq!((p.first, p.count, p.cols, p.rows), (0, 4, 2, 2));
        assert_eq!(p.number(), (1, 1));
    }

    #[test]
    fn many_agents_are_paged_and_the_selected_one_is_on_screen() {
        let area = Rect::new(0, 0, 80, 19);
        // 3 columns of 24, 3 rows of 6 under the page's line: 9 a page.
        let p = page(200, 0, area);
        assert_eq!((p.first, p.count, p.cols, p.rows), (0, 9, 3, 3));
        let p = page(200, 150, area);
        assert!(p.first <= 150 && 150 < p.first + p.count, "{p:?}");
        assert_eq!(p.number(), (17, 23));
        let last = page(200, 199, area);
        assert_eq!((last.first, last.count), (198, 2));
    }

    #[test]
    fn a_wide_screen_gets_more_columns_than_rows() {
        let p = page(16, 0, Rect::new(0, 0, 240, 18));
        assert!(p.rows <= 3, "{p:?}");
        assert!(p.cols * p.rows >= 16, "{p:?}");
    }

    #[test]
    fn a_tiny_screen_still_shows_one() {
        let p = page(5, 3, Rect::new(0, 0, 10, 3));
        assert_eq!((p.first, p.count), (3, 1));
    }
}
