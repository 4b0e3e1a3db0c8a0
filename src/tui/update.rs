//! Keys and clicks to actions, and actions to changes of the control
//! room's state and intents for the engine. No I/O here: what needs the
//! journal, git or tmux goes out as an [`Intent`].

use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui_textarea::TextArea;

use super::action::Action;
use super::app::{App, Confirm, DiffView, EngineState, Mode, Pane, Purpose, ReviewSeen, Scrolled};
use super::form::{DispatchForm, DispatchRefused, DispatchRequest, FormOutcome};
use super::layout::{RoomLayout, first_shown, header_rows, list_rows};
use crate::agents::question::Offer;
use crate::journal::CommandKind;
use crate::model::{OperatorAction, ReviewComment, diff_position};

/// What the control room asks of the world outside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// A command for the engine, through the journal.
    Command {
        kind: CommandKind,
        job: Option<i64>,
        text: Option<String>,
    },
    /// Step aside and attach the terminal to the session of `job`'s
    /// current attempt.
    Attach { job: i64, attempt: u32 },
    /// Journal a new task and select it.
    Dispatch(DispatchRequest),
    /// Read a job's details for the details view.
    LoadDetails(i64),
    /// Read a review item's diff for the diff view.
    LoadDiff(i64),
    /// Keep a comment on a line of job's review item.
    Comment { job: i64, comment: ReviewComment },
}

/// Lines a page key or the wheel moves in the full views.
const WHEEL: usize = 3;

/// One key, through whatever is open: a text box or a question sees keys
/// first, then the keymap.
pub fn handle_key(app: &mut App, key: KeyEvent) -> Vec<Intent> {
    match &mut app.mode {
        Mode::Confirm(_) => {
            let yes = matches!(key.code, KeyCode::Char('y') | KeyCode::Enter);
            update(app, if yes { Action::Yes } else { Action::Back })
        }
        Mode::Help => update(app, Action::Back),
        Mode::Filter(area) => {
            match key.code {
                KeyCode::Esc => {
                    app.mode = Mode::Normal;
                    app.set_filter(String::new());
                }
                KeyCode::Enter => app.mode = Mode::Normal,
                _ => {
                    area.input(key);
                    let filter = area.lines().join(" ");
                    app.set_filter(filter);
                }
            }
            vec![]
        }
        Mode::Dispatch(form) => match form.key(key) {
            FormOutcome::Editing => vec![],
            FormOutcome::Cancelled => {
                app.mode = Mode::Normal;
                vec![]
            }
            // The form stays open until the room says the job is queued:
            // a refusal keeps every word typed.
            FormOutcome::Submitted(request) => vec![Intent::Dispatch(request)],
        },
        Mode::Text(purpose, area) => {
            let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
            match key.code {
                KeyCode::Esc => {
                    app.mode = Mode::Normal;
                    vec![]
                }
                KeyCode::Char('s') if ctrl => {
                    let text = area.lines().join("\n").trim().to_string();
                    let text = (!text.is_empty()).then_some(text);
                    let (kind, job, said) = match *purpose {
                        Purpose::Nudge(job) => (CommandKind::Nudge, job, OperatorAction::Nudge),
                        Purpose::Reject(job) => (CommandKind::Reject, job, OperatorAction::Reject),
                    };
                    // The box stays open with its words when the job can
                    // no longer take them.
                    if let Err(no) = app.can(said, job) {
                        app.message = Some(format!("not sent: {no}"));
                        return vec![];
                    }
                    app.mode = Mode::Normal;
                    app.message = Some(format!("asked the engine to {said} #{job}"));
                    vec![Intent::Command {
                        kind,
                        job: Some(job),
                        text,
                    }]
                }
                _ => {
                    area.input(key);
                    vec![]
                }
            }
        }
        Mode::Details(view) if answer_key(&key).is_some() => {
            let job = view.job;
            let pressed = answer_key(&key).unwrap_or_default();
            let offer = app.question_of(job).and_then(|q| q.offer(pressed)).cloned();
            match offer {
                Some(offer) => answer(app, job, &offer),
                None => match app.keymap.action(&key) {
                    Some(action) => update(app, action),
                    None => vec![],
                },
            }
        }
        Mode::Diff(view) if view.content.as_ref().is_some_and(|d| d.input.is_some()) => {
            let job = view.job;
            let Some(diff) = view.content.as_mut() else {
                return vec![];
            };
            let (said, intents) = comment_key(diff, job, key);
            if let Some(said) = said {
                app.message = Some(said);
            }
            intents
        }
        Mode::Normal | Mode::Details(_) | Mode::Diff(_) | Mode::Grid => {
            match app.keymap.action(&key) {
                Some(action) => update(app, action),
                None => vec![],
            }
        }
    }
}

