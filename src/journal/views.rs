//! Read-only views of alarm chains and the review queue.

use serde::Serialize;

use super::{Journal, Result};
use crate::model::{DeliveryKind, DeliveryState, Project, RemoteDelivery, Timestamp};
use crate::scheduler::Chain;

/// A finished attempt's branch waiting for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewView {
    pub job: i64,
    pub project: String,
    pub branch: String,
    pub state: String,
    pub files: u64,
    pub insertions: u64,
    pub deletions: u64,
    pub created_at: Timestamp,
    /// The pull request (or the compare page of a pushed branch), when
    /// the work went to a remote.
    pub url: Option<String>,
    /// Where the work went on the remote and how it stands there.
    pub delivery: Option<RemoteDelivery>,
    /// The commit the branch pointed at when the work was committed
    /// (none in a journal older than that, or while it is uncommitted).
    pub head: Option<String>,
}

/// The review items delivered (index `review_items_delivered`).
pub(super) const DELIVERED: &str = "state = 'delivered'";

impl Journal {
    /// Every chain, newest activity first.
    pub fn chains(&self) -> Result<Vec<Chain>> {
        let mut stmt = self.conn().prepare(
            "SELECT id, account, alarms, first_at, latest_at, resolved, job_id FROM chains \
             ORDER BY latest_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Chain {
                id: r.get(0)?,
                account: r.get(1)?,
                alarms: r.get(2)?,
                first_at: Timestamp::from_millis(r.get(3)?),
                latest_at: Timestamp::from_millis(r.get(4)?),
                resolved: r.get(5)?,
                job: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every review item, oldest first.
    pub fn review_items(&self) -> Result<Vec<ReviewView>> {
        self.reviews_where("1 = 1", 0)
    }

    /// The items delivered to a remote (a push or a pull request) whose
    /// fate is still followed: read on the partial index
    /// `review_items_delivered`, not from every item ever reviewed.
    pub fn delivered_review_items(&self) -> Result<Vec<ReviewView>> {
        self.reviews_where(DELIVERED, 0)
    }

    /// The review item of one job, if it has one.
    pub fn review_item(&self, job: i64) -> Result<Option<ReviewView>> {
        Ok(self.reviews_where("job_id = ?1", job)?.pop())
    }

    /// The review item of one job with its project, if it has both.
    pub fn review_with_project(&self, job: i64) -> Result<Option<(ReviewView, Project)>> {
        let Some(item) = self.review_item(job)? else {
            return Ok(None);
        };
        Ok(self.project(&item.project)?.map(|p| (item, p)))
    }

    fn reviews_where(&self, clause: &str, value: i64) -> Result<Vec<ReviewView>> {
        let sql = format!(
            "SELECT job_id, project, branch, state, files, insertions, deletions, created_at, \
             delivery_kind, delivery_remote, delivery_url, delivery_state, delivery_checked_at, head \
             FROM review_items WHERE {clause} AND ?1 = ?1 ORDER BY created_at, job_id"
        );
        let mut stmt = self.conn().prepare_cached(&sql)?;
        let rows = stmt.query_map([value], |r| {
            let kind: Option<String> = r.get(8)?;
            let state: Option<String> = r.get(11)?;
            let delivery = match (
                kind.as_deref().and_then(DeliveryKind::parse),
                state.as_deref().and_then(DeliveryState::parse),
            ) {
                (Some(kind), Some(state)) => Some(RemoteDelivery {
                    kind,
                    remote: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
                    url: r.get(10)?,
                    state,
                    checked_at: r.get::<_, Option<i64>>(12)?.map(Timestamp::from_millis),
                }),
                _ => None,
            };
            Ok(ReviewView {
                job: r.get(0)?,
                project: r.get(1)?,
                branch: r.get(2)?,
                state: r.get(3)?,
                files: r.get(4)?,
                insertions: r.get(5)?,
                deletions: r.get(6)?,
                created_at: Timestamp::from_millis(r.get(7)?),
                url: delivery.as_ref().and_then(|d| d.url.clone()),
                delivery,
                head: r.get(13)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
