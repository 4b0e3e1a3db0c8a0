//! AWS Signature Version 4 for the few SQS calls the intake makes, and
//! credentials from the standard places (environment, then the shared
//! credentials file). Pure but for reading those.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// An access key.
#[derive(Clone)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, …)", self.access_key)
    }
}

impl Credentials {
    /// `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` (/ `AWS_SESSION_TOKEN`),
    /// else the profile `AWS_PROFILE` (or `default`) of
    /// `AWS_SHARED_CREDENTIALS_FILE` (or `~/.aws/credentials`).
    pub fn from_standard_places() -> Result<Credentials, String> {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        if let (Some(access_key), Some(secret_key)) =
            (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"))
        {
            return Ok(Credentials {
                access_key,
                secret_key,
                session_token: env("AWS_SESSION_TOKEN"),
            });
        }
        let path = env("AWS_SHARED_CREDENTIALS_FILE")
            .map(std::path::PathBuf::from)
            .or_else(|| dirs::home_dir().map(|h| h.join(".aws/credentials")))
            .ok_or("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")?;
        let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".to_string());
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "no AWS credentials: AWS_ACCESS_KEY_ID is not set and {} cannot be read: {e}",
                path.display()
            )
        })?;
        profile_of(&text, &profile).ok_or_else(|| {
            format!(
                "no AWS credentials for profile {profile} in {}",
                path.display()
            )
        })
    }
}

/// The keys of `[profile]` in a shared credentials file.
fn profile_of(text: &str, profile: &str) -> Option<Credentials> {
    let mut inside = false;
    let (mut access_key, mut secret_key, mut session_token) = (None, None, None);
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == profile;
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if !inside {
            continue;
        }
        let value = Some(value.trim().to_string());
        match key.trim() {
            "aws_access_key_id" => access_key = value,
            "aws_secret_access_key" => secret_key = value,
            "aws_session_token" => session_token = value,
            _ => {}
        }
    }
    Some(Credentials {
        access_key: access_key?,
        secret_key: secret_key?,
        session_token,
    })
}

/// The headers to add to a `POST /` of `body` to `host` for `service`.
pub fn sign(
    credentials: &Credentials,
    region: &str,
    service: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    amz_date: &str,
) -> Vec<(String, String)> {
    let date = &amz_date[..8.min(amz_date.len())];
    let mut signed: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    signed.push(("host".into(), host.to_string()));
    signed.push(("x-amz-date".into(), amz_date.to_string()));
    if let Some(token) = &credentials.session_token {
        signed.push(("x-amz-security-token".into(), token.clone()));
    }
    signed.sort();
    let canonical_headers: String = signed.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_names = signed
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical = format!(
        "POST\n/\n\n{canonical_headers}\n{signed_names}\n{}",
        hex(&Sha256::digest(body))
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{}", credentials.secret_key).as_bytes(), date);
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part);
    }
    let signature = hex(&hmac(&key, &to_sign));
    let mut out = vec![
        ("x-amz-date".to_string(), amz_date.to_string()),
        (
            "authorization".to_string(),
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_names}, Signature={signature}",
                credentials.access_key
            ),
        ),
    ];
    if let Some(token) = &credentials.session_token {
        out.push(("x-amz-security-token".into(), token.clone()));
    }
    out
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data.as_bytes());
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_read() {
        let text = "[other]\naws_access_key_id = A\naws_secret_access_key = B\n[default]\naws_access_key_id=C\naws_secret_access_key=D\n";
        let c = profile_of(text, "default").unwrap();
        assert_eq!((c.access_key.as_str(), c.secret_key.as_str()), ("C", "D"));
        assert!(profile_of(text, "missing").is_none());
    }

    /// The signing key derivation and signature of AWS's published
    /// "get-vanilla" style example (service iam, 2015-08-30), recomputed
    /// for POST: the structure, not the constant, is what is checked here,
    /// by changing one input and seeing the signature move.
    #[test]
    fn a_signature_depends_on_every_input() {
        let c = Credentials {
            access_key: "AKIDEXAMPLE".into(),
            secret_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let base = sign(&c, "us-east-1", "sqs", "h", &[], b"{}", "20150830T123600Z");
        let auth = &base[1].1;
        assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature="));
        assert_ne!(
            base,
            sign(&c, "us-east-1", "sqs", "h", &[], b"{ }", "20150830T123600Z")
        );
        assert_ne!(
            base,
            sign(&c, "eu-west-1", "sqs", "h", &[], b"{}", "20150830T123600Z")
        );
    }
}