/// A key in the comment box of the diff view: Enter keeps the comment,
/// Esc drops it, the rest is typing. Returns what to tell the operator
/// and what to ask of the world.
fn comment_key(diff: &mut DiffView, job: i64, key: KeyEvent) -> (Option<String>, Vec<Intent>) {
    match key.code {
        KeyCode::Esc => {
            diff.input = None;
            (Some("comment dropped".into()), vec![])
        }
        KeyCode::Enter => {
            let Some((path, line, area)) = diff.input.take() else {
                return (None, vec![]);
            };
            let text = area.lines().join(" ").trim().to_string();
            if text.is_empty() {
                return (Some("an empty comment is not kept".into()), vec![]);
            }
            let comment = ReviewComment { path, line, text };
            if let Err(no) = crate::intake::limits::comment(&comment) {
                diff.input = Some((comment.path, comment.line, area));
                return (Some(format!("not kept: {no}")), vec![]);
            }
            diff.comments.push(comment.clone());
            (
                Some(format!(
                    "comment on {}:{} kept; a reject sends it to the agent",
                    comment.path, comment.line
                )),
                vec![Intent::Comment { job, comment }],
            )
        }
        _ => {
            if let Some((_, _, area)) = diff.input.as_mut() {
                area.input(key);
            }
            (None, vec![])
        }
    }
}

/// A key that may answer a question: a plain letter or digit.
fn answer_key(key: &KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c)
            if c.is_ascii_alphanumeric()
                && !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(c)
        }
        _ => None,
    }
}

/// Answers job `job`'s question with `offer`: the agent's own key, sent
/// by the engine as a key press (the same command as `switchboard
/// answer`), through the same gate.
pub(crate) fn answer(app: &mut App, job: i64, offer: &Offer) -> Vec<Intent> {
    if let Err(no) = app.can(OperatorAction::Answer, job) {
        app.message = Some(no.to_string());
        return vec![];
    }
    app.message = Some(format!(
        "asked the engine to answer #{job} with {} ({})",
        offer.choice,
        crate::untrusted::visible(&offer.label)
    ));
    vec![Intent::Command {
        kind: CommandKind::Answer,
        job: Some(job),
        text: Some(offer.choice.key()),
    }]
}

/// What came of a dispatch from the form: the job queued (the form
/// closes and the job is selected) or the whole reason it was refused
/// (the form stays, with its text).
///
/// The answer comes back after the room went on drawing: the form that
/// sent it may have been closed, or another opened (which the answer
/// leaves alone); then the status bar says it.
pub fn dispatched(app: &mut App, result: Result<i64, DispatchRefused>) {
    let sent_from_form = matches!(&app.mode, Mode::Dispatch(form) if form.sending);
    match result {
        Ok(id) => {
            if sent_from_form {
                app.mode = Mode::Normal;
            }
            app.select_job(id);
            app.message = Some(format!("queued #{id}"));
        }
        Err(DispatchRefused { why, field }) => match &mut app.mode {
            Mode::Dispatch(form) if sent_from_form => {
                form.refused(format!("not dispatched: {why}"), field)
            }
            _ => app.message = Some(format!("not dispatched: {why}")),
        },
    }
}

