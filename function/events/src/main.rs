//! `bootstrap` of the event enrichment (`provided.al2023`): a batch of stream records in,
//! their ticket events out.

use lambda_runtime::{Diagnostic, Error, LambdaEvent, service_fn};
use std::time::Instant;
use tickets_events::enrich;
use tickets_events::record::StreamRecord;
use tickets_telemetry::JsonLines;
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    init_logs();
    lambda_runtime::run(service_fn(handle)).await
}

/// One batch: its records become events, or the batch fails (the pipe retries it).
async fn handle(
    event: LambdaEvent<Vec<StreamRecord>>,
) -> Result<Vec<tickets_domain::event::TicketEvent>, Diagnostic> {
    let started = Instant::now();
    let records = event.payload;
    let count = records.len();
    let oldest = records
        .iter()
        .filter_map(|r| r.dynamodb.approximate_creation_date_time)
        .reduce(f64::min);
    match enrich(records) {
        Ok(enriched) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            tracing::info!(
                records = count,
                events = enriched.events.len(),
                skipped = enriched.skipped,
                // Seconds between the oldest record's write and now: how far behind the pipe is.
                streamLagSeconds = oldest.map(|t| (now - t).max(0.0)),
                latencyMs = started.elapsed().as_secs_f64() * 1000.0,
                "batch"
            );
            Ok(enriched.events)
        }
        Err(err) => {
            tracing::error!(records = count, error = %err, "a record is not a ticket write");
            // A named type, rather than the runtime's Rust type name, in the pipe's failure
            // and the dead-letter queue.
            Err(Diagnostic {
                error_type: "NotATicketWrite".into(),
                error_message: err.to_string(),
            })
        }
    }
}

/// JSON lines at Lambda's level (`AWS_LAMBDA_LOG_LEVEL`, from the function's
/// `LoggingConfig`), dependencies at `warn` unless `RUST_LOG` says otherwise.
fn init_logs() {
    let level = std::env::var(tickets_manifest::config::LOG_LEVEL)
        .ok()
        .and_then(|text| match text.trim().to_ascii_uppercase().as_str() {
            "TRACE" => Some(Level::TRACE),
            "DEBUG" => Some(Level::DEBUG),
            "INFO" => Some(Level::INFO),
            "WARN" => Some(Level::WARN),
            "ERROR" | "FATAL" => Some(Level::ERROR),
            _ => None,
        })
        .unwrap_or(Level::INFO);
    let mut filter = Targets::new()
        .with_default(Level::WARN)
        .with_target("tickets_events", level)
        .with_target("lambda_runtime", level);
    if let Some(directives) = std::env::var(tickets_manifest::config::LOG_DIRECTIVES)
        .ok()
        .and_then(|text| text.parse::<Targets>().ok())
    {
        filter = filter.with_targets(directives);
    }
    tracing_subscriber::registry()
        .with(filter)
        .with(JsonLines::stdout())
        .init();
}
