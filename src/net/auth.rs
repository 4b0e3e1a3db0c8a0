//! Who may post: the bearer token of `POST /messages` and the HMAC
//! signature of Jira webhooks. Comparisons take the same time whatever
//! the guess.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    MissingToken,
    WrongToken,
    MissingSignature,
    WrongSignature,
}

impl Refusal {
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::MissingToken => "no Authorization: Bearer token",
            Refusal::WrongToken => "wrong bearer token",
            Refusal::MissingSignature => "no X-Hub-Signature: sha256=… header",
            Refusal::WrongSignature => "X-Hub-Signature does not match the body",
        }
    }
}

/// Checks an `Authorization` header against `token` (none: anyone).
pub fn bearer(header: Option<&[u8]>, token: Option<&str>) -> Result<(), Refusal> {
    let Some(token) = token else { return Ok(()) };
    let given = header
        .and_then(|h| h.strip_prefix(b"Bearer "))
        .ok_or(Refusal::MissingToken)?;
    if same(given.trim_ascii(), token.as_bytes()) {
        Ok(())
    } else {
        Err(Refusal::WrongToken)
    }
}

/// Checks `X-Hub-Signature: sha256=<hex>` against the body and `secret`
/// (empty: no check).
pub fn jira_signature(header: Option<&[u8]>, secret: &str, body: &[u8]) -> Result<(), Refusal> {
    if secret.is_empty() {
        return Ok(());
    }
    let hex = header
        .and_then(|h| h.trim_ascii().strip_prefix(b"sha256="))
        .ok_or(Refusal::MissingSignature)?;
    let given = decode_hex(hex).ok_or(Refusal::WrongSignature)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| Refusal::WrongSignature)?;
    mac.update(body);
    mac.verify_slice(&given)
        .map_err(|_| Refusal::WrongSignature)
}

/// The hex HMAC-SHA256 of `body` with `secret`, as Jira sends it.
pub fn jira_sign(secret: &str, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_hex(hex: &[u8]) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(text, 16).ok()
        })
        .collect()
}

/// Equal bytes, compared in time that depends only on the lengths.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens() {
        assert_eq!(bearer(None, None), Ok(()));
        assert_eq!(bearer(None, Some("s3")), Err(Refusal::MissingToken));
        assert_eq!(bearer(Some(b"Bearer s3"), Some("s3")), Ok(()));
        assert_eq!(
            bearer(Some(b"Bearer s4"), Some("s3")),
            Err(Refusal::WrongToken)
        );
        assert_eq!(
            bearer(Some(b"Basic s3"), Some("s3")),
            Err(Refusal::MissingToken)
        );
    }

    #[test]
    fn jira_signatures() {
        let body = br#"{"webhookEvent":"jira:issue_created"}"#;
        let right = format!("sha256={}", jira_sign("k", body));
        assert_eq!(jira_signature(Some(right.as_bytes()), "k", body), Ok(()));
        assert_eq!(
            jira_signature(Some(right.as_bytes()), "other", body),
            Err(Refusal::WrongSignature)
        );
        assert_eq!(
            jira_signature(None, "k", body),
            Err(Refusal::MissingSignature)
        );
        assert_eq!(jira_signature(None, "", body), Ok(()));
        assert_eq!(
            jira_signature(Some(b"sha256=zz"), "k", body),
            Err(Refusal::WrongSignature)
        );
    }
}
