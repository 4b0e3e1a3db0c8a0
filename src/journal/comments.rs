//! Review comments, kept with the review item until a rejection sends
//! them to the agent (then kept as sent, for the record).

use std::collections::BTreeMap;

use rusqlite::params;

use super::{Journal, JournalError, Result, jobs::insert_event};
use crate::model::{KeptComment, ReviewComment, Timestamp};

impl Journal {
    /// Keeps a comment on a line of job `id`'s review item, with an event.
    pub fn add_review_comment(
        &mut self,
        id: i64,
        comment: &ReviewComment,
        now: Timestamp,
    ) -> Result<()> {
        self.write(|tx| {
            let exists = tx
                .prepare_cached("SELECT 1 FROM review_items WHERE job_id = ?1")?
                .exists([id])?;
            if !exists {
                return Err(JournalError::Refused(format!(
                    "job #{id} has nothing in review to comment on"
                )));
            }
            tx.execute(
                "INSERT INTO review_comments (job_id, path, line, text, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, comment.path, comment.line, comment.text, now.millis()],
            )?;
            insert_event(tx, now, Some(id), "comment", &comment.to_string())?;
            Ok(())
        })
    }

    /// The comments on job `id`'s review item not yet sent, oldest first.
    pub fn open_review_comments(&self, id: i64) -> Result<Vec<ReviewComment>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT path, line, text FROM review_comments WHERE job_id = ?1 AND sent_at IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([id], |r| {
            Ok(ReviewComment {
                path: r.get(0)?,
                line: r.get(1)?,
                text: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every job's comments, sent or not, oldest first, by job: what
    /// `review --json` lists with each item (one read for all items).
    pub fn kept_review_comments(&self) -> Result<BTreeMap<i64, Vec<KeptComment>>> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT job_id, path, line, text, at, sent_at FROM review_comments ORDER BY job_id, id",
        )?;
        let rows = stmt.query_map([], |r| {
            let kept = KeptComment {
                comment: ReviewComment {
                    path: r.get(1)?,
                    line: r.get(2)?,
                    text: r.get(3)?,
                },
                at: Timestamp::from_millis(r.get(4)?),
                sent_at: r.get::<_, Option<i64>>(5)?.map(Timestamp::from_millis),
            };
            Ok((r.get::<_, i64>(0)?, kept))
        })?;
        let mut by_job: BTreeMap<i64, Vec<KeptComment>> = BTreeMap::new();
        for row in rows {
            let (job, kept) = row?;
            by_job.entry(job).or_default().push(kept);
        }
        Ok(by_job)
    }

    /// Marks job `id`'s open comments sent (a rejection carried them).
    pub fn mark_review_comments_sent(&mut self, id: i64, now: Timestamp) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE review_comments SET sent_at = ?2 WHERE job_id = ?1 AND sent_at IS NULL",
                params![id, now.millis()],
            )?;
            Ok(())
        })
    }
}