/// A click selects and focuses; the wheel scrolls what is under it.
pub fn handle_mouse(app: &mut App, mouse: MouseEvent) -> Vec<Intent> {
    let up = match mouse.kind {
        MouseEventKind::ScrollUp => true,
        MouseEventKind::ScrollDown => false,
        MouseEventKind::Down(MouseButton::Left) => {
            click(app, mouse.column, mouse.row);
            return vec![];
        }
        _ => return vec![],
    };
    match &mut app.mode {
        Mode::Details(view) => scroll(&mut view.scroll, up, WHEEL),
        Mode::Diff(view) => scroll(&mut view.scroll, up, WHEEL),
        Mode::Normal => {
            let layout = RoomLayout::of(app.area);
            match layout.pane_at(mouse.column, mouse.row) {
                Some(Pane::Live) => scroll_live(app, up, WHEEL),
                Some(pane) => move_selection(app, pane, up, 1),
                None => {}
            }
        }
        _ => {}
    }
    vec![]
}

fn click(app: &mut App, column: u16, row: u16) {
    if !matches!(app.mode, Mode::Normal) {
        return;
    }
    let layout = RoomLayout::of(app.area);
    let Some(pane) = layout.pane_at(column, row) else {
        return;
    };
    app.focus = pane;
    if pane == Pane::Live {
        return;
    }
    let area = layout.pane(pane);
    let top = area.y + 1 + header_rows(pane);
    if row < top {
        return;
    }
    let visible = list_rows(area, pane);
    let index = first_shown(app.selection(pane), visible) + (row - top) as usize;
    if index < app.rows(pane) {
        app.set_selection(pane, index);
    }
}

fn scroll(value: &mut usize, up: bool, by: usize) {
    *value = if up {
        value.saturating_sub(by)
    } else {
        value.saturating_add(by)
    };
}

/// Live scrolls back (up) from the newest line; 0 follows.
fn scroll_live(app: &mut App, up: bool, by: usize) {
    let max = super::draw::live_max_scroll(app);
    app.live.scroll = if up {
        (app.live.scroll + by).min(max)
    } else {
        app.live.scroll.saturating_sub(by)
    };
}

fn move_selection(app: &mut App, pane: Pane, up: bool, by: usize) {
    let rows = app.rows(pane);
    let current = app.selection(pane);
    let next = if up {
        current.saturating_sub(by)
    } else {
        (current + by).min(rows.saturating_sub(1))
    };
    app.set_selection(pane, next);
}

fn page(app: &App) -> usize {
    (RoomLayout::of(app.area).main.height as usize)
        .saturating_sub(3)
        .max(1)
}

fn command(kind: CommandKind, job: Option<i64>) -> Vec<Intent> {
    vec![Intent::Command {
        kind,
        job,
        text: None,
    }]
}

/// An approve of job `job` naming the commit shown (`head`), if any.
fn approve(job: i64, head: Option<String>) -> Vec<Intent> {
    vec![Intent::Command {
        kind: CommandKind::Approve,
        job: Some(job),
        text: head,
    }]
}

fn text_box(placeholder: &str) -> TextArea<'static> {
    let mut area = TextArea::default();
    area.set_placeholder_text(placeholder);
    area
}

/// Approve of `job` (allowed): asks first, naming what merges where,
/// unless the operator turned the question off.
fn ask_approve(app: &mut App, job: i64) -> Vec<Intent> {
    if !app.confirm_approve {
        app.message = Some(format!("asked the engine to approve #{job}"));
        return approve(job, ReviewSeen::of(&app.snapshot, job).and_then(|s| s.head));
    }
    match ReviewSeen::of(&app.snapshot, job) {
        Some(seen) => app.mode = Mode::Confirm(Confirm::Approve { job, seen }),
        None => app.message = Some(format!("#{job} has nothing in review")),
    }
    vec![]
}

