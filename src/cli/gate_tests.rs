//! One gate per action: every operator action on a job in every state
//! (and every review state), asked of the command line and of the
//! control room's keys over the same journal. They must agree, and agree
//! with the gate's own table.

use crate::config::Config;
use crate::journal::{Journal, NewJob};
use crate::model::{
    JobState, OperatorAction, ReviewState, StateName, Timestamp, TransitionError, gate,
};
use crate::tui::action::Action;
use crate::tui::app::{App, EngineState, Mode};
use crate::tui::update::update;
use crate::workspace::DiffStat;

type Step = fn(&JobState, Timestamp) -> Result<JobState, TransitionError>;

/// The moves that bring a new job to `state`.
fn path_to(state: StateName) -> Vec<Step> {
    let start: Step = |s, now| s.start(1, now);
    let run: Step = |s, now| s.run(now);
    match state {
        StateName::Queued => vec![],
        StateName::Starting => vec![start],
        StateName::Running => vec![start, run],
        StateName::Waiting => vec![start, run, |s, now| s.wait("Proceed? [y/n]", now)],
        StateName::Stalled => vec![start, run, |s, now| s.stall(now)],
        StateName::Done => vec![start, run, |s, now| s.finish(now)],
        StateName::Failed => vec![start, run, |s, now| s.fail("exit 1", now)],
        StateName::Killed => vec![|s, now| s.kill("killed by the operator", now)],
    }
}

/// What the room does with the action's key on the selected job: true
/// when it sends the command (or opens the box or question that does).
fn room_takes(app: &mut App, action: OperatorAction) -> bool {
    if action == OperatorAction::Answer {
        // The room answers from the details of an asking job, with the
        // keys of the question on its screen.
        let Some(id) = app.selected_job() else {
            return false;
        };
        let offer = crate::agents::question::Offer {
            key: 'y',
            choice: crate::agents::answer::Choice::Yes,
            label: "yes".into(),
        };
        return !crate::tui::update::answer(app, id, &offer).is_empty();
    }
    let key = match action {
        OperatorAction::Kill => Action::Kill,
        OperatorAction::Nudge => Action::Nudge,
        OperatorAction::Retry => Action::Retry,
        OperatorAction::Approve => Action::Approve,
        OperatorAction::Reject => Action::Reject,
        OperatorAction::Attach => Action::Attach,
        OperatorAction::Answer => unreachable!("answered above"),
    };
    let intents = update(app, key);
    let taken = match &app.mode {
        Mode::Confirm(_) => !update(app, Action::Yes).is_empty(),
        Mode::Text(..) => true,
        _ => !intents.is_empty(),
    };
    app.mode = Mode::Normal;
    taken
}

#[test]
fn the_room_and_the_command_line_refuse_the_same_actions() {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(&dir.path().join("journal.db")).unwrap();
    let now = Timestamp::now();
    let mut cases = Vec::new();
    for state in StateName::ALL {
        let reviews: Vec<Option<ReviewState>> = if state == StateName::Done {
            std::iter::once(None)
                .chain(ReviewState::ALL.map(Some))
                .collect()
        } else {
            vec![None]
        };
        for review in reviews {
            let id = journal
                .dispatch(&NewJob::task(None, format!("{state} {review:?}"), 0), now)
                .unwrap();
            for step in path_to(state) {
                journal
                    .change_state(id, now, |s| step(s, now), "test")
                    .unwrap();
            }
            if let Some(r) = review {
                let stat = DiffStat {
                    files: 1,
                    insertions: 1,
                    deletions: 0,
                };
                let branch = format!("switchboard/{id}");
                journal
                    .add_review_item(id, 1, "api", &branch, stat, None, now)
                    .unwrap();
                if r != ReviewState::Ready {
                    journal.set_review_state(id, r, "test", now).unwrap();
                }
            }
            cases.push((id, state, review));
        }
    }
    let config = Config::builtin().unwrap();
    let (snapshot, _) = crate::tui::snapshot(&journal, &config, now).unwrap();
    for (id, state, review) in cases {
        for action in OperatorAction::ALL {
            let cli = super::operator::gated(&journal, id, action);
            let mut app = App::new(EngineState::Running);
            app.set_snapshot(snapshot.clone());
            app.select_job(id);
            assert_eq!(app.selected_job(), Some(id));
            let room = room_takes(&mut app, action);
            let expected = gate(action, id, state, review).is_ok();
            let case = format!("{action} on #{id}, {state}, review {review:?}");
            assert_eq!(cli.is_ok(), expected, "command line: {case}");
            assert_eq!(room, expected, "room: {case}");
            if let Err(no) = cli {
                let said = app.message.clone().unwrap_or_default();
                assert_eq!(
                    said,
                    no.to_string(),
                    "the room says the CLI's words: {case}"
                );
            }
        }
    }
}
