//! Logs worth reading: one JSON line per request at `info`, a few more at `debug`, one
//! error line with its cause for every 5xx, and nothing from dependencies below `warn`
//! unless asked for. Never a body, a token or an `Authorization` header.

pub mod json;
pub mod metrics;

use crate::app::stage::rest_context;
use crate::problem::{Problem, ProblemReport};
use crate::routes::IDEMPOTENT_REPLAYED;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{Method, header};
use lambda_http::RequestExt;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tickets_domain::TicketId;
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
    /// The function's name: the `Service` dimension of its metrics.
    pub service: Arc<str>,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            level: Level::INFO,
            directives: Targets::new(),
            service: Arc::from(tickets_manifest::FUNCTION_NAME),
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

/// Logs the request's outcome, with its metrics, inside a span that gives every line of the
/// request its request id and trace id. `service` names the function in the metrics.
pub async fn log_request(
    State(service): State<Arc<str>>,
    request: Request,
    next: Next,
) -> Response {
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
    let (response, dynamodb_ms) =
        metrics::measure_dynamodb(next.run(request).instrument(span.clone())).await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let _entered = span.enter();
    let status = response.status().as_u16();
    let replayed = response.headers().contains_key(IDEMPOTENT_REPLAYED);
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
    let route = route.as_deref().unwrap_or("unmatched");
    let count = |yes: bool| u64::from(yes);
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i128);
    tracing::info!(
        method = %method,
        route,
        status,
        latencyMs = latency_ms,
        sub = sub.as_deref(),
        ticketId = ticket_id.as_deref(),
        problem = problem.map(|p| p.kind),
        _aws = metrics::directive(now_ms).as_str(),
        Service = &*service,
        Route = metrics_route(&method, route).as_str(),
        StatusClass = metrics::status_class(status),
        Requests = 1u64,
        Latency = latency_ms,
        TicketsCreated = count(status == 201 && !replayed),
        TicketsUpdated = count(status == 200 && matches!(method, Method::PUT | Method::PATCH)),
        TicketsDeleted = count(status == 204 && method == Method::DELETE),
        Conflicts = count(status == 412),
        IdempotentReplays = count(replayed),
        ValidationFailures = count(problem.is_some_and(|p| p.kind == Problem::VALIDATION)),
        DynamoDbLatency = dynamodb_ms,
        "request"
    );
    response
}

/// The `Route` dimension: method and route, or `unmatched` for paths the API lacks (so
/// scanners cannot mint new metrics).
fn metrics_route(method: &Method, route: &str) -> String {
    if route == "unmatched" {
        route.to_owned()
    } else {
        tickets_manifest::metrics::route_value(method.as_str(), route)
    }
}

/// The caller's Cognito `sub`, as the authorizer passed it.
fn caller_sub(request: &Request) -> Option<String> {
    let claims = rest_context(request.extensions())?
        .authorizer
        .fields
        .get("claims")?;
    Some(claims.get("sub")?.as_str()?.to_owned())
}
