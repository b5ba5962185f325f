//! RFC 9457 problem responses: every error the API returns.

use crate::store::StoreError;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use tickets_domain::FieldError;
use tickets_domain::input::InputError;

/// The media type of every error body.
pub const CONTENT_TYPE: &str = "application/problem+json";

/// An error response: `application/problem+json` with `type`, `title`, `status`, `detail`
/// and, for validation failures, `errors`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The kind of problem: the last segment of its `type` URI, documented in
    /// `openapi/api.yaml` (`validation` is `https://tickets.example.com/problems/validation`).
    #[serde(rename = "type", serialize_with = "type_uri")]
    pub kind: &'static str,
    /// Short, fixed summary of the kind.
    pub title: &'static str,
    /// HTTP status code.
    pub status: u16,
    /// What went wrong this time, and what to do about it.
    pub detail: String,
    /// Field-level errors of a validation failure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip)]
    retry_after_seconds: Option<u32>,
    #[serde(skip)]
    cause: Option<Box<str>>,
}

fn type_uri<S: serde::Serializer>(kind: &&'static str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format_args!("{TYPE_PREFIX}{kind}"))
}

/// What the request log needs to know of a problem response: its kind and, for our own
/// faults, the cause (never sent to the client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemReport {
    /// The last segment of the problem's `type` (`validation`, `unavailable`).
    pub kind: &'static str,
    /// What failed inside, for a 5xx.
    pub cause: Option<String>,
}

/// Prefix of every problem `type` URI.
pub const TYPE_PREFIX: &str = "https://tickets.example.com/problems/";

impl Problem {
    fn new(
        status: StatusCode,
        slug: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Problem {
            kind: slug,
            title,
            status: status.as_u16(),
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_seconds: None,
            cause: None,
        }
    }

    /// Records what failed inside, for the log; the client never sees it.
    pub fn caused_by(mut self, cause: impl Into<String>) -> Self {
        self.cause = Some(cause.into().into_boxed_str());
        self
    }

    /// The kind of a validation failure.
    pub const VALIDATION: &'static str = "validation";

    /// 400: fields of the request are invalid.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{} {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Problem {
            errors,
            ..Problem::new(
                StatusCode::BAD_REQUEST,
                Problem::VALIDATION,
                "Invalid request",
                detail,
            )
        }
    }

    /// 400: the request cannot be understood at all (malformed JSON, bad header).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "bad-request",
            "Bad request",
            detail,
        )
    }

    /// 401: no identity reached the function.
    pub fn unauthorized() -> Self {
        Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Unauthorized",
            "no authenticated identity came with the request; send a Cognito ID token in the Authorization header",
        )
    }

    /// 403: the caller may not do this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden", detail)
    }

    /// 404: nothing at this path or with this id.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Problem::new(StatusCode::NOT_FOUND, "not-found", "Not found", detail)
    }

    /// 405: the path exists but not with this method.
    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            format!("{method} is not supported on {path}; see the Allow header"),
        )
    }

    /// 412: `If-Match` names a version that is no longer current.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition-failed",
            "Precondition failed",
            detail,
        )
    }

    /// 413: the body is larger than the API accepts.
    pub fn payload_too_large(limit: usize) -> Self {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "Payload too large",
            format!("the request body exceeds {limit} bytes; send a smaller ticket"),
        )
    }

    /// 415: the body is not JSON.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            detail,
        )
    }

    /// 422: an `Idempotency-Key` reused with a different body.
    pub fn idempotency_key_reused() -> Self {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency-key-reused",
            "Idempotency key reused",
            "this Idempotency-Key was already used with a different request body; use a new key for a new ticket",
        )
    }

    /// 503: DynamoDB is throttling or unreachable; the client should retry.
    pub fn unavailable(retry_after_seconds: u32) -> Self {
        Problem {
            retry_after_seconds: Some(retry_after_seconds),
            ..Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
                format!(
                    "the ticket store is busy or unreachable; retry in {retry_after_seconds} s"
                ),
            )
        }
    }

    /// 500: a fault of ours; details are logged, never returned.
    pub fn internal() -> Self {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "the request failed on our side; it has been logged, retry later or report it with the request id",
        )
    }

    /// The status code.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (self.status_code(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
        if let Some(seconds) = self.retry_after_seconds {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(ProblemReport {
            kind: self.kind,
            cause: self.cause.map(String::from),
        });
        response
    }
}

impl From<InputError> for Problem {
    fn from(err: InputError) -> Self {
        match err {
            InputError::Invalid(errors) => Problem::validation(errors),
            other => Problem::bad_request(other.to_string()),
        }
    }
}

impl From<StoreError> for Problem {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Problem::not_found("no ticket has this id"),
            StoreError::VersionMismatch { current } => Problem::precondition_failed(format!(
                "the ticket changed since you read it: it is at ETag \"{current}\"; GET it again and reapply your change"
            )),
            StoreError::IdempotencyKeyReused => Problem::idempotency_key_reused(),
            StoreError::Unavailable(reason) => {
                Problem::unavailable(1).caused_by(format!("DynamoDB unavailable: {reason}"))
            }
            StoreError::Internal(reason) => {
                Problem::internal().caused_by(format!("DynamoDB call failed: {reason}"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_rfc_9457() {
        let problem = Problem::validation(vec![FieldError::new("title", "is required")]);
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(
            json["type"],
            "https://tickets.example.com/problems/validation"
        );
        assert_eq!(json["status"], 400);
        assert_eq!(json["detail"], "title is required");
        assert_eq!(json["errors"][0]["field"], "title");
    }

    #[test]
    fn unavailable_carries_retry_after() {
        let response = Problem::unavailable(1).into_response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        assert_eq!(response.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
    }
}