/// Applies an action; returns what to ask of the world.
pub fn update(app: &mut App, action: Action) -> Vec<Intent> {
    match app.mode {
        Mode::Grid => return in_grid(app, action),
        // The diff view approves the job it shows, as the list does.
        Mode::Diff(ref view) if action == Action::Approve => {
            let job = view.job;
            return match app.can(OperatorAction::Approve, job) {
                Ok(()) => ask_approve(app, job),
                Err(no) => {
                    app.message = Some(no.to_string());
                    vec![]
                }
            };
        }
        Mode::Details(_) | Mode::Diff(_) => {
            in_view(app, action);
            return vec![];
        }
        Mode::Help => {
            app.mode = Mode::Normal;
            return vec![];
        }
        _ => {}
    }
    match action {
        Action::Quit => {
            app.quit = true;
            vec![]
        }
        Action::Comment => {
            app.message = Some(format!(
                "comments go on lines of a diff: {} opens the selected review item's",
                app.keymap.label(Action::Diff)
            ));
            vec![]
        }
        Action::FocusNext | Action::FocusPrev => {
            let i = Pane::ALL.iter().position(|p| *p == app.focus).unwrap_or(0);
            let n = Pane::ALL.len();
            let next = if action == Action::FocusNext {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            };
            app.focus = Pane::ALL[next];
            vec![]
        }
        Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
            let up = matches!(action, Action::Up | Action::PageUp);
            let by = if matches!(action, Action::Up | Action::Down) {
                1
            } else {
                page(app)
            };
            if app.focus == Pane::Live {
                scroll_live(app, up, by);
            } else {
                move_selection(app, app.focus, up, by);
            }
            vec![]
        }
        Action::Help => {
            app.mode = Mode::Help;
            vec![]
        }
        Action::Back => {
            if matches!(app.mode, Mode::Confirm(_)) {
                app.mode = Mode::Normal;
            } else if !app.filter.is_empty() {
                app.set_filter(String::new());
            } else {
                app.message = None;
            }
            vec![]
        }
        Action::Kill => {
            if let Some(job) = gated(app, OperatorAction::Kill) {
                app.mode = Mode::Confirm(Confirm::Kill(job));
            }
            vec![]
        }
        Action::Yes => match std::mem::take(&mut app.mode) {
            Mode::Confirm(confirm) => {
                let (action, job) = confirm.action();
                // Asked again: the job may have moved on since the question.
                if let Err(no) = app.still_asked(&confirm) {
                    app.message = Some(format!("{action} of #{job} cancelled: {no}"));
                    return vec![];
                }
                app.message = Some(format!("asked the engine to {action} #{job}"));
                match confirm {
                    Confirm::Approve { seen, .. } => approve(job, seen.head),
                    Confirm::Kill(_) => command(CommandKind::Kill, Some(job)),
                }
            }
            other => {
                app.mode = other;
                vec![]
            }
        },
        Action::Retry => match gated(app, OperatorAction::Retry) {
            Some(job) => {
                app.message = Some(format!("asked the engine to retry #{job}"));
                command(CommandKind::Retry, Some(job))
            }
            None => vec![],
        },
        Action::Approve => match gated(app, OperatorAction::Approve) {
            Some(job) => ask_approve(app, job),
            None => vec![],
        },
        Action::Reject => {
            if let Some(job) = gated(app, OperatorAction::Reject) {
                app.mode = Mode::Text(
                    Purpose::Reject(job),
                    text_box("why, for the agent (empty: a plain rejection)"),
                )
            }
            vec![]
        }
        Action::Nudge => {
            if let Some((job, _)) = agent_of_selection(app, OperatorAction::Nudge) {
                app.mode = Mode::Text(
                    Purpose::Nudge(job),
                    text_box("what to tell the agent (empty: \"are you stuck?\")"),
                )
            }
            vec![]
        }
        Action::Details => match app.selected_job() {
            Some(job) => {
                app.mode = Mode::Details(Scrolled::new(job));
                vec![Intent::LoadDetails(job)]
            }
            None => vec![],
        },
        Action::Diff => match reviewed_job(app) {
            Some(job) => {
                app.mode = Mode::Diff(Scrolled::new(job));
                vec![Intent::LoadDiff(job)]
            }
            None => {
                app.message = Some("the selected job has nothing in review".into());
                vec![]
            }
        },
        Action::Grid => {
            app.mode = Mode::Grid;
            vec![]
        }
        Action::Filter => {
            let mut area = TextArea::new(vec![app.filter.clone()]);
            area.move_cursor(ratatui_textarea::CursorMove::End);
            app.mode = Mode::Filter(area);
            vec![]
        }
        Action::Dispatch => {
            let mut form = DispatchForm::new(
                &app.snapshot.projects,
                &app.profiles,
                app.here.as_deref(),
                app.snapshot.task_priority,
            );
            form.missing = app.snapshot.missing_agents.clone();
            app.mode = Mode::Dispatch(Box::new(form));
            vec![]
        }
        Action::Attach => match agent_of_selection(app, OperatorAction::Attach) {
            Some((job, attempt)) => vec![Intent::Attach { job, attempt }],
            None => vec![],
        },
        Action::Drain => {
            let draining = app.engine == EngineState::Draining;
            app.message = Some(
                if draining {
                    "asked the engine to resume"
                } else {
                    "asked the engine to drain"
                }
                .into(),
            );
            command(
                if draining {
                    CommandKind::Resume
                } else {
                    CommandKind::Drain
                },
                None,
            )
        }
        Action::Pause => {
            let paused = app.paused;
            app.message = Some(
                if paused {
                    "asked the engine to resume"
                } else {
                    "asked the engine to pause: nothing new starts, agents go on"
                }
                .into(),
            );
            command(
                if paused {
                    CommandKind::Resume
                } else {
                    CommandKind::Pause
                },
                None,
            )
        }
    }
}

