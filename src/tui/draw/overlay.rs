//! What opens over the panes: the help, a question, the dispatch form, the
//! nudge/reject text box, the filter.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui_textarea::TextArea;

use crate::config::Deliver;
use crate::tui::app::{App, Confirm, Mode, Purpose};
use crate::tui::form::{DispatchForm, Field};
use crate::untrusted::visible;

pub fn draw(app: &App, frame: &mut Frame, main: Rect) {
    match &app.mode {
        Mode::Help => help(app, frame, main),
        Mode::Confirm(confirm) => question(app, confirm, frame, main),
        Mode::Filter(area) => {
            let rect = centered(main, 50, 3);
            frame.render_widget(Clear, rect);
            let mut boxed = area.clone();
            boxed.set_block(Block::bordered().title(" Filter the queue "));
            boxed.set_cursor_line_style(Style::new());
            frame.render_widget(&boxed, rect);
        }
        Mode::Text(purpose, area) => {
            let title = match purpose {
                Purpose::Nudge(job) => format!(" Nudge #{job}: C-s sends, Esc cancels "),
                Purpose::Reject(job) => format!(" Reject #{job}: C-s sends, Esc cancels "),
            };
            let rect = centered(main, 64, 8);
            frame.render_widget(Clear, rect);
            let mut boxed = area.clone();
            boxed.set_block(Block::bordered().title(title));
            boxed.set_cursor_line_style(Style::new());
            frame.render_widget(&boxed, rect);
        }
        Mode::Dispatch(form) => dispatch(form, frame, main),
        _ => {}
    }
}

/// A question before an action: what it acts on, named in full.
fn question(app: &App, confirm: &Confirm, frame: &mut Frame, main: Rect) {
    let (title, lines, yes) = match confirm {
        Confirm::Kill(job) => {
            // The job by its id, title and state: what the kill acts on.
            let about = app
                .snapshot
                .jobs
                .iter()
                .find(|j| j.id == *job)
                .map(|j| format!("{} ({})", visible(&j.title), j.state.name()))
                .unwrap_or_default();
            (
                " Kill ",
                vec![format!("Kill job #{job}'s agent?"), about],
                "y/Enter: kill   any other key: keep",
            )
        }
        Confirm::Approve { job, .. } => {
            let item = app.snapshot.reviews.iter().find(|r| r.job == *job);
            let (branch, stat, base) = item.map_or_else(Default::default, |r| {
                (
                    r.branch.clone(),
                    format!(
                        "{}, +{} -{}",
                        crate::workspace::files_changed(r.files),
                        r.insertions,
                        r.deletions
                    ),
                    app.snapshot
                        .bases
                        .get(&r.project)
                        .cloned()
                        .unwrap_or_else(|| "its base branch".into()),
                )
            });
            let deliver = item
                .and_then(|r| app.snapshot.delivers.get(&r.project))
                .copied()
                .unwrap_or_default();
            let (question, footer) = match deliver {
                Deliver::Merge => (
                    format!(
                        "Merge job #{job}'s {} into {}?",
                        visible(&branch),
                        visible(&base)
                    ),
                    "y/Enter: merge   any other key: keep",
                ),
                Deliver::Push => (
                    format!(
                        "Push job #{job}'s {} to the remote, for {}?",
                        visible(&branch),
                        visible(&base)
                    ),
                    "y/Enter: push   any other key: keep",
                ),
                Deliver::Pr => (
                    format!(
                        "Push job #{job}'s {} and open a PR into {}?",
                        visible(&branch),
                        visible(&base)
                    ),
                    "y/Enter: push and open   any other key: keep",
                ),
            };
            (" Approve ", vec![question, stat], footer)
        }
    };
    let area = centered(main, 60, 5);
    frame.render_widget(Clear, area);
    let mut text: Vec<Line> = lines.into_iter().map(Line::from).collect();
    text.push(Line::from(yes));
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(title)),
        area,
    );
}

