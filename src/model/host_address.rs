//! Where a host is reached: `[USER@]HOST[:PORT]`, an IPv6 address in
//! brackets (`ops@[2001:db8::1]:2222`).
//!
//! The user and the host become elements of an `ssh` argv, so anything ssh
//! could take as an option (a leading `-`), split on (white space) or read
//! as its own syntax (`@`, `/`, `%`, quotes, control characters) is refused
//! here, once, where the operator typed it.

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// The port ssh uses when the address names none.
pub const DEFAULT_SSH_PORT: u16 = 22;

/// A checked `[USER@]HOST[:PORT]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostAddress {
    /// The login name; `None` lets ssh choose (its config, else `$USER`).
    pub user: Option<String>,
    /// A DNS name, an IPv4 address, or an IPv6 address (without brackets).
    pub host: String,
    pub port: u16,
}

/// Why an address was refused; the text says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("address {input:?} is not usable: {reason}")]
pub struct AddressError {
    pub input: String,
    pub reason: String,
}

impl HostAddress {
    /// Parses `[USER@]HOST[:PORT]`.
    pub fn parse(input: &str) -> Result<HostAddress, AddressError> {
        let fail = |reason: &str| AddressError {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        if input.is_empty() {
            return Err(fail("it is empty; write [USER@]HOST[:PORT]"));
        }
        if input.len() > 300 {
            return Err(fail("it is longer than 300 characters"));
        }
        let (user, rest) = match input.split_once('@') {
            Some((user, rest)) => (Some(user), rest),
            None => (None, input),
        };
        if let Some(user) = user {
            check_user(user).map_err(|r| fail(&r))?;
        }
        let (host, port) = if let Some(inner) = rest.strip_prefix('[') {
            let (v6, after) = inner
                .split_once(']')
                .ok_or_else(|| fail("an IPv6 address in brackets lacks its closing ']'"))?;
            check_ipv6(v6).map_err(|r| fail(&r))?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or_else(|| {
                    fail("after ']' only ':PORT' may follow, e.g. [2001:db8::1]:22")
                })?),
            };
            (v6, port)
        } else {
            let (host, port) = match rest.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (rest, None),
            };
            if port.is_some_and(|p| p.contains(':')) {
                return Err(fail(
                    "an IPv6 address goes in brackets, e.g. ops@[2001:db8::1]:22",
                ));
            }
            check_host(host).map_err(|r| fail(&r))?;
            (host, port)
        };
        let port = match port {
            None => DEFAULT_SSH_PORT,
            Some(p) => parse_port(p).map_err(|r| fail(&r))?,
        };
        Ok(HostAddress {
            user: user.map(str::to_string),
            host: host.to_string(),
            port,
        })
    }

    /// Whether the host part is an IPv6 address (shown in brackets).
    pub fn is_ipv6(&self) -> bool {
        self.host.contains(':')
    }

    /// The arguments that point `ssh` at this address, each one argv
    /// element: `-p PORT [-l USER] HOST`. HOST comes last, so the caller
    /// adds `--`-free options before it and the remote command after it.
    pub fn ssh_args(&self) -> Vec<String> {
        let mut args = vec!["-p".to_string(), self.port.to_string()];
        if let Some(user) = &self.user {
            args.push("-l".to_string());
            args.push(user.clone());
        }
        args.push(self.host.clone());
        args
    }
}

impl fmt::Display for HostAddress {
    /// Always with the port, so that what is shown is what is used.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        if self.is_ipv6() {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl FromStr for HostAddress {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HostAddress::parse(s)
    }
}

impl Serialize for HostAddress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A login name: letters, digits, `.`, `_`, `-`, not starting with `-`.
fn check_user(user: &str) -> Result<(), String> {
    if user.is_empty() {
        return Err("the user before '@' is empty".into());
    }
    if user.len() > 64 {
        return Err("the user is longer than 64 characters".into());
    }
    if user.starts_with('-') {
        return Err("the user starts with '-', which ssh would read as an option".into());
    }
    if !user
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err("the user may hold only letters, digits, '.', '_' and '-'".into());
    }
    Ok(())
}

/// A DNS name or an IPv4 address: letters, digits, `.`, `-`, `_`, not
/// starting with `-` or `.`.
fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("the host is empty; write [USER@]HOST[:PORT]".into());
    }
    if host.len() > 253 {
        return Err("the host is longer than 253 characters".into());
    }
    if host.starts_with('-') {
        return Err("the host starts with '-', which ssh would read as an option".into());
    }
    if host.starts_with('.') || host.ends_with('.') || host.contains("..") {
        return Err("the host has an empty label (a leading, trailing or double '.')".into());
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return Err(
            "the host may hold only letters, digits, '.', '-' and '_' (an IPv6 address goes in brackets)"
                .into(),
        );
    }
    Ok(())
}

/// An IPv6 address as the standard library reads it (no zone index).
fn check_ipv6(v6: &str) -> Result<(), String> {
    v6.parse::<std::net::Ipv6Addr>()
        .map(|_| ())
        .map_err(|_| format!("[{v6}] is not an IPv6 address"))
}

/// A port from 1 to 65535, digits only.
fn parse_port(port: &str) -> Result<u16, String> {
    if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) || port.len() > 5 {
        return Err(format!("the port {port:?} is not a number from 1 to 65535"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(format!("the port {port:?} is not a number from 1 to 65535")),
    }
}

#[cfg(test)]
#[path = "host_address_tests.rs"]
mod tests;
