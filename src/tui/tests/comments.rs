//! Review comments in the diff view: a line is selected with up and down,
//! `c` opens a one-line box on it, Enter keeps the comment (listed in the
//! view, kept in the journal by the room), and a reject from the view
//! sends the reason; the engine adds every comment to it.

use super::*;
use crate::journal::CommandKind;
use crate::model::ReviewComment;
use crate::tui::app::{DiffView, Mode, Pane, Purpose};
use crate::tui::update::{Intent, handle_key};

/// Real `git diff` output (see `model::comment`).
const DIFF: &str = include_str!("../../../tests/fixtures/diff/review.diff");

/// Moves the selection down to the line that reads `text`.
fn select(app: &mut App, text: &str) {
    let (lines, at) = match &app.mode {
        Mode::Diff(v) => {
            let d = v.content.as_ref().expect("the diff is read");
            (d.lines.clone(), d.cursor)
        }
        _ => panic!("not in the diff view"),
    };
    let want = lines.iter().position(|l| l == text).expect(text);
    for _ in at..want {
        handle_key(app, key('j'));
    }
    for _ in want..at {
        handle_key(app, key('k'));
    }
}

fn comment(app: &mut App, text: &str) -> Vec<Intent> {
    assert!(handle_key(app, key('c')).is_empty());
    type_text(app, text);
    handle_key(app, code(KeyCode::Enter))
}

#[test]
fn two_lines_commented_then_rejected() {
    let mut app = sample();
    app.focus = Pane::Review;
    let intents = handle_key(&mut app, key('v'));
    assert_eq!(intents, [Intent::LoadDiff(2)]);
    // The room reads the diff and the comments kept so far.
    if let Mode::Diff(view) = &mut app.mode {
        view.content = Some(DiffView::new(
            DIFF.lines().map(str::to_string).collect(),
            Vec::new(),
        ));
    }
    // A header is not a line of a file.
    assert!(handle_key(&mut app, key('c')).is_empty());
    assert!(
        app.message
            .as_deref()
            .unwrap_or_default()
            .contains("select a line of a hunk"),
        "{:?}",
        app.message
    );

    select(&mut app, "+TWO");
    let first = comment(&mut app, "keep it lower case");
    let hostile = "$(rm -rf /) `id`; 'q' \x1b]0;PWNED\x07";
    select(&mut app, "+    println!(\"hi\");");
    let second = comment(&mut app, hostile);
    assert_eq!(
        [first, second].concat(),
        [
            Intent::Comment {
                job: 2,
                comment: ReviewComment {
                    path: "a.txt".into(),
                    line: 2,
                    text: "keep it lower case".into()
                }
            },
            Intent::Comment {
                job: 2,
                comment: ReviewComment {
                    path: "src dir/m.rs".into(),
                    line: 2,
                    // Kept as typed; shown with visible escapes.
                    text: hostile.into()
                }
            },
        ]
    );
    // Both are listed in the view, outside text shown harmlessly.
    let screen = render(&app, 160, 48);
    assert!(
        screen.contains("2 comments: a reject sends them"),
        "{screen}"
    );
    assert!(screen.contains("a.txt:2: keep it lower case"), "{screen}");
    assert!(
        screen.contains("src dir/m.rs:2: $(rm -rf /) `id`; 'q' ␛]0;PWNED␇"),
        "{screen}"
    );
    assert!(
        !screen.chars().any(|c| c.is_control() && c != '\n'),
        "{screen}"
    );

    // Esc drops a comment being typed.
    select(&mut app, " three");
    handle_key(&mut app, key('c'));
    type_text(&mut app, "never mind");
    assert!(handle_key(&mut app, code(KeyCode::Esc)).is_empty());
    assert!(
        matches!(&app.mode, Mode::Diff(v) if v.content.as_ref().is_some_and(|d| d.comments.len() == 2 && d.input.is_none()))
    );

    // Reject from the diff view: the reason box, then the command.
    handle_key(&mut app, key('x'));
    assert!(matches!(app.mode, Mode::Text(Purpose::Reject(2), _)));
    type_text(&mut app, "not yet");
    let sent = handle_key(&mut app, ctrl('s'));
    assert_eq!(
        sent,
        [Intent::Command {
            kind: CommandKind::Reject,
            job: Some(2),
            text: Some("not yet".into())
        }]
    );
}

#[test]
fn comments_kept_in_the_journal_survive_and_go_with_the_reject_text() {
    // What the room does with an Intent::Comment, and what a room opened
    // again reads back.
    let dir = tempfile::tempdir().unwrap();
    let mut journal = crate::journal::Journal::open(&dir.path().join("j.db")).unwrap();
    let now = t(0);
    let id = journal
        .dispatch(
            &crate::journal::NewJob::task(Some("api".into()), "p".into(), 0),
            now,
        )
        .unwrap();
    let c = ReviewComment {
        path: "a.txt".into(),
        line: 2,
        text: "keep it lower case".into(),
    };
    let refused = journal.add_review_comment(id, &c, now).unwrap_err();
    assert!(
        refused.to_string().contains("nothing in review"),
        "{refused}"
    );
    journal
        .add_review_item(id, 1, "api", "switchboard/1", Default::default(), None, now)
        .unwrap();
    journal.add_review_comment(id, &c, now).unwrap();
    drop(journal);
    let mut journal = crate::journal::Journal::open(&dir.path().join("j.db")).unwrap();
    let kept = journal.open_review_comments(id).unwrap();
    assert_eq!(kept, [c]);
    assert_eq!(
        crate::model::reject_text(Some("not yet"), &kept),
        "not yet\nReview comments (path:line: comment):\na.txt:2: keep it lower case"
    );
    journal.mark_review_comments_sent(id, now).unwrap();
    assert!(journal.open_review_comments(id).unwrap().is_empty());
}
