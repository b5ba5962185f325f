//! What handlers take from a request besides the identity: the ticket id, the public path,
//! a JSON body and an idempotency key, each refused with the right problem.

use crate::app::stage::rest_context;
use crate::problem::Problem;
use crate::store::idempotency::IdempotencyKey;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use http::request::Parts;
use http::{HeaderName, HeaderValue, Method, StatusCode, header};
use tickets_domain::{FieldError, TicketId};

/// The largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

/// The `{id}` path parameter, parsed.
pub struct TicketIdParam(pub TicketId);

impl<S: Send + Sync> FromRequestParts<S> for TicketIdParam {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                Problem::bad_request(format!("the ticket id in the path is unreadable: {e}"))
            })?;
        raw.parse()
            .map(TicketIdParam)
            .map_err(|e: FieldError| Problem::validation(vec![e]))
    }
}

/// The path the client used, stage or base-path prefix included, for `Location`.
pub struct PublicPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PublicPath {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let public = rest_context(&parts.extensions).and_then(|c| c.path.clone());
        Ok(PublicPath(
            public.unwrap_or_else(|| parts.uri.path().to_owned()),
        ))
    }
}

/// The optional `Idempotency-Key` header, checked.
pub struct MaybeIdempotencyKey(pub Option<IdempotencyKey>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeIdempotencyKey {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get(IDEMPOTENCY_KEY) {
            None => Ok(MaybeIdempotencyKey(None)),
            Some(value) => IdempotencyKey::parse(value.as_bytes())
                .map(|key| MaybeIdempotencyKey(Some(key)))
                .map_err(|e| Problem::bad_request(e.to_string())),
        }
    }
}

/// A JSON request body: checked for media type and size, kept as bytes for the domain
/// parser.
pub struct JsonBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let accepted = if request.method() == Method::PATCH {
            Accepted::JsonOrMergePatch
        } else {
            Accepted::Json
        };
        accepted.check(request.headers().get(header::CONTENT_TYPE))?;
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    Problem::payload_too_large(BODY_LIMIT)
                } else {
                    Problem::bad_request(format!("the request body could not be read: {rejection}"))
                }
            })?;
        Ok(JsonBody(body))
    }
}

/// The media types a body may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accepted {
    /// `application/json`
    Json,
    /// `application/json` or `application/merge-patch+json` (RFC 7386), for `PATCH`.
    JsonOrMergePatch,
}

impl Accepted {
    fn describe(self) -> &'static str {
        match self {
            Accepted::Json => "application/json",
            Accepted::JsonOrMergePatch => "application/json or application/merge-patch+json",
        }
    }

    /// Refuses a missing `Content-Type`, another media type or another charset with `415`.
    fn check(self, value: Option<&HeaderValue>) -> Result<(), Problem> {
        let Some(value) = value else {
            return Err(Problem::unsupported_media_type(format!(
                "the request has no Content-Type; send the body as {}",
                self.describe()
            )));
        };
        let text = value.to_str().unwrap_or("").to_ascii_lowercase();
        let mut parts = text.split(';').map(str::trim);
        let essence = parts.next().unwrap_or("");
        let json = essence == "application/json"
            || (self == Accepted::JsonOrMergePatch && essence == "application/merge-patch+json");
        let utf8 = parts.all(|param| match param.split_once('=') {
            Some(("charset", charset)) => charset.trim_matches('"') == "utf-8",
            _ => true,
        });
        if json && utf8 {
            Ok(())
        } else {
            Err(Problem::unsupported_media_type(format!(
                "Content-Type {text:?} is not accepted; send the body as {} (UTF-8)",
                self.describe()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_json_content_types_only() {
        let check =
            |v: &str, accepted: Accepted| accepted.check(Some(&HeaderValue::from_str(v).unwrap()));
        assert!(check("application/json", Accepted::Json).is_ok());
        assert!(check("Application/JSON; charset=UTF-8", Accepted::Json).is_ok());
        assert!(check("application/merge-patch+json", Accepted::JsonOrMergePatch).is_ok());
        assert!(check("application/merge-patch+json", Accepted::Json).is_err());
        assert!(check("text/plain", Accepted::Json).is_err());
        assert!(check("application/json; charset=latin-1", Accepted::Json).is_err());
        assert!(Accepted::Json.check(None).is_err());
    }
}
