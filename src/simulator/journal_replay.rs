//! `simulate --from-journal DB`: what the current policy would have done
//! with the intake a real journal recorded.

use std::path::Path;

use super::{SimulateError, Simulation};
use crate::journal::Journal;
use crate::scheduler::{Decision, HostLimits, ProjectLimits};

/// Replays the journal at `db` into `sim` (its projects, then its intake in
/// arrival order), then runs the clock out.
pub fn replay_journal(
    sim: &mut Simulation,
    db: &Path,
    out: &mut impl FnMut(&Decision),
) -> Result<(), SimulateError> {
    if !db.is_file() {
        return Err(SimulateError::Other(format!(
            "no journal at {}",
            db.display()
        )));
    }
    let journal = Journal::open(db).map_err(|e| SimulateError::Other(e.to_string()))?;
    for project in journal
        .projects()
        .map_err(|e| SimulateError::Other(e.to_string()))?
    {
        sim.state.projects.insert(
            project.name,
            ProjectLimits {
                max_agents: project.max_agents,
                host: project.host,
            },
        );
    }
    // Hosts registered with `host add`; the config's (already in the
    // simulation) win on a name in both.
    for host in journal
        .hosts()
        .map_err(|e| SimulateError::Other(e.to_string()))?
    {
        sim.state.hosts.entry(host.name).or_insert(HostLimits {
            max_agents: host.max_agents,
            unreachable: false,
        });
    }
    let mut failure = None;
    journal
        .each_arrival(|arrive, arrival| {
            if let Err(e) = sim.arrive(Some(arrive), arrival, out) {
                failure = Some(e);
            }
            Ok(())
        })
        .map_err(|e| SimulateError::Other(e.to_string()))?;
    if let Some(e) = failure {
        return Err(SimulateError::Other(e));
    }
    sim.finish(out).map_err(SimulateError::Other)
}
