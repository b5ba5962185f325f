//! Logs worth reading: one JSON line per request at `info`, a few more at `debug`, one
//! error line with its cause for every 5xx, and nothing from dependencies below `warn`
//! unless asked for. Never a body, a token or an `Authorization` header.

pub mod json;

use crate::app::stage::rest_context;
use crate::problem::ProblemReport;
use crate::ticket::TicketId;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use http::header;
use lambda_http::RequestExt;
use std::time::Instant;
use tracing::{Instrument, Level};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The crates whose events are the function's own, governed by the configured level.
pub const OWN_TARGETS: &[&str] = &["manage_tickets", "bootstrap"];

/// What to log: the function's own level, and extra directives for dependencies.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// The most verbose level of the function's own events.
    pub level: Level,
    /// Directives that override the defaults (`aws_smithy_runtime=debug`), in
    /// `tracing`'s `target=level` syntax; dependencies stay at `warn` otherwise.
    pub directives: Targets,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            level: Level::INFO,
            directives: Targets::new(),
        }
    }
}

impl LogSettings {
    /// The filter: dependencies at `warn`, the function at its level, then the directives.
    pub fn filter(&self) -> Targets {
        let mut filter = Targets::new().with_default(Level::WARN);
        for target in OWN_TARGETS {
            filter = filter.with_target(*target, self.level);
        }
        if let Some(default) = self.directives.default_level() {
            filter = filter.with_default(default);
        }
        filter.with_targets(self.directives.clone())
    }
}

/// Installs the JSON line subscriber on stdout, which Lambda sends to CloudWatch Logs.
pub fn init(settings: &LogSettings) {
    tracing_subscriber::registry()
        .with(settings.filter())
        .with(json::JsonLines::stdout())
        .init();
}

/// Logs the request's outcome, inside a span that gives every line of the request its
/// request id and trace id.
pub async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (request_id, trace_id) = request
        .lambda_context_ref()
        .map(|c| (c.request_id.clone(), c.xray_trace_id.clone()))
        .unwrap_or_default();
    let span = tracing::info_span!(
        "request",
        requestId = %request_id,
        traceId = trace_id.as_deref(),
    );
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned());
    let sub = caller_sub(&request);
    let ticket_id = request
        .path_parameters_ref()
        .and_then(|p| p.first(tickets_manifest::routes::ID_PARAMETER))
        .filter(|id| id.parse::<TicketId>().is_ok())
        .map(str::to_owned);
    let response = next.run(request).instrument(span.clone()).await;
    let _entered = span.enter();
    let status = response.status().as_u16();
    // A created ticket's id is in its Location.
    let ticket_id = ticket_id.or_else(|| {
        let location = response.headers().get(header::LOCATION)?.to_str().ok()?;
        location.rsplit('/').next().map(str::to_owned)
    });
    let problem = response.extensions().get::<ProblemReport>();
    if let Some(cause) = problem.and_then(|p| p.cause.as_deref()) {
        tracing::error!(
            problem = problem.map(|p| p.kind),
            cause,
            "request failed on our side"
        );
    }
    tracing::info!(
        method = %method,
        route = route.as_deref().unwrap_or("unmatched"),
        status,
        latencyMs = started.elapsed().as_secs_f64() * 1000.0,
        sub = sub.as_deref(),
        ticketId = ticket_id.as_deref(),
        problem = problem.map(|p| p.kind),
        "request"
    );
    response
}

/// The caller's Cognito `sub`, as the authorizer passed it.
fn caller_sub(request: &Request) -> Option<String> {
    let claims = rest_context(request.extensions())?
        .authorizer
        .fields
        .get("claims")?;
    Some(claims.get("sub")?.as_str()?.to_owned())
}
