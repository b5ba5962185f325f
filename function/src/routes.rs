//! HTTP in and out: each handler turns a request into store calls and a response.

use crate::app::AppState;
use crate::cursor::{Cursor, CursorError};
use crate::identity::Identity;
use crate::problem::Problem;
use crate::store::{IdempotencyKey, ListQuery, MAX_PAGE, StoreError};
use crate::ticket::input::{self, InputError};
use crate::ticket::{FieldError, Status, Ticket, TicketId};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, RawQuery, Request, State};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use lambda_http::request::RequestContext;
use serde::Serialize;
use std::sync::Arc;

/// The largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Default page size of a listing.
pub const DEFAULT_PAGE: u16 = 20;

/// Set on a `201` that repeats an earlier create with the same `Idempotency-Key`.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");

type Shared = State<Arc<AppState>>;

/// `POST /v1/tickets`
pub async fn create(
    State(app): Shared,
    identity: Identity,
    PublicPath(path): PublicPath,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, Problem> {
    let key = match headers.get(IDEMPOTENCY_KEY) {
        None => None,
        Some(value) => Some(IdempotencyKey::parse(value.as_bytes()).map_err(Problem::bad_request)?),
    };
    let fields = input::parse_fields(&body).map_err(input_problem)?;
    let created = app
        .store
        .create(fields, &identity.sub, key.as_ref())
        .await
        .map_err(store_problem)?;
    let location = format!("{}/{}", path.trim_end_matches('/'), created.ticket.id);
    let mut response = ticket_response(StatusCode::CREATED, &created.ticket);
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    if created.replayed {
        response
            .headers_mut()
            .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// A page of the listing, as returned.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageBody {
    items: Vec<Ticket>,
    next_token: Option<String>,
}

/// `GET /v1/tickets?limit=&nextToken=&status=`
pub async fn list(
    State(app): Shared,
    _identity: Identity,
    RawQuery(query): RawQuery,
) -> Result<Response, Problem> {
    let query = parse_list_query(query.as_deref().unwrap_or(""), app.store.table())?;
    let page = app.store.list(&query).await.map_err(store_problem)?;
    let body = PageBody {
        items: page.items,
        next_token: page.next.map(|c| c.encode(app.store.table())),
    };
    Ok(Json(body).into_response())
}

/// `GET /v1/tickets/{id}`
pub async fn read(
    State(app): Shared,
    _identity: Identity,
    id: TicketIdParam,
) -> Result<Response, Problem> {
    let ticket = app.store.get(&id.0).await.map_err(store_problem)?;
    Ok(ticket_response(StatusCode::OK, &ticket))
}

/// `PUT /v1/tickets/{id}`
pub async fn replace(
    State(app): Shared,
    identity: Identity,
    id: TicketIdParam,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, Problem> {
    let fields = input::parse_fields(&body).map_err(input_problem)?;
    let expected = expected_versions(&app, &id.0, &headers).await?;
    let ticket = app
        .store
        .replace(&id.0, fields, &identity.sub, &expected)
        .await
        .map_err(store_problem)?;
    Ok(ticket_response(StatusCode::OK, &ticket))
}

/// `PATCH /v1/tickets/{id}`
pub async fn patch(
    State(app): Shared,
    identity: Identity,
    id: TicketIdParam,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, Problem> {
    let patch = input::parse_patch(&body).map_err(input_problem)?;
    let expected = expected_versions(&app, &id.0, &headers).await?;
    let ticket = app
        .store
        .update(&id.0, patch, &identity.sub, &expected)
        .await
        .map_err(store_problem)?;
    Ok(ticket_response(StatusCode::OK, &ticket))
}

/// `DELETE /v1/tickets/{id}`: admins only.
pub async fn delete(
    State(app): Shared,
    identity: Identity,
    id: Result<TicketIdParam, Problem>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    // Authorisation comes before validation, so that non-admins learn nothing about ids.
    if !identity.is_admin() {
        return Err(Problem::forbidden(format!(
            "only members of the Cognito group {} may delete tickets",
            tickets_manifest::ADMIN_GROUP
        )));
    }
    let id = id?;
    let expected = expected_versions(&app, &id.0, &headers).await?;
    app.store
        .delete(&id.0, &expected)
        .await
        .map_err(store_problem)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `OPTIONS`: the CORS layer answers preflight requests before they get here; this
/// answers a bare `OPTIONS` (no `Origin`) with the methods of the path.
pub async fn preflight() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// Any path the API does not serve.
pub async fn not_found(uri: Uri) -> Problem {
    Problem::not_found(format!(
        "{} is not a path of this API; see openapi/api.yaml",
        uri.path()
    ))
}

/// A path the API serves, with a method it does not.
pub async fn method_not_allowed(method: Method, uri: Uri) -> Problem {
    Problem::method_not_allowed(method.as_str(), uri.path())
}

fn ticket_response(status: StatusCode, ticket: &Ticket) -> Response {
    let mut response = (status, Json(ticket)).into_response();
    if let Ok(etag) = HeaderValue::from_str(&ticket.etag()) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

fn input_problem(err: InputError) -> Problem {
    match err {
        InputError::Invalid(errors) => Problem::validation(errors),
        other => Problem::bad_request(other.to_string()),
    }
}

fn store_problem(err: StoreError) -> Problem {
    match err {
        StoreError::NotFound => Problem::not_found("no ticket has this id"),
        StoreError::VersionMismatch { current } => Problem::precondition_failed(format!(
            "the ticket changed since you read it: it is at ETag \"{current}\"; GET it again and reapply your change"
        )),
        StoreError::IdempotencyKeyReused => Problem::idempotency_key_reused(),
        StoreError::Unavailable(reason) => {
            tracing::warn!(error = %reason, "DynamoDB unavailable");
            Problem::unavailable(1)
        }
        StoreError::Internal(reason) => {
            tracing::error!(error = %reason, "DynamoDB call failed");
            Problem::internal()
        }
    }
}

/// What `If-Match` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum IfMatch {
    /// `*`: any current version.
    Any,
    /// One of these versions (`"3"` or `"3", "4"`).
    Versions(Vec<u64>),
    /// Only tags this API never issues (weak, foreign or malformed): nothing can match.
    Never,
}

/// Reads `If-Match` leniently: a tag this API did not issue simply never matches, which
/// RFC 9110 answers with `412` rather than a syntax error.
fn parse_if_match(value: &HeaderValue) -> IfMatch {
    let Ok(text) = value.to_str() else {
        return IfMatch::Never;
    };
    if text.trim() == "*" {
        return IfMatch::Any;
    }
    // Strong comparison: weak tags (`W/"3"`) never match.
    let mut versions: Vec<u64> = text
        .split(',')
        .filter_map(|tag| {
            tag.trim()
                .strip_prefix('"')?
                .strip_suffix('"')?
                .parse()
                .ok()
        })
        .collect();
    versions.sort_unstable();
    versions.dedup();
    if versions.is_empty() {
        IfMatch::Never
    } else {
        IfMatch::Versions(versions)
    }
}

/// The versions a write may find, from `If-Match` (empty: any); resolves tags that can
/// never match into `404` or `412` here.
async fn expected_versions(
    app: &AppState,
    id: &TicketId,
    headers: &HeaderMap,
) -> Result<Vec<u64>, Problem> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(Vec::new());
    };
    match parse_if_match(value) {
        IfMatch::Any => Ok(Vec::new()),
        IfMatch::Versions(versions) => Ok(versions),
        IfMatch::Never => {
            let current = app.store.get(id).await.map_err(store_problem)?;
            Err(store_problem(StoreError::VersionMismatch {
                current: current.version,
            }))
        }
    }
}

fn parse_list_query(query: &str, table: &str) -> Result<ListQuery, Problem> {
    let mut errors = Vec::new();
    let mut limit = None;
    let mut status = None;
    let mut token = None;
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if seen.contains(&name.to_string()) {
            errors.push(FieldError::new(
                name.as_ref(),
                "is given more than once; give it once",
            ));
            continue;
        }
        seen.push(name.to_string());
        match name.as_ref() {
            "limit" => match value.parse::<u16>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => limit = Some(n),
                _ => errors.push(FieldError::new(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_PAGE}"),
                )),
            },
            "status" => match value.parse::<Status>() {
                Ok(s) => status = Some(s),
                Err(e) => errors.push(e),
            },
            "nextToken" => token = Some(value.into_owned()),
            other => errors.push(FieldError::new(
                other,
                "is not a query parameter of this listing; use limit, nextToken or status",
            )),
        }
    }
    let after = match token {
        Some(token) if errors.is_empty() => match Cursor::decode(&token, table, status) {
            Ok(cursor) => Some(cursor),
            Err(e @ (CursorError::Invalid | CursorError::OtherQuery)) => {
                errors.push(FieldError::new("nextToken", e.to_string()));
                None
            }
        },
        _ => None,
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    Ok(ListQuery {
        limit: limit.unwrap_or(DEFAULT_PAGE),
        status,
        after,
    })
}

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
        #[allow(irrefutable_let_patterns)] // only the REST API event is compiled in
        let from_context = match parts.extensions.get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV1(context)) => context.path.clone(),
            _ => None,
        };
        Ok(PublicPath(
            from_context.unwrap_or_else(|| parts.uri.path().to_owned()),
        ))
    }
}

