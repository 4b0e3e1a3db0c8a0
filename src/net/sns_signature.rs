//! Verifying an Amazon SNS message's signature (SignatureVersion 1:
//! SHA1withRSA, 2: SHA256withRSA) over the fields AWS documents, with the
//! certificate named by `SigningCertURL`, or with certificates the
//! operator trusts instead (`[intake.sns] certificates`).
//!
//! A certificate is fetched only from `https://sns.<region>.amazonaws.com`
//! (or `.amazonaws.com.cn`), over TLS checked against the Mozilla roots,
//! and kept for the life of the engine. What is verified: the TLS chain of
//! the host that served the certificate, and the message's signature with
//! the certificate's public key; the certificate's own chain is not built
//! (SNS serves the leaf alone), as in AWS's own SDKs' validators.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use crate::locks::relock;

use base64::Engine as _;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{
    AlgorithmIdentifier, CertificateDer, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};
use serde_json::{Map, Value};

/// The largest certificate fetched.
const MAX_CERTIFICATE: u64 = 64 * 1024;

/// Checks signatures; one per engine.
pub struct Verifier {
    trusted: Vec<CertificateDer<'static>>,
    fetched: Mutex<HashMap<String, CertificateDer<'static>>>,
}

impl Verifier {
    /// Loads the trusted certificates (none: fetch from SNS).
    pub fn new(certificates: &[PathBuf]) -> anyhow::Result<Verifier> {
        let mut trusted = Vec::new();
        for path in certificates {
            let pem = std::fs::read(path).map_err(|e| {
                anyhow::anyhow!("[intake.sns] certificates: {}: {e}", path.display())
            })?;
            for cert in CertificateDer::pem_slice_iter(&pem) {
                trusted.push(cert.map_err(|e| {
                    anyhow::anyhow!("[intake.sns] certificates: {}: {e}", path.display())
                })?);
            }
        }
        Ok(Verifier {
            trusted,
            fetched: Mutex::new(HashMap::new()),
        })
    }

    /// Whether `message` (an SNS HTTP delivery, parsed) carries a good
    /// signature. Blocking: it may fetch a certificate.
    pub fn verify(&self, message: &Map<String, Value>) -> Result<(), String> {
        let text = |key: &str| message.get(key).and_then(Value::as_str);
        let algorithm: &dyn SignatureVerificationAlgorithm = match text("SignatureVersion") {
            Some("1") => &RSA_SHA1,
            Some("2") => &RSA_SHA256,
            Some(other) => return Err(format!("unknown SignatureVersion {other:?}")),
            None => return Err("no SignatureVersion".into()),
        };
        let signature = base64::engine::general_purpose::STANDARD
            .decode(text("Signature").ok_or("no Signature")?)
            .map_err(|e| format!("Signature is not base64: {e}"))?;
        let signed = string_to_sign(message)?;
        let check = |cert: &CertificateDer<'_>| {
            webpki::EndEntityCert::try_from(cert)
                .map_err(|e| format!("unreadable certificate: {e}"))?
                .verify_signature(algorithm, signed.as_bytes(), &signature)
                .map_err(|_| "the signature does not match".to_string())
        };
        if !self.trusted.is_empty() {
            return if self.trusted.iter().any(|c| check(c).is_ok()) {
                Ok(())
            } else {
                Err("the signature matches none of [intake.sns] certificates".into())
            };
        }
        let url = text("SigningCertURL").ok_or("no SigningCertURL")?;
        check_certificate_url(url)?;
        let cached = relock(&self.fetched).get(url).cloned();
        let cert = match cached {
            Some(cert) => cert,
            None => {
                let cert = fetch_certificate(url)?;
                relock(&self.fetched).insert(url.to_string(), cert.clone());
                cert
            }
        };
        check(&cert)
    }
}