/// The grid: arrows and Tab select a tile; Enter, `a`, `n` and `K` act on
/// its job, through the same gate as everywhere.
fn in_grid(app: &mut App, action: Action) -> Vec<Intent> {
    // Every agent, not only the page on screen: moving past a page's last
    // tile turns the page.
    let tiles: Vec<i64> = app.grid_agents().into_iter().map(|(job, _)| job).collect();
    let at = app
        .grid_job()
        .and_then(|j| tiles.iter().position(|t| *t == j))
        .unwrap_or(0);
    let job = app.grid_job();
    match (action, job) {
        (Action::Up | Action::PageUp | Action::FocusPrev, _) if !tiles.is_empty() => {
            app.grid_pick = Some(tiles[(at + tiles.len() - 1) % tiles.len()]);
        }
        (Action::Down | Action::PageDown | Action::FocusNext, _) if !tiles.is_empty() => {
            app.grid_pick = Some(tiles[(at + 1) % tiles.len()]);
        }
        (Action::Details, Some(job)) => {
            app.mode = Mode::Details(Scrolled::new(job));
            return vec![Intent::LoadDetails(job)];
        }
        (Action::Attach, Some(job)) => {
            if let Some(attempt) = agent_of(app, OperatorAction::Attach, job) {
                return vec![Intent::Attach { job, attempt }];
            }
        }
        (Action::Nudge, Some(job)) if agent_of(app, OperatorAction::Nudge, job).is_some() => {
            app.mode = Mode::Text(
                Purpose::Nudge(job),
                text_box("what to tell the agent (empty: \"are you stuck?\")"),
            );
        }
        (Action::Kill, Some(job)) => match app.can(OperatorAction::Kill, job) {
            Ok(()) => app.mode = Mode::Confirm(Confirm::Kill(job)),
            Err(no) => app.message = Some(no.to_string()),
        },
        (Action::Back | Action::Quit | Action::Grid, _) => app.mode = Mode::Normal,
        (Action::Help, _) => app.mode = Mode::Help,
        _ => {}
    }
    vec![]
}

/// The full views take few actions: scrolling (down stops near the end)
/// and leaving.
fn in_view(app: &mut App, action: Action) {
    let page_size = page(app);
    if let Mode::Diff(view) = &mut app.mode {
        let page = page_size;
        let job = view.job;
        if let Some(diff) = view.content.as_mut()
            && in_diff(diff, &mut view.scroll, action, page, &mut app.message)
        {
            return;
        }
        if action == Action::Reject {
            match app.can(OperatorAction::Reject, job) {
                Ok(()) => {
                    app.mode = Mode::Text(
                        Purpose::Reject(job),
                        text_box("why, for the agent (the comments go with it)"),
                    )
                }
                Err(no) => app.message = Some(no.to_string()),
            }
            return;
        }
    }
    let (page, end) = (page(app), view_lines(&app.mode));
    let scrolled = match &mut app.mode {
        Mode::Details(v) => Some(&mut v.scroll),
        Mode::Diff(v) => Some(&mut v.scroll),
        _ => None,
    };
    match (action, scrolled) {
        (Action::Up | Action::Down | Action::PageUp | Action::PageDown, Some(s)) => {
            let up = matches!(action, Action::Up | Action::PageUp);
            let by = if matches!(action, Action::Up | Action::Down) {
                1
            } else {
                page
            };
            scroll(s, up, by);
            if !up {
                *s = (*s).min(end);
            }
        }
        (Action::Back | Action::Quit | Action::Details | Action::Diff | Action::Grid, _) => {
            app.mode = Mode::Normal
        }
        (Action::Help, _) => app.mode = Mode::Help,
        _ => {}
    }
}

