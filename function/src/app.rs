//! The application: routes from the manifest, wrapped in CORS, security headers and logs.

use crate::config::Config;
use crate::store::TicketStore;
use crate::{cors, response_headers, routes, telemetry};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, options};
use http::Request;
use lambda_http::request::RequestContext;
use std::sync::Arc;
use tickets_manifest::routes::{TICKET, TICKETS};
use tower::ServiceBuilder;
use tower::util::MapRequest;

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The ticket table.
    pub store: TicketStore,
}

/// The router: one route per manifest path, every method the manifest lists.
pub fn router(store: TicketStore, config: &Config) -> Router {
    let state = Arc::new(AppState { store });
    let mut router = Router::new()
        .route(
            TICKETS.path,
            get(routes::list)
                .post(routes::create)
                .options(routes::preflight),
        )
        .route(
            TICKET.path,
            get(routes::read)
                .put(routes::replace)
                .patch(routes::patch)
                .delete(routes::delete)
                .merge(options(routes::preflight)),
        )
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(routes::BODY_LIMIT))
        .layer(cors::layer(&config.allowed_origins));
    for layer in response_headers::layers() {
        router = router.layer(layer);
    }
    router
        .layer(axum::middleware::from_fn(telemetry::log_request))
        .with_state(state)
}

/// The service handed to `lambda_http`, for request bodies of type `B`.
pub type Service<B> = MapRequest<Router, fn(Request<B>) -> Request<B>>;

/// The whole service handed to `lambda_http`: the router behind stage-prefix removal.
pub fn service<B>(store: TicketStore, config: &Config) -> Service<B> {
    ServiceBuilder::new()
        .map_request(strip_stage::<B> as fn(Request<B>) -> Request<B>)
        .service(router(store, config))
}

/// Removes API Gateway's stage (`/dev`) from the front of the path, so routes match
/// whether or not the stage reaches the function.
fn strip_stage<B>(mut request: Request<B>) -> Request<B> {
    #[allow(irrefutable_let_patterns)] // only the REST API event is compiled in
    let stage = match request.extensions().get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV1(context)) => context.stage.clone(),
        _ => None,
    };
    let Some(stage) = stage else {
        return request;
    };
    let prefix = format!("/{stage}/");
    let uri = request.uri();
    if let Some(rest) = uri.path().strip_prefix(&prefix[..prefix.len() - 1])
        && rest.starts_with('/')
    {
        let path_and_query = match uri.query() {
            Some(query) => format!("{rest}?{query}"),
            None => rest.to_owned(),
        };
        let mut parts = uri.clone().into_parts();
        if let Ok(pq) = path_and_query.parse() {
            parts.path_and_query = Some(pq);
            if let Ok(uri) = http::Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
    }
    request
}
