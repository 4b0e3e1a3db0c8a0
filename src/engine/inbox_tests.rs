//! The inbox on a temp directory and a temp journal, no engine around it.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{InboxPass, SETTLE, take_all};
use crate::config::{Config, Priorities};
use crate::journal::{JobFilter, Journal};

struct Inbox {
    _dir: tempfile::TempDir,
    root: PathBuf,
    journal: Journal,
    priorities: Priorities,
}

impl Inbox {
    fn new() -> Inbox {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::create_dir_all(root.join("inbox/rejected")).unwrap();
        let journal = Journal::open(&root.join("journal.db")).unwrap();
        Inbox {
            _dir: dir,
            root,
            journal,
            priorities: Config::builtin().unwrap().priorities,
        }
    }

    fn inbox(&self) -> PathBuf {
        self.root.join("inbox")
    }

    fn rejected(&self) -> PathBuf {
        self.root.join("inbox/rejected")
    }

    /// A pass as if at `now`.
    fn pass_at(&mut self, now: SystemTime) -> InboxPass {
        let (inbox, rejected) = (self.inbox(), self.rejected());
        take_all(&inbox, &rejected, &mut self.journal, &self.priorities, now).unwrap()
    }

    /// A pass once every file has been quiet long enough.
    fn pass_later(&mut self) -> InboxPass {
        self.pass_at(SystemTime::now() + SETTLE + Duration::from_secs(1))
    }

    fn jobs(&self) -> Vec<String> {
        let jobs = self.journal.jobs(&JobFilter::default()).unwrap();
        jobs.into_iter().map(|j| j.prompt).collect()
    }

    fn rejected_rows(&self) -> u64 {
        self.journal.intake_counts().unwrap().2
    }

    fn reason(&self, name: &str) -> String {
        std::fs::read_to_string(self.rejected().join(format!("{name}.reason"))).unwrap()
    }
}

const TASK: &str = r#"{"type":"task","project":"api","prompt":"from the inbox"}"#;

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

#[test]
fn a_symbolic_link_moves_aside_and_its_target_is_never_read() {
    let mut inbox = Inbox::new();
    // A target that would be journaled if it were followed...
    let outside = inbox.root.join("outside.json");
    std::fs::write(&outside, TASK).unwrap();
    std::os::unix::fs::symlink(&outside, inbox.inbox().join("a")).unwrap();
    // ... and one with many lines, each of which would be a rejected row.
    std::os::unix::fs::symlink("/etc/passwd", inbox.inbox().join("p")).unwrap();
    let pass = inbox.pass_later();
    assert_eq!(pass.rejected, 2, "{pass:?}");
    assert!(inbox.jobs().is_empty(), "the target was journaled");
    assert_eq!(
        inbox.rejected_rows(),
        2,
        "one row for each link, none per line"
    );
    assert!(is_link(&inbox.rejected().join("a")) && is_link(&inbox.rejected().join("p")));
    assert!(
        inbox.reason("p").contains("symbolic link"),
        "{}",
        inbox.reason("p")
    );
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        TASK,
        "the target is untouched"
    );
}

#[test]
fn a_fifo_moves_aside_without_waiting_for_a_writer() {
    let mut inbox = Inbox::new();
    let fifo = inbox.inbox().join("f");
    let path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    let pass = inbox.pass_later();
    assert_eq!(pass.rejected, 1, "{pass:?}");
    assert!(inbox.reason("f").contains("FIFO"), "{}", inbox.reason("f"));
    assert!(!fifo.exists());
}

#[test]
fn a_file_still_being_written_is_taken_once_quiet_not_rejected() {
    let mut inbox = Inbox::new();
    let file = inbox.inbox().join("slow.json");
    let (first, rest) = TASK.split_at(20);
    std::fs::write(&file, first).unwrap();
    let pass = inbox.pass_at(SystemTime::now());
    assert_eq!(
        pass,
        InboxPass {
            waiting: 1,
            ..InboxPass::default()
        }
    );
    assert!(file.exists() && inbox.rejected_rows() == 0);
    // Completed after a pass went by.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&file)
        .unwrap();
    std::io::Write::write_all(&mut f, rest.as_bytes()).unwrap();
    drop(f);
    assert_eq!(
        inbox.pass_at(SystemTime::now()).waiting,
        1,
        "just written: still waits"
    );
    let pass = inbox.pass_later();
    assert_eq!(pass.taken, 1, "{pass:?}");
    assert_eq!(inbox.jobs(), ["from the inbox"]);
    assert!(!file.exists() && inbox.rejected_rows() == 0);
}

