//! Everything the journal knows about one job, for the control room's
//! details view: its events with their reasons, its attempts, and the
//! ticket or alarms behind it.

use super::{Attempt, Event, Journal, Result};
use crate::model::{Job, Timestamp};

/// One job in full.
#[derive(Debug, Clone)]
pub struct JobDetails {
    pub job: Job,
    pub events: Vec<Event>,
    pub attempts: Vec<Attempt>,
    /// The ticket or the alarms the job was made from, a line each.
    pub sources: Vec<String>,
}

impl Journal {
    /// The details of job `id`, if there is such a job.
    pub fn job_details(&self, id: i64) -> Result<Option<JobDetails>> {
        let Some(job) = self.job(id)? else {
            return Ok(None);
        };
        let mut sources = Vec::new();
        let mut tickets = self
            .conn()
            .prepare_cached("SELECT key, title, updates FROM tickets WHERE job_id = ?1")?;
        let rows = tickets.query_map([id], |r| {
            let updates: i64 = r.get(2)?;
            Ok(format!(
                "ticket {}: {} ({updates} update{})",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                if updates == 1 { "" } else { "s" }
            ))
        })?;
        for row in rows {
            sources.push(row?);
        }
        let mut alarms = self.conn().prepare_cached(
            "SELECT a.at, a.name, a.state, a.account, a.region, a.reason FROM alarms a \
             JOIN chains c ON a.chain_id = c.id WHERE c.job_id = ?1 ORDER BY a.at, a.id",
        )?;
        let rows = alarms.query_map([id], |r| {
            let at = Timestamp::from_millis(r.get(0)?);
            let region: Option<String> = r.get(4)?;
            let reason: Option<String> = r.get(5)?;
            Ok(format!(
                "alarm {} {} {} in {}{}{}",
                at.rfc3339(),
                r.get::<_, String>(2)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(3)?,
                region.map(|g| format!(" ({g})")).unwrap_or_default(),
                reason.map(|w| format!(": {w}")).unwrap_or_default(),
            ))
        })?;
        for row in rows {
            sources.push(row?);
        }
        Ok(Some(JobDetails {
            events: self.events(id)?,
            attempts: self.attempts(id)?,
            job,
            sources,
        }))
    }
}
