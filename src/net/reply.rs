//! Answers of the HTTP intake, and the one place refusals are logged.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Response, StatusCode};
use serde_json::{Value, json};

/// An answer: its status, its JSON, and why it was refused (logged).
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    pub refusal: Option<String>,
}

impl Reply {
    pub fn ok(status: StatusCode, body: Value) -> Reply {
        Reply {
            status,
            body,
            refusal: None,
        }
    }

    /// A refusal: `{"error": reason}` with `status`.
    pub fn refuse(status: StatusCode, reason: impl Into<String>) -> Reply {
        let reason = reason.into();
        Reply {
            status,
            body: json!({ "error": reason }),
            refusal: Some(reason),
        }
    }

    pub fn into_response(self) -> Response<Full<Bytes>> {
        let body = serde_json::to_vec(&self.body).unwrap_or_default();
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("application/json"),
        );
        response
    }
}