/// The text AWS signs: `Key\nvalue\n` for each signed field, in order.
pub fn string_to_sign(message: &Map<String, Value>) -> Result<String, String> {
    let kind = message
        .get("Type")
        .and_then(Value::as_str)
        .ok_or("no Type")?;
    let keys: &[&str] = match kind {
        "Notification" => &[
            "Message",
            "MessageId",
            "Subject",
            "Timestamp",
            "TopicArn",
            "Type",
        ],
        "SubscriptionConfirmation" | "UnsubscribeConfirmation" => &[
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ],
        other => return Err(format!("unknown Type {other:?}")),
    };
    let mut text = String::new();
    for key in keys {
        match message.get(*key) {
            Some(Value::String(value)) => {
                text.push_str(key);
                text.push('\n');
                text.push_str(value);
                text.push('\n');
            }
            None if *key == "Subject" => {}
            Some(Value::Null) if *key == "Subject" => {}
            _ => return Err(format!("no {key} to check the signature over")),
        }
    }
    Ok(text)
}

/// A certificate URL must be https on an SNS host of AWS.
pub fn check_certificate_url(url: &str) -> Result<(), String> {
    let refuse = || {
        format!("SigningCertURL {url:?} is not an https://sns.<region>.amazonaws.com certificate")
    };
    let rest = url.strip_prefix("https://").ok_or_else(refuse)?;
    let (host, path) = rest.split_once('/').ok_or_else(refuse)?;
    let region = host
        .strip_prefix("sns.")
        .and_then(|h| {
            h.strip_suffix(".amazonaws.com")
                .or_else(|| h.strip_suffix(".amazonaws.com.cn"))
        })
        .ok_or_else(refuse)?;
    let region_ok = !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !region_ok || !path.ends_with(".pem") {
        return Err(refuse());
    }
    Ok(())
}

fn fetch_certificate(url: &str) -> Result<CertificateDer<'static>, String> {
    let mut response = ureq::get(url)
        .call()
        .map_err(|e| format!("cannot fetch {url}: {e}"))?;
    let pem = response
        .body_mut()
        .with_config()
        .limit(MAX_CERTIFICATE)
        .read_to_vec()
        .map_err(|e| format!("cannot fetch {url}: {e}"))?;
    CertificateDer::from_pem_slice(&pem).map_err(|e| format!("{url}: not a PEM certificate: {e}"))
}

/// RSA PKCS#1 v1.5 with a given hash, as SNS signs.
#[derive(Debug)]
struct RsaPkcs1(&'static ring::signature::RsaParameters);

static RSA_SHA1: RsaPkcs1 =
    RsaPkcs1(&ring::signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY);
static RSA_SHA256: RsaPkcs1 = RsaPkcs1(&ring::signature::RSA_PKCS1_2048_8192_SHA256);

impl SignatureVerificationAlgorithm for RsaPkcs1 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        ring::signature::UnparsedPublicKey::new(self.0, public_key)
            .verify(message, signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_PKCS1_SHA256
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_urls() {
        assert!(
            check_certificate_url(
                "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem"
            )
            .is_ok()
        );
        for bad in [
            "http://sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com.evil.example/x.pem",
            "https://evil.example/sns.us-east-1.amazonaws.com/x.pem",
            "https://sns.us-east-1.amazonaws.com@evil.example/x.pem",
            "https://sns.us-east-1.amazonaws.com/x.txt",
        ] {
            assert!(check_certificate_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_signed_text_follows_aws() {
        let message: Map<String, Value> = serde_json::from_str(
            r#"{"Type":"Notification","MessageId":"m","TopicArn":"t","Message":"hi","Timestamp":"2026-01-01T00:00:00.000Z"}"#,
        )
        .unwrap();
        assert_eq!(
            string_to_sign(&message).unwrap(),
            "Message\nhi\nMessageId\nm\nTimestamp\n2026-01-01T00:00:00.000Z\nTopicArn\nt\nType\nNotification\n"
        );
    }
}
