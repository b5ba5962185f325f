//! The application: the manifest's routes behind CORS, security headers, request logs and
//! the API's own path.

mod cors;
mod headers;
pub mod stage;

use crate::config::Config;
use crate::routes;
use crate::store::TicketStore;
use crate::telemetry;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, options};
use http::Request;
use tickets_manifest::routes::{TICKET, TICKETS};
use tower::ServiceBuilder;
use tower::util::MapRequest;

/// The router: one route per manifest path, every method the manifest lists.
pub fn router(store: TicketStore, config: &Config) -> Router {
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
    for layer in headers::layers() {
        router = router.layer(layer);
    }
    router
        .layer(axum::middleware::from_fn_with_state(
            config.log.service.clone(),
            telemetry::log_request,
        ))
        .with_state(store)
}

/// The service handed to `lambda_http`, for request bodies of type `B`.
pub type Service<B> = MapRequest<Router, fn(Request<B>) -> Request<B>>;

/// The whole service handed to `lambda_http`: the router, seeing the API's own path.
pub fn service<B>(store: TicketStore, config: &Config) -> Service<B> {
    ServiceBuilder::new()
        .map_request(stage::to_api_path::<B> as fn(Request<B>) -> Request<B>)
        .service(router(store, config))
}
