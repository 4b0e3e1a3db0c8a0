//! Jobs that wait for each other (`dispatch --after ID`): which jobs a
//! new job may wait for, and where each of them stands for the jobs that
//! wait for it.
//!
//! A job starts only once every job it waits for has landed: merged, or
//! done where nothing is reviewed. One that failed for good or was killed
//! keeps its dependents waiting with that reason until the operator
//! retries it or cancels them.

use std::collections::BTreeSet;
use std::fmt;

use crate::model::{ReviewState, StateName};

/// The most jobs one job may wait for.
pub const MAX_AFTER: usize = 32;

/// Why a job may not wait for the jobs it names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AfterError {
    #[error("job #{0} cannot wait for itself")]
    Itself(i64),
    #[error("there is no job #{0} to wait for; `switchboard jobs` lists them")]
    Unknown(i64),
    #[error("job #{job} cannot wait for #{after}: that would be a cycle ({})", path(.cycle))]
    Cycle {
        job: i64,
        after: i64,
        /// From `after` back round to `job`.
        cycle: Vec<i64>,
    },
    #[error("a job may wait for at most {MAX_AFTER} jobs, not {0}")]
    TooMany(usize),
}

fn path(ids: &[i64]) -> String {
    ids.iter()
        .map(|id| format!("#{id}"))
        .collect::<Vec<_>>()
        .join(" → ")
}

/// Checks the jobs that job `job` (`None`: a job not journaled yet) is to
/// wait for: each must exist, none may be the job itself, and none may
/// already wait, directly or through others, for the job. `waits_for(id)`
/// gives the jobs `id` waits for, `None` when there is no job `id`.
/// Returns the ids once each, in order.
pub fn check_after(
    job: Option<i64>,
    after: &[i64],
    mut waits_for: impl FnMut(i64) -> Option<Vec<i64>>,
) -> Result<Vec<i64>, AfterError> {
    let ids: Vec<i64> = after
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if ids.len() > MAX_AFTER {
        return Err(AfterError::TooMany(ids.len()));
    }
    for &id in &ids {
        if Some(id) == job {
            return Err(AfterError::Itself(id));
        }
        if waits_for(id).is_none() {
            return Err(AfterError::Unknown(id));
        }
    }
    // A new job has no id anyone could name: no cycle can pass through it.
    let Some(job) = job else {
        return Ok(ids);
    };
    for &first in &ids {
        // Depth-first from `first`, keeping the way back to it.
        let mut seen = BTreeSet::from([first]);
        let mut stack = vec![(first, vec![first])];
        while let Some((at, way)) = stack.pop() {
            for next in waits_for(at).unwrap_or_default() {
                if next == job {
                    let mut cycle = way.clone();
                    cycle.push(job);
                    return Err(AfterError::Cycle {
                        job,
                        after: first,
                        cycle,
                    });
                }
                if seen.insert(next) {
                    let mut longer = way.clone();
                    longer.push(next);
                    stack.push((next, longer));
                }
            }
        }
    }
    Ok(ids)
}

/// One job id as the operator types it after `--after` or in the room's
/// dispatch form: `7`, or `#7` as lists show it; a whole number from 1.
pub fn parse_job_id(text: &str) -> Result<i64, String> {
    let digits = text.trim();
    let digits = digits.strip_prefix('#').unwrap_or(digits);
    match digits.parse::<i64>() {
        Ok(id) if id >= 1 => Ok(id),
        _ => Err(format!(
            "{:?} is not a job id; job ids are whole numbers from 1, such as 7 or 7,9",
            text.trim()
        )),
    }
}

/// The jobs to wait for as typed: ids separated by commas (or spaces),
/// each read by [`parse_job_id`]; nothing typed: none.
pub fn parse_after(text: &str) -> Result<Vec<i64>, String> {
    text.split([',', ' '])
        .filter(|piece| !piece.trim().is_empty())
        .map(parse_job_id)
        .collect()
}

/// Where a job that others wait for stands, for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterState {
    Queued,
    /// An agent works on it.
    Running,
    /// An attempt failed; the scheduler will try again.
    Retrying,
    /// Done, its work waiting for review (or in conflict, or rejected).
    InReview,
    /// Merged, or done where nothing is reviewed: those after it may start.
    Landed,
    /// Failed for good: the operator retries it or cancels those after it.
    Failed,
    /// Killed: the operator retries it or cancels those after it.
    Killed,
    /// No such job (a journal edited by hand).
    Missing,
}

impl AfterState {
    /// A job's standing from its journal state, whether the scheduler gave
    /// up on it (a failed job), and its review item's state.
    pub fn of(state: StateName, gave_up: bool, review: Option<ReviewState>) -> AfterState {
        match state {
            StateName::Queued => AfterState::Queued,
            StateName::Starting | StateName::Running | StateName::Waiting | StateName::Stalled => {
                AfterState::Running
            }
            StateName::Done => match review {
                None | Some(ReviewState::Merged) => AfterState::Landed,
                Some(_) => AfterState::InReview,
            },
            StateName::Failed if gave_up => AfterState::Failed,
            StateName::Failed => AfterState::Retrying,
            StateName::Killed => AfterState::Killed,
        }
    }

    /// Whether the jobs after it wait on the operator rather than on it.
    pub fn needs_operator(self) -> bool {
        matches!(
            self,
            AfterState::Failed | AfterState::Killed | AfterState::Missing
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AfterState::Queued => "queued",
            AfterState::Running => "running",
            AfterState::Retrying => "retrying",
            AfterState::InReview => "in review",
            AfterState::Landed => "merged",
            AfterState::Failed => "failed",
            AfterState::Killed => "killed",
            AfterState::Missing => "missing",
        }
    }
}

