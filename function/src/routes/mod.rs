//! HTTP in and out: each handler turns a request into store calls and a response.

pub mod extract;
mod list_query;
mod preconditions;

use crate::identity::Identity;
use crate::problem::Problem;
use crate::store::TicketStore;
use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use extract::{JsonBody, MaybeIdempotencyKey, PublicPath, TicketIdParam};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use preconditions::expected_versions;
use serde::Serialize;
use tickets_domain::{Ticket, input};

pub use extract::BODY_LIMIT;

/// Set on a `201` that repeats an earlier create with the same `Idempotency-Key`.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// `POST /v1/tickets`
pub async fn create(
    State(store): State<TicketStore>,
    identity: Identity,
    PublicPath(path): PublicPath,
    key: Result<MaybeIdempotencyKey, Problem>,
    JsonBody(body): JsonBody,
) -> Result<Response, Problem> {
    // The body's media type and size are checked first, as before any other rule.
    let MaybeIdempotencyKey(key) = key?;
    let fields = input::parse_fields(&body)?;
    let (ticket, replayed) = match key {
        None => (store.create(fields, &identity.sub).await?, false),
        Some(key) => {
            let created = store.create_idempotent(fields, &identity.sub, &key).await?;
            (created.ticket, created.replayed)
        }
    };
    let location = format!("{}/{}", path.trim_end_matches('/'), ticket.id);
    let mut response = ticket_response(StatusCode::CREATED, &ticket);
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    if replayed {
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
    State(store): State<TicketStore>,
    _identity: Identity,
    RawQuery(query): RawQuery,
) -> Result<Response, Problem> {
    let query = list_query::parse_list_query(query.as_deref().unwrap_or(""), store.table())?;
    let page = store.list(&query).await?;
    let body = PageBody {
        items: page.items,
        next_token: page.next.map(|c| c.encode(store.table())),
    };
    Ok(Json(body).into_response())
}

/// `GET /v1/tickets/{id}`
pub async fn read(
    State(store): State<TicketStore>,
    _identity: Identity,
    TicketIdParam(id): TicketIdParam,
) -> Result<Response, Problem> {
    let ticket = store.get(&id).await?;
    Ok(ticket_response(StatusCode::OK, &ticket))
}

/// `PUT /v1/tickets/{id}`
pub async fn replace(
    State(store): State<TicketStore>,
    identity: Identity,
    TicketIdParam(id): TicketIdParam,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, Problem> {
    let fields = input::parse_fields(&body)?;
    let expected = expected_versions(&store, &id, &headers).await?;
    let ticket = store.replace(&id, fields, &identity.sub, &expected).await?;
    Ok(ticket_response(StatusCode::OK, &ticket))
}

/// `PATCH /v1/tickets/{id}`
pub async fn patch(
    State(store): State<TicketStore>,
    identity: Identity,
    TicketIdParam(id): TicketIdParam,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, Problem> {
    let patch = input::parse_patch(&body)?;
    let expected = expected_versions(&store, &id, &headers).await?;
    let ticket = store.update(&id, patch, &identity.sub, &expected).await?;
    Ok(ticket_response(StatusCode::OK, &ticket))
}

/// `DELETE /v1/tickets/{id}`: admins only.
pub async fn delete(
    State(store): State<TicketStore>,
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
    let TicketIdParam(id) = id?;
    let expected = expected_versions(&store, &id, &headers).await?;
    store.delete(&id, &expected).await?;
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