fn help(app: &App, frame: &mut Frame, area: Rect) {
    let keys = app.keymap.help();
    let width = keys
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(4);
    let entry = |(k, what): &(String, &'static str)| {
        vec![
            Span::styled(
                format!("{k:>width$}  "),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!("{what:<26}")),
        ]
    };
    let notes = [
        "Mouse: click selects, the wheel scrolls.",
        "Forms and boxes: Tab next field, C-s sends, Esc cancels.",
        "Keys are set under [keys] in config.toml.",
    ];
    let note_width = notes.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    // One column where it fits, else two side by side.
    let columns = if keys.len() + notes.len() + 3 > area.height as usize {
        2
    } else {
        1
    };
    let rows = keys.len().div_ceil(columns);
    let mut lines: Vec<Line> = (0..rows)
        .map(|r| {
            let mut spans = Vec::new();
            for c in 0..columns {
                if let Some(k) = keys.get(c * rows + r) {
                    spans.extend(entry(k));
                }
            }
            Line::from(spans)
        })
        .collect();
    lines.push(Line::raw(""));
    lines.extend(notes.iter().map(|n| Line::raw(*n)));
    // As wide as the widest of the keys' columns and the notes: nothing cut.
    let rect = centered(
        area,
        ((width + 28) * columns).max(note_width) as u16 + 2,
        lines.len() as u16 + 2,
    );
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Keys (any key closes) ")),
        rect,
    );
}

fn dispatch(form: &DispatchForm, frame: &mut Frame, main: Rect) {
    // The whole reason of a refusal shows, wrapped, however long it is.
    let error_rows = form.error.as_ref().map_or(1, |why| {
        let width = main.width.min(72).saturating_sub(2).max(1) as usize;
        (why.chars().count() * 6 / 5).div_ceil(width).max(1) as u16
    });
    let rect = centered(main, 72, 20 + error_rows);
    frame.render_widget(Clear, rect);
    let outer = Block::bordered().title(" Dispatch a task: C-s submits, Esc cancels ");
    let inner = outer.inner(rect);
    frame.render_widget(outer, rect);
    let path_rows = if form.wants_path() { 3 } else { 0 };
    let [project, path, agent, priority, after, prompt, error] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(path_rows),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(3),
        Constraint::Length(error_rows),
    ])
    .areas(inner);
    let focus = |field: Field| {
        if form.field == field {
            Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        }
    };
    let picker = |label: &str, field, value: &str| {
        Line::from(vec![
            Span::styled(format!("{label:<9}"), focus(field)),
            Span::raw("‹ "),
            Span::styled(
                visible(value).into_owned(),
                focus(field).add_modifier(Modifier::REVERSED),
            ),
            Span::raw(" ›"),
        ])
    };
    frame.render_widget(
        Paragraph::new(picker(
            "Project",
            Field::Project,
            &form.projects[form.project],
        )),
        project,
    );
    if form.wants_path() {
        boxed(
            frame,
            &form.path,
            " Repository path ",
            form.field == Field::Path,
            path,
        );
    }
    frame.render_widget(
        Paragraph::new(picker("Agent", Field::Agent, &form.agent_label())),
        agent,
    );
    // One-line fields: a label, then the text as typed.
    let line_field = |frame: &mut Frame, label: &str, field, area: &TextArea<'static>, row| {
        let [label_rect, value] =
            Layout::horizontal([Constraint::Length(9), Constraint::Min(1)]).areas(row);
        frame.render_widget(
            Paragraph::new(Span::styled(label.to_string(), focus(field))),
            label_rect,
        );
        let mut shown = area.clone();
        shown.set_cursor_line_style(Style::new());
        if form.field != field {
            shown.set_cursor_style(Style::new());
        }
        frame.render_widget(&shown, value);
    };
    line_field(frame, "Priority", Field::Priority, &form.priority, priority);
    line_field(frame, "After", Field::After, &form.after, after);
    boxed(
        frame,
        &form.prompt,
        " Prompt (Enter: new line) ",
        form.field == Field::Prompt,
        prompt,
    );
    if form.sending {
        frame.render_widget(
            Paragraph::new("dispatching… (the room goes on; Esc closes the form)")
                .style(Style::new().add_modifier(Modifier::DIM)),
            error,
        );
    } else if let Some(why) = &form.error {
        frame.render_widget(
            Paragraph::new(visible(why).into_owned())
                .style(Style::new().fg(Color::Red))
                .wrap(Wrap { trim: false }),
            error,
        );
    }
}

fn boxed(frame: &mut Frame, area: &TextArea<'static>, title: &str, focused: bool, rect: Rect) {
    let mut shown = area.clone();
    let style = if focused {
        Style::new().fg(Color::Cyan)
    } else {
        Style::new()
    };
    shown.set_block(
        Block::bordered()
            .title(title.to_string())
            .border_style(style),
    );
    shown.set_cursor_line_style(Style::new());
    if !focused {
        shown.set_cursor_style(Style::new());
    }
    frame.render_widget(&shown, rect);
}

pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
