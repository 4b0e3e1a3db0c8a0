//! Reading back the intake a journal recorded, in arrival order, for
//! `simulate --from-journal`.

use super::{Journal, JournalError, Result};
use crate::model::{AlarmMessage, AlarmState, Message, Timestamp};
use crate::scheduler::Arrival;

impl Journal {
    /// Calls `each` with every recorded arrival (tasks, ticket messages,
    /// alarms) and its arrival time, oldest first, streaming.
    pub fn each_arrival(
        &self,
        mut each: impl FnMut(Timestamp, Arrival) -> Result<()>,
    ) -> Result<()> {
        let mut stmt = self.conn().prepare(
            "SELECT received_at, 0, account, name, state, at, reason, region, id FROM alarms \
             UNION ALL SELECT received_at, 1, body, NULL, NULL, NULL, NULL, NULL, id FROM messages WHERE kind = 'ticket' \
             UNION ALL SELECT created_at, 2, project, prompt, title, priority, NULL, NULL, id FROM jobs WHERE kind = 'task' \
             ORDER BY 1, 2, 9",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let arrive = Timestamp::from_millis(row.get(0)?);
            let arrival = match row.get::<_, i64>(1)? {
                0 => {
                    let state: String = row.get(4)?;
                    let at = Timestamp::from_millis(row.get(5)?);
                    Arrival::Alarm {
                        alarm: AlarmMessage {
                            account: row.get(2)?,
                            name: row.get(3)?,
                            state: AlarmState::parse(&state).map_err(JournalError::Corrupt)?,
                            at: Some(at),
                            reason: row.get(6)?,
                            region: row.get(7)?,
                        },
                        at,
                    }
                }
                1 => {
                    let body: String = row.get(2)?;
                    match serde_json::from_str::<Message>(&body) {
                        Ok(Message::Ticket(ticket)) => Arrival::Ticket(ticket),
                        _ => {
                            return Err(JournalError::Corrupt(format!(
                                "ticket message {} cannot be read",
                                row.get::<_, i64>(8)?
                            )));
                        }
                    }
                }
                _ => Arrival::Task {
                    project: row.get(2)?,
                    prompt: row.get(3)?,
                    title: row.get(4)?,
                    priority: row.get(5)?,
                    // The simulator numbers jobs its own way: the journal's
                    // ids name other jobs there, so waits are not replayed.
                    after: Vec::new(),
                },
            };
            each(arrive, arrival)?;
        }
        Ok(())
    }
}
