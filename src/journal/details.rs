//! Everything the journal knows about one job, for the control room's
//! details view: its events with their reasons, its attempts, and the
//! ticket or alarms behind it.

use serde::Serialize;

use super::{Attempt, Event, Journal, Result};
use crate::model::{Intake, Job, Timestamp};

/// One job in full.
#[derive(Debug, Clone)]
pub struct JobDetails {
    pub job: Job,
    pub events: Vec<Event>,
    pub attempts: Vec<Attempt>,
    /// The ticket or the alarms the job was made from, and where each
    /// arrived.
    pub sources: Vec<Origin>,
    /// The jobs it waits for (`dispatch --after`) and where each stands.
    pub after: super::Waits,
}

/// What a job was made from: its ticket, or one alarm of its chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub kind: OriginKind,
    /// The ticket or the alarm in one line.
    pub what: String,
    /// The intake it came through (the ticket's first message); `None`
    /// for what was journaled before intakes were recorded.
    pub intake: Option<Intake>,
    /// Where, in the operator's words (`inbox/x.json`, `SQS message … from …`).
    pub source: Option<String>,
    /// The id its delivery carried (`sns:ID`, `sqs:ID`).
    pub delivery: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OriginKind {
    Ticket,
    Alarm,
}

impl Origin {
    /// Where it arrived, in one line: `via sqs: SQS message … (sqs:…)`.
    pub fn arrival(&self) -> Option<String> {
        let intake = self.intake?;
        let mut text = format!("via {intake}");
        if let Some(source) = &self.source {
            text.push_str(&format!(": {source}"));
        }
        if let Some(id) = &self.delivery {
            text.push_str(&format!(" ({id})"));
        }
        Some(text)
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.what)?;
        if let Some(arrival) = self.arrival() {
            write!(f, ", {arrival}")?;
        }
        Ok(())
    }
}

/// Reads the intake, source and delivery columns at `at`, `at + 1`, `at + 2`.
fn arrival(
    r: &rusqlite::Row,
    at: usize,
) -> rusqlite::Result<(Option<Intake>, Option<String>, Option<String>)> {
    let intake: Option<String> = r.get(at)?;
    Ok((
        intake.as_deref().and_then(Intake::parse),
        r.get(at + 1)?,
        r.get(at + 2)?,
    ))
}

impl Journal {
    /// The details of job `id`, if there is such a job.
    pub fn job_details(&self, id: i64) -> Result<Option<JobDetails>> {
        let Some(job) = self.job(id)? else {
            return Ok(None);
        };
        Ok(Some(JobDetails {
            after: self.waits_of(id)?,
            events: self.events(id)?,
            attempts: self.attempts(id)?,
            job,
            sources: self.origins(id)?,
        }))
    }

    /// What job `id` was made from (its ticket, or its chain's alarms in
    /// time order) and where each arrived; empty for a task.
    pub fn origins(&self, id: i64) -> Result<Vec<Origin>> {
        let mut sources = Vec::new();
        let mut tickets = self.conn().prepare_cached(
            "SELECT key, title, updates, intake, source, delivery FROM tickets WHERE job_id = ?1",
        )?;
        let rows = tickets.query_map([id], |r| {
            let updates: i64 = r.get(2)?;
            let (intake, source, delivery) = arrival(r, 3)?;
            Ok(Origin {
                kind: OriginKind::Ticket,
                what: format!(
                    "ticket {}: {} ({updates} update{})",
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    if updates == 1 { "" } else { "s" }
                ),
                intake,
                source,
                delivery,
            })
        })?;
        for row in rows {
            sources.push(row?);
        }
        let mut alarms = self.conn().prepare_cached(
            "SELECT a.at, a.name, a.state, a.account, a.region, a.reason, a.intake, a.source, a.delivery \
             FROM alarms a \
             JOIN chains c ON a.chain_id = c.id WHERE c.job_id = ?1 ORDER BY a.at, a.id",
        )?;
        let rows = alarms.query_map([id], |r| {
            let at = Timestamp::from_millis(r.get(0)?);
            let region: Option<String> = r.get(4)?;
            let reason: Option<String> = r.get(5)?;
            let (intake, source, delivery) = arrival(r, 6)?;
            Ok(Origin {
                kind: OriginKind::Alarm,
                what: format!(
                    "alarm {} {} {} in {}{}{}",
                    at.rfc3339(),
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(3)?,
                    region.map(|g| format!(" ({g})")).unwrap_or_default(),
                    reason.map(|w| format!(": {w}")).unwrap_or_default(),
                ),
                intake,
                source,
                delivery,
            })
        })?;
        for row in rows {
            sources.push(row?);
        }
        Ok(sources)
    }
}
