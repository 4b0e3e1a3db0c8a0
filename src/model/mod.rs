//! The operator's world as plain data: jobs and their states, projects, the
//! messages that bring work, and time. No I/O lives here.

mod approved;
mod comment;
mod delivery;
mod gate;
mod host;
mod host_address;
mod host_health;
mod job;
mod message;
mod name;
mod project;
mod source;
mod timestamp;

pub use approved::{ApprovedCommit, NotACommit, short_sha};
pub use comment::{KeptComment, ReviewComment, diff_position, reject_text};
pub use delivery::{DeliveryKind, DeliveryState, RemoteDelivery};
pub use gate::{OperatorAction, Refusal, ReviewState, check as gate};
pub use host::{Host, HostName, HostSource, LOCAL_HOST, merge_hosts};
pub use host_address::{AddressError, DEFAULT_SSH_PORT, HostAddress};
pub use host_health::{Freshness, HostHealth, Reachability};
pub use job::{Job, JobKind, JobState, Progress, StateName, TransitionError, title_of};
pub use message::{AlarmMessage, AlarmState, Message, TaskMessage, TicketMessage};
pub use project::{Project, check_project_name};
pub use source::{Intake, Source};
pub use timestamp::{Timestamp, short_age};
