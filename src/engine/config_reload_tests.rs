//! The engine reading its config.toml again, with a journal that fails.

use super::Engine;
use crate::config::Config;
use crate::home::Home;

fn config_notes(engine: &Engine) -> Vec<String> {
    engine
        .journal
        .events_after(0)
        .expect("events")
        .into_iter()
        .filter(|e| e.kind == "config")
        .map(|e| e.message)
        .collect()
}

fn read_only(engine: &Engine, on: bool) {
    let pragma = format!("PRAGMA query_only = {}", if on { "ON" } else { "OFF" });
    engine
        .journal
        .conn()
        .execute_batch(&pragma)
        .expect("pragma");
}

/// Writes `text` to `path` as written a while ago: settled at once.
fn write_settled(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).expect("write");
    let then = std::time::SystemTime::now() - std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(then))
        .expect("set the file's time");
}

/// A change is applied even while the journal cannot take its note, and
/// the note is journaled at a later pass, in order with the next one
/// (before, the note was lost: the next look found the file unchanged).
#[test]
fn a_config_note_the_journal_could_not_take_is_journaled_at_a_later_pass() {
    let dir = tempfile::tempdir().expect("temp dir");
    let home = Home::at(dir.path().join("home"));
    let config = Config::load(&home.config_file()).expect("config");
    let mut engine = Engine::try_start(home.clone(), config)
        .expect("engine starts")
        .expect("no other engine");
    write_settled(&home.config_file(), "[scheduler]\nmax_agents = 7\n");
    read_only(&engine, true);
    assert!(engine.reload_config().is_err(), "the journal refused");
    assert_eq!(
        engine.config.scheduler.max_agents, 7,
        "applied all the same"
    );
    // Still failing, and the file is now bad: both notes wait.
    write_settled(&home.config_file(), "[scheduler]\nmax_agents = \"x\"\n");
    assert!(engine.reload_config().is_err());
    assert!(config_notes(&engine).is_empty());
    read_only(&engine, false);
    engine.reload_config().expect("journaled now");
    let notes = config_notes(&engine);
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].contains("read again"), "{notes:?}");
    assert!(notes[1].contains("keeps the settings it had"), "{notes:?}");
    assert_eq!(engine.config.scheduler.max_agents, 7);
    engine.reload_config().expect("nothing new");
    assert_eq!(config_notes(&engine).len(), 2, "each said once");
}
