use std::path::PathBuf;

use super::super::schema;
use super::*;
use crate::journal::NewJob;
use crate::model::Project;

fn t(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn temp_journal() -> (tempfile::TempDir, Journal) {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(&dir.path().join("journal.db")).unwrap();
    (dir, journal)
}

fn host(name: &str, address: &str) -> Host {
    Host {
        name: HostName::remote(name).unwrap(),
        address: HostAddress::parse(address).unwrap(),
        max_agents: Some(3),
        identity: Some(PathBuf::from("~/.ssh/sb")),
        accept_new_key: true,
        source: HostSource::Journal,
        registered_at: Some(t(7)),
    }
}

fn project(name: &str, path: &str, host: HostName) -> Project {
    Project {
        name: name.into(),
        path: PathBuf::from(path),
        base_branch: "main".into(),
        agent: None,
        max_agents: 1,
        host,
        created_at: t(1),
    }
}

#[test]
fn a_host_is_registered_read_back_and_not_twice() {
    let (_dir, mut j) = temp_journal();
    let h = host("build1", "ops@[::1]:2222");
    j.add_host(&h, t(7)).unwrap();
    assert_eq!(j.hosts().unwrap(), vec![h.clone()]);
    let err = j.add_host(&h, t(7)).unwrap_err().to_string();
    assert!(err.contains("already registered"), "{err}");
    let mut local = h.clone();
    local.name = HostName::local();
    assert!(j.add_host(&local, t(7)).is_err());
}

#[test]
fn a_project_keeps_its_host_and_a_path_is_unique_per_host() {
    let (_dir, mut j) = temp_journal();
    let b1 = HostName::parse("b1").unwrap();
    let b2 = HostName::parse("b2").unwrap();
    j.add_project(&project("here", "/srv/api", HostName::local()))
        .unwrap();
    j.add_project(&project("there", "/srv/api", b1.clone()))
        .unwrap();
    j.add_project(&project("other", "/srv/api", b2)).unwrap();
    let err = j
        .add_project(&project("again", "/srv/api", b1.clone()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("already registered as project there"), "{err}");
    assert_eq!(j.project("here").unwrap().unwrap().host, HostName::local());
    assert_eq!(j.project("there").unwrap().unwrap().host, b1);
    let at = j.project_at(std::path::Path::new("/srv/api")).unwrap();
    assert_eq!(at.map(|p| p.name), Some("here".into()), "local only");
}

#[test]
fn removal_is_refused_while_projects_or_agents_belong_to_the_host() {
    let (_dir, mut j) = temp_journal();
    j.add_host(&host("b1", "b1"), t(7)).unwrap();
    j.add_host(&host("b2", "b2"), t(7)).unwrap();
    let b1 = HostName::parse("b1").unwrap();
    j.add_project(&project("api", "/srv/api", b1.clone()))
        .unwrap();
    let err = j.remove_host(&b1, t(9)).unwrap_err().to_string();
    assert!(err.contains("has projects (api)"), "{err}");
    let id = j
        .dispatch(&NewJob::task(Some("api".into()), "x".into(), 0), t(2))
        .unwrap();
    j.conn()
        .execute("UPDATE jobs SET state = 'running' WHERE id = ?1", [id])
        .unwrap();
    let err = j.remove_host(&b1, t(9)).unwrap_err().to_string();
    assert!(
        err.contains(&format!("active agents (jobs #{id})")),
        "{err}"
    );
    let b2 = HostName::parse("b2").unwrap();
    j.remove_host(&b2, t(9)).unwrap();
    let err = j.remove_host(&b2, t(9)).unwrap_err().to_string();
    assert!(err.contains("no host b2"), "{err}");
    let names: Vec<_> = j.hosts().unwrap().into_iter().map(|h| h.name).collect();
    assert_eq!(names, vec![b1]);
}

#[test]
fn reachability_is_written_on_a_change_in_kind_only() {
    let (_dir, mut j) = temp_journal();
    let b1 = HostName::parse("b1").unwrap();
    let down = |since, error: &str| Reachability::Unreachable {
        since: t(since),
        error: error.into(),
    };
    assert!(j.host_health().unwrap().is_empty());
    assert!(
        j.set_host_reachability(&b1, &down(10, "refused"), t(10))
            .unwrap()
    );
    assert!(
        !j.set_host_reachability(&b1, &down(20, "timeout"), t(20))
            .unwrap()
    );
    let health = j.host_health().unwrap();
    assert_eq!(health.len(), 1);
    assert_eq!(
        health[0].reachability,
        down(10, "refused"),
        "first since kept"
    );
    assert!(
        j.set_host_reachability(&b1, &Reachability::Reachable { since: t(30) }, t(30))
            .unwrap()
    );
    assert_eq!(
        j.host_health().unwrap()[0].reachability,
        Reachability::Reachable { since: t(30) }
    );
    let events: i64 = j
        .conn()
        .query_row("SELECT COUNT(*) FROM events WHERE kind = 'host'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(events, 2);
}

#[test]
fn a_version_4_journal_keeps_its_projects_as_local_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for m in &schema::MIGRATIONS[..4] {
            conn.execute_batch(m).unwrap();
        }
        conn.pragma_update(None, "user_version", 4).unwrap();
        conn.execute(
            "INSERT INTO projects (name, path, base_branch, agent, max_agents, created_at)
             VALUES ('api', '/srv/api', 'main', 'demo', 2, 5)",
            [],
        )
        .unwrap();
    }
    let j = Journal::open(&path).unwrap();
    let p = j.project("api").unwrap().unwrap();
    assert_eq!(p.host, HostName::local());
    assert_eq!((p.max_agents, p.agent.as_deref()), (2, Some("demo")));
}

#[test]
fn the_engine_schedule_holds_host_limits_and_reachability_from_the_journal() {
    let (_dir, mut j) = temp_journal();
    let mut h = host("b1", "b1");
    h.max_agents = Some(1);
    j.add_host(&h, t(1)).unwrap();
    let b1 = HostName::parse("b1").unwrap();
    let mut p = project("api", "/srv/api", b1.clone());
    p.max_agents = 3;
    j.add_project(&p).unwrap();
    j.add_project(&project("ml", "/srv/ml", HostName::parse("b2").unwrap()))
        .unwrap();
    // b2 is set in the config only.
    let config = crate::config::Config::from_texts(
        Some("[hosts.b2]\naddress = \"b2\"\n"),
        std::path::Path::new("c.toml"),
    )
    .unwrap();
    for (project, prompt) in [("api", "a"), ("api", "b"), ("ml", "c")] {
        j.dispatch(&NewJob::task(Some(project.into()), prompt.into(), 0), t(2))
            .unwrap();
    }
    let b2 = HostName::parse("b2").unwrap();
    j.set_host_reachability(
        &b2,
        &Reachability::Unreachable {
            since: t(2),
            error: "timeout".into(),
        },
        t(2),
    )
    .unwrap();
    j.schedule(&config, t(3), false).unwrap();
    use crate::model::StateName;
    let state = |j: &Journal, id| j.job(id).unwrap().unwrap().state.name();
    assert_eq!(state(&j, 1), StateName::Starting);
    assert_eq!(state(&j, 2), StateName::Queued);
    assert_eq!(state(&j, 3), StateName::Queued);
    let reason = |j: &Journal, id: i64| -> String {
        j.conn()
            .query_row(
                "SELECT message FROM events WHERE job_id = ?1 ORDER BY id DESC LIMIT 1",
                [id],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert!(
        reason(&j, 2).contains("host b1 has 1/1 agents"),
        "{}",
        reason(&j, 2)
    );
    assert!(
        reason(&j, 3).contains("host b2 is unreachable"),
        "{}",
        reason(&j, 3)
    );
    j.set_host_reachability(&b2, &Reachability::Reachable { since: t(4) }, t(4))
        .unwrap();
    j.schedule(&config, t(5), false).unwrap();
    assert_eq!(state(&j, 3), StateName::Starting);
}

/// The journal's queries of live agents (per host, in all, and the one
/// that refuses a host's removal) count a job exactly when its state
/// `is_active`, for every state there is.
#[test]
fn the_agent_queries_count_exactly_the_active_states() {
    let (_dir, mut j) = temp_journal();
    j.add_host(&host("b1", "b1"), t(7)).unwrap();
    let b1 = HostName::parse("b1").unwrap();
    j.add_project(&project("api", "/srv/api", b1.clone()))
        .unwrap();
    let mut by_state = Vec::new();
    for state in crate::model::StateName::ALL {
        let id = j
            .dispatch(&NewJob::task(Some("api".into()), "x".into(), 0), t(2))
            .unwrap();
        j.conn()
            .execute(
                "UPDATE jobs SET state = ?1 WHERE id = ?2",
                rusqlite::params![state.as_str(), id],
            )
            .unwrap();
        by_state.push((state, id));
    }
    let active: Vec<i64> = by_state
        .iter()
        .filter(|(state, _)| state.is_active())
        .map(|(_, id)| *id)
        .collect();
    assert_eq!(active.len(), crate::model::StateName::ACTIVE.len());
    assert_eq!(j.active_job_count().unwrap(), active.len() as u64);
    assert_eq!(
        j.active_agents_by_host().unwrap().get(&b1).copied(),
        Some(active.len() as u32)
    );
    let err = j.remove_host(&b1, t(9)).unwrap_err().to_string();
    let listed: Vec<String> = active.iter().map(|id| format!("#{id}")).collect();
    assert!(
        err.contains(&format!("active agents (jobs {})", listed.join(", "))),
        "{err}"
    );
}