impl fmt::Display for AfterState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The reason a job waits for others, as the operator reads it:
/// `after #12 (failed), #14 (running)`.
pub fn after_reason(waits: &[(i64, AfterState)]) -> String {
    let each: Vec<String> = waits
        .iter()
        .map(|(id, state)| format!("#{id} ({state})"))
        .collect();
    format!("after {}", each.join(", "))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// A journal of jobs and what each waits for.
    fn graph(edges: &[(i64, &[i64])]) -> impl Fn(i64) -> Option<Vec<i64>> {
        let map: BTreeMap<i64, Vec<i64>> = edges.iter().map(|(j, a)| (*j, a.to_vec())).collect();
        move |id| map.get(&id).cloned()
    }

    #[test]
    fn job_ids_are_read_as_typed_and_anything_else_is_refused() {
        assert_eq!(parse_after(""), Ok(vec![]));
        assert_eq!(parse_after("  "), Ok(vec![]));
        assert_eq!(parse_after("3"), Ok(vec![3]));
        assert_eq!(parse_after("#3, 7 ,9"), Ok(vec![3, 7, 9]));
        assert_eq!(parse_after("3 7"), Ok(vec![3, 7]));
        assert_eq!(parse_after("3,,7,"), Ok(vec![3, 7]));
        for bad in [
            "0",
            "-2",
            "x",
            "3,x",
            "#",
            "##3",
            "3.5",
            "99999999999999999999",
        ] {
            let err = parse_after(bad).unwrap_err();
            assert!(
                err.contains("job ids are whole numbers from 1"),
                "{bad:?}: {err}"
            );
        }
        assert_eq!(
            parse_job_id("x7").unwrap_err(),
            "\"x7\" is not a job id; job ids are whole numbers from 1, such as 7 or 7,9"
        );
    }

    #[test]
    fn a_new_job_may_wait_for_jobs_that_exist() {
        let g = graph(&[(1, &[]), (2, &[1]), (3, &[])]);
        assert_eq!(check_after(None, &[3, 2, 3], &g), Ok(vec![2, 3]));
        assert_eq!(check_after(None, &[], &g), Ok(vec![]));
    }

    #[test]
    fn an_unknown_job_is_refused() {
        let g = graph(&[(1, &[])]);
        let e = check_after(None, &[1, 9], &g).unwrap_err();
        assert_eq!(e, AfterError::Unknown(9));
        assert_eq!(
            e.to_string(),
            "there is no job #9 to wait for; `switchboard jobs` lists them"
        );
    }

    #[test]
    fn a_job_cannot_wait_for_itself() {
        let g = graph(&[(1, &[]), (2, &[])]);
        assert_eq!(
            check_after(Some(2), &[1, 2], &g),
            Err(AfterError::Itself(2))
        );
    }

    #[test]
    fn a_cycle_is_refused_with_its_path() {
        // 3 waits for 2, 2 for 1: 1 may not wait for 3.
        let g = graph(&[(1, &[]), (2, &[1]), (3, &[2]), (4, &[])]);
        let e = check_after(Some(1), &[4, 3], &g).unwrap_err();
        assert_eq!(
            e,
            AfterError::Cycle {
                job: 1,
                after: 3,
                cycle: vec![3, 2, 1]
            }
        );
        assert_eq!(
            e.to_string(),
            "job #1 cannot wait for #3: that would be a cycle (#3 → #2 → #1)"
        );
        // Without the cycle, the same graph is fine.
        assert_eq!(check_after(Some(4), &[3], &g), Ok(vec![3]));
    }

    #[test]
    fn a_diamond_is_not_a_cycle() {
        let g = graph(&[(1, &[]), (2, &[1]), (3, &[1]), (4, &[2, 3]), (5, &[])]);
        assert_eq!(check_after(Some(5), &[4, 2], &g), Ok(vec![2, 4]));
    }

    #[test]
    fn too_many_is_refused() {
        let ids: Vec<i64> = (1..=MAX_AFTER as i64 + 1).collect();
        let e = check_after(None, &ids, |_| Some(vec![])).unwrap_err();
        assert_eq!(e, AfterError::TooMany(MAX_AFTER + 1));
    }

    #[test]
    fn standing_from_the_journal() {
        use ReviewState as R;
        use StateName as S;
        let table = [
            (S::Queued, false, None, AfterState::Queued),
            (S::Stalled, false, None, AfterState::Running),
            (S::Done, false, None, AfterState::Landed),
            (S::Done, false, Some(R::Merged), AfterState::Landed),
            (S::Done, false, Some(R::Ready), AfterState::InReview),
            (S::Done, false, Some(R::Conflict), AfterState::InReview),
            (S::Failed, false, None, AfterState::Retrying),
            (S::Failed, true, None, AfterState::Failed),
            (S::Killed, false, None, AfterState::Killed),
        ];
        for (state, gave_up, review, want) in table {
            assert_eq!(AfterState::of(state, gave_up, review), want, "{state}");
        }
        assert!(AfterState::Killed.needs_operator());
        assert!(!AfterState::Retrying.needs_operator());
    }

    #[test]
    fn the_reason_names_every_job_waited_for() {
        assert_eq!(
            after_reason(&[(12, AfterState::Failed), (14, AfterState::Running)]),
            "after #12 (failed), #14 (running)"
        );
    }
}