/// The diff view's own keys: up and down move the selected line (the
/// view scrolls to keep it in sight), the comment key opens a one-line
/// box on it. Returns whether the action was the view's.
fn in_diff(
    diff: &mut DiffView,
    scroll: &mut usize,
    action: Action,
    page: usize,
    message: &mut Option<String>,
) -> bool {
    let last = diff.lines.len().saturating_sub(1);
    diff.cursor = match action {
        Action::Up => diff.cursor.saturating_sub(1),
        Action::Down => (diff.cursor + 1).min(last),
        Action::PageUp => diff.cursor.saturating_sub(page),
        Action::PageDown => (diff.cursor + page).min(last),
        Action::Comment => {
            match diff_position(&diff.lines, diff.cursor) {
                Some((path, line)) => {
                    let place = format!("{path}:{line}");
                    diff.input = Some((
                        path,
                        line,
                        text_box(&format!(
                            "comment on {place} (Enter keeps it, Esc drops it)"
                        )),
                    ));
                }
                None => {
                    *message = Some(
                        "select a line of a hunk (added, removed or context) to comment on".into(),
                    )
                }
            }
            return true;
        }
        _ => return false,
    };
    // The selected line stays in sight.
    if diff.cursor < *scroll {
        *scroll = diff.cursor;
    } else if diff.cursor >= *scroll + page {
        *scroll = diff.cursor + 1 - page;
    }
    true
}

/// About how many lines a full view has, so scrolling stops near its end
/// (the drawing stops at the last screenful exactly).
fn view_lines(mode: &Mode) -> usize {
    match mode {
        Mode::Diff(v) => v.content.as_ref().map_or(0, |d| d.lines.len()),
        Mode::Details(v) => v.content.as_ref().map_or(0, |d| {
            d.events.len() + d.attempts.len() + d.sources.len() + d.job.prompt.lines().count() + 16
        }),
        _ => 0,
    }
}

/// The selected job, when it can take `action` now; else the room says
/// why not (the same words as the command line's).
fn gated(app: &mut App, action: OperatorAction) -> Option<i64> {
    let Some(job) = app.selected_job() else {
        app.message = Some(format!("no job is selected to {action}"));
        return None;
    };
    match app.can(action, job) {
        Ok(()) => Some(job),
        Err(no) => {
            app.message = Some(no.to_string());
            None
        }
    }
}

/// The selected job and its attempt, when it can take `action` (nudge,
/// attach) and has had an agent.
fn agent_of_selection(app: &mut App, action: OperatorAction) -> Option<(i64, u32)> {
    let id = gated(app, action)?;
    Some((id, agent_of(app, action, id)?))
}

/// Job `id`'s attempt, when it can take `action` now and has had an
/// agent; else the room says why not.
fn agent_of(app: &mut App, action: OperatorAction, id: i64) -> Option<u32> {
    if let Err(no) = app.can(action, id) {
        app.message = Some(no.to_string());
        return None;
    }
    let attempt = app
        .snapshot
        .jobs
        .iter()
        .find(|j| j.id == id)
        .and_then(|j| j.state.attempt());
    if attempt.is_none() {
        app.message = Some(format!("job #{id} has no agent to {action}"));
    }
    attempt
}

/// The selected job, when it has a review item.
fn reviewed_job(app: &App) -> Option<i64> {
    let id = app.selected_job()?;
    app.snapshot
        .reviews
        .iter()
        .any(|r| r.job == id)
        .then_some(id)
}