#[test]
fn a_file_renamed_in_after_it_was_written_is_taken_at_once() {
    let mut inbox = Inbox::new();
    let part = inbox.inbox().join("t.json.part");
    std::fs::write(&part, TASK).unwrap();
    assert_eq!(
        inbox.pass_at(SystemTime::now()),
        InboxPass::default(),
        ".part waits"
    );
    let written = SystemTime::now() - SETTLE;
    std::fs::File::options()
        .write(true)
        .open(&part)
        .unwrap()
        .set_modified(written)
        .unwrap();
    std::fs::rename(&part, inbox.inbox().join("t.json")).unwrap();
    assert_eq!(inbox.pass_at(SystemTime::now()).taken, 1);
    assert_eq!(inbox.jobs(), ["from the inbox"]);
}

#[test]
fn a_file_over_the_message_limit_is_read_as_lines_streamed() {
    let mut inbox = Inbox::new();
    // One 64 MiB line (sparse: no disk, no memory to write it).
    let huge = inbox.inbox().join("huge");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(64 << 20)
        .unwrap();
    // Many good lines, more than one message's limit together.
    let mut lines = String::new();
    while lines.len() <= crate::intake::MAX_MESSAGE_BYTES {
        lines.push_str(TASK);
        lines.push('\n');
    }
    let count = lines.lines().count();
    std::fs::write(inbox.inbox().join("many.jsonl"), &lines).unwrap();
    let pass = inbox.pass_later();
    assert_eq!((pass.taken, pass.rejected), (1, 1), "{pass:?}");
    assert_eq!(inbox.jobs().len(), count);
    let reason = inbox.reason("huge");
    assert!(
        reason.contains("over the") && reason.contains("limit"),
        "{reason}"
    );
    assert_eq!(inbox.rejected_rows(), 1, "the line, its first MiB kept");
}

#[test]
fn directories_are_left_alone() {
    let mut inbox = Inbox::new();
    std::fs::create_dir(inbox.inbox().join("sub")).unwrap();
    assert_eq!(inbox.pass_later(), InboxPass::default());
    assert!(inbox.inbox().join("sub").is_dir());
}

/// The CloudWatch fixture in its SNS envelope, as SNS posts it (one
/// pretty-printed document).
fn sns_envelope() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/intake/cloudwatch_sns_envelope.json"
    ))
    .unwrap()
}

#[test]
fn an_sns_envelope_delivered_again_makes_one_alarm_whichever_path_came_first() {
    use crate::intake::read_item;
    use crate::journal::Delivery;
    use crate::model::{Intake, Source, Timestamp};

    let mut inbox = Inbox::new();
    let doc = sns_envelope();
    // SNS delivered it to an SQS queue first, which the engine took.
    let sqs = Delivery {
        source: Source::new(Intake::Sqs, "SQS message m-1").with_delivery("sqs:m-1"),
        items: vec![read_item(doc.clone().into_bytes(), None)],
    };
    let priorities = inbox.priorities.clone();
    inbox
        .journal
        .ingest_deliveries(&[sqs], &priorities, Timestamp::now())
        .unwrap();
    assert_eq!(inbox.journal.intake_counts().unwrap().1, 1);

    // Then as a file dropped into the inbox (one document) ...
    std::fs::write(inbox.inbox().join("one.json"), &doc).unwrap();
    // ... and in a file of JSON lines beside a new alarm, twice.
    let line: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let mut other = line.clone();
    other["MessageId"] = "another-delivery".into();
    std::fs::write(
        inbox.inbox().join("two.jsonl"),
        format!("{line}\n{other}\n{line}\n"),
    )
    .unwrap();
    let pass = inbox.pass_later();
    assert_eq!(pass.taken, 2, "{pass:?}: a redelivery is not a fault");
    assert_eq!(pass.rejected, 0, "{pass:?}");
    assert_eq!(
        inbox.journal.intake_counts().unwrap().1,
        2,
        "the first delivery and the other one"
    );
    assert!(inbox.journal.delivered("sns:another-delivery").unwrap());
    // Each alarm knows the intake and the delivery it came by.
    let mut rows = inbox
        .journal
        .conn()
        .prepare("SELECT intake, source, delivery FROM alarms ORDER BY id")
        .unwrap();
    let rows: Vec<(String, String, String)> = rows
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        rows,
        [
            (
                "sqs".to_string(),
                "SQS message m-1".to_string(),
                "sns:a1b2c3d4-5678-90ab-cdef-111111111111".to_string()
            ),
            (
                "inbox".to_string(),
                "inbox/two.jsonl".to_string(),
                "sns:another-delivery".to_string()
            ),
        ]
    );
}
