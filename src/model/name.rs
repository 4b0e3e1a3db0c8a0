//! The one rule for the names an operator gives projects and hosts: they
//! name files, branches and tmux sockets, and are shown and typed.

/// Checks `name` as the name of a `kind` ("project", "host"): 1 to 64
/// letters, digits, `-`, `_` or `.`, not starting with `.` or `-`; the
/// refusal says the rule.
pub(crate) fn check_name(kind: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{kind} name {name:?} is not usable: use 1 to 64 letters, digits, '-', '_' or '.', not starting with '.' or '-'"
        ))
    }
}
