//! The operator's world as plain data: jobs and their states, projects, the
//! messages that bring work, and time. No I/O lives here.

mod gate;
mod job;
mod message;
mod project;
mod timestamp;

pub use gate::{OperatorAction, Refusal, ReviewState, check as gate};
pub use job::{Job, JobKind, JobState, Progress, StateName, TransitionError, title_of};
pub use message::{AlarmMessage, AlarmState, Message, TaskMessage, TicketMessage};
pub use project::{Project, check_project_name};
pub use timestamp::{Timestamp, short_age};