/// A JSON request body: checked for media type and size, kept as bytes for the domain
/// parser.
pub struct JsonBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = Problem;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_patch = request.method() == Method::PATCH;
        check_content_type(request.headers().get(header::CONTENT_TYPE), is_patch)?;
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

fn check_content_type(value: Option<&HeaderValue>, is_patch: bool) -> Result<(), Problem> {
    let accepted = if is_patch {
        "application/json or application/merge-patch+json"
    } else {
        "application/json"
    };
    let Some(value) = value else {
        return Err(Problem::unsupported_media_type(format!(
            "the request has no Content-Type; send the body as {accepted}"
        )));
    };
    let text = value.to_str().unwrap_or("").to_ascii_lowercase();
    let mut parts = text.split(';').map(str::trim);
    let essence = parts.next().unwrap_or("");
    let json =
        essence == "application/json" || (is_patch && essence == "application/merge-patch+json");
    let utf8 = parts.all(|param| match param.split_once('=') {
        Some(("charset", charset)) => charset.trim_matches('"') == "utf-8",
        _ => true,
    });
    if json && utf8 {
        Ok(())
    } else {
        Err(Problem::unsupported_media_type(format!(
            "Content-Type {text:?} is not accepted; send the body as {accepted} (UTF-8)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_if_match_forms() {
        let parse = |v: &str| parse_if_match(&HeaderValue::from_str(v).unwrap());
        assert_eq!(parse("*"), IfMatch::Any);
        assert_eq!(parse("\"3\""), IfMatch::Versions(vec![3]));
        assert_eq!(
            parse("\"4\", W/\"5\", \"3\""),
            IfMatch::Versions(vec![3, 4])
        );
        for never in ["W/\"3\"", "\"abc\"", "3", "\"3", "", "0"] {
            assert_eq!(parse(never), IfMatch::Never, "{never}");
        }
    }

    #[test]
    fn accepts_json_content_types_only() {
        let check =
            |v: &str, patch| check_content_type(Some(&HeaderValue::from_str(v).unwrap()), patch);
        assert!(check("application/json", false).is_ok());
        assert!(check("Application/JSON; charset=UTF-8", false).is_ok());
        assert!(check("application/merge-patch+json", true).is_ok());
        assert!(check("application/merge-patch+json", false).is_err());
        assert!(check("text/plain", false).is_err());
        assert!(check("application/json; charset=latin-1", false).is_err());
        assert!(check_content_type(None, false).is_err());
    }

    #[test]
    fn rejects_bad_list_parameters() {
        for query in [
            "limit=0",
            "limit=101",
            "limit=-1",
            "limit=ten",
            "limit=5&limit=6",
            "status=DONE",
            "sort=asc",
            "nextToken=xyz",
        ] {
            assert!(parse_list_query(query, "t").is_err(), "{query}");
        }
        let q = parse_list_query("limit=100&status=OPEN", "t").unwrap();
        assert_eq!((q.limit, q.status), (100, Some(Status::Open)));
        assert_eq!(parse_list_query("", "t").unwrap().limit, DEFAULT_PAGE);
    }
}
