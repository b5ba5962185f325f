//! JSON logs: one line per request with the Lambda request id, route, status and latency.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::RequestExt;
use std::time::Instant;
use tracing::Level;

/// Installs the JSON log subscriber on stdout, which Lambda sends to CloudWatch.
pub fn init(level: Level) {
    tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_target(false)
        .with_current_span(false)
        .with_span_list(false)
        .flatten_event(true)
        .init();
}

/// Logs the request's outcome; never its body.
pub async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let request_id = request
        .lambda_context_ref()
        .map(|c| c.request_id.clone())
        .unwrap_or_default();
    let response = next.run(request).await;
    tracing::info!(
        requestId = %request_id,
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        latencyMs = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}
