//! The event path of `cargo xtask local`: the template's pipe reading the embedded
//! engine's stream, the real enrichment binary under the Runtime API emulator, and the
//! local bus that prints, archives and forwards each event (`--events-to`).

use crate::emulator::bus::{ARCHIVE_FILE, DEAD_LETTER_FILE, Delivery, LocalBus, RetryPolicy};
use crate::emulator::functions;
use crate::emulator::instance::Logs;
use crate::emulator::instance_pool::Pool;
use crate::emulator::pipe::{LocalPipe, POSITION_FILE, PipeConfig};
use crate::emulator::template::LocalTemplate;
use anyhow::{Context, Result};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a stop waits for `--events-to` to take what is still queued.
const DELIVERY_GRACE: Duration = Duration::from_secs(10);

/// The running event path.
pub struct EventPath {
    /// For the banner.
    pub description: String,
    enrichment: Arc<Pool>,
    stop: watch::Sender<bool>,
    pipe: JoinHandle<()>,
    delivery: Option<Delivery>,
}

/// What the event path needs to start.
pub struct Start<'a> {
    /// The template.
    pub template: &'a LocalTemplate,
    /// The enrichment's binary.
    pub binary: &'a Path,
    /// The embedded DynamoDB.
    pub dynamo_endpoint: &'a str,
    /// The state folder.
    pub state: &'a Path,
    /// Where the enrichment's logs go.
    pub logs: Logs,
    /// `--events-to`.
    pub events_to: Option<&'a str>,
}

impl EventPath {
    /// Starts the template's pipe, if it has one, with a warm enrichment instance.
    pub async fn start(start: Start<'_>) -> Result<Option<Self>> {
        let Some(config) = PipeConfig::of_template(start.template)? else {
            return Ok(None);
        };
        let (function, max) = functions::function_config(
            start.template,
            &config.enrichment,
            start.binary,
            start.dynamo_endpoint,
            start.logs,
        )?;
        let enrichment = Arc::new(Pool::new(function, max));
        let (init, _) = enrichment
            .warm()
            .await
            .context("starting the event enrichment")?;
        let retry = delivery_retry(start.template)?;
        let (bus, delivery) = LocalBus::open(
            start.state,
            &config.source,
            (&start.template.account, &start.template.region),
            true,
            start.events_to.map(|url| (url.to_owned(), retry)),
        )?;
        let pipe = LocalPipe::open(
            config.clone(),
            start.dynamo_endpoint,
            &start.template.region,
            start.state,
            enrichment.clone(),
            Arc::new(bus),
        )
        .await?;
        let (stop, stopped) = watch::channel(false);
        let pipe = tokio::spawn(pipe.run(stopped));
        let description = format!(
            "Events: stream of {} → {} (init {:.1} ms) → local bus (source {}){}",
            config.table,
            enrichment.config().name,
            init.as_secs_f64() * 1000.0,
            config.source,
            start
                .events_to
                .map(|url| format!(" → {url}"))
                .unwrap_or_default()
        );
        Ok(Some(EventPath {
            description,
            enrichment,
            stop,
            pipe,
            delivery,
        }))
    }

    /// Hands what the stream already holds to the bus, waits a little for `--events-to`,
    /// and stops the enrichment.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.pipe.await;
        if let Some(delivery) = self.delivery
            && tokio::time::timeout(DELIVERY_GRACE, delivery.finish())
                .await
                .is_err()
        {
            eprintln!(
                "warning: --events-to still had events queued after {DELIVERY_GRACE:?}; every event is in {ARCHIVE_FILE}"
            );
        }
        self.enrichment.shutdown().await;
    }
}

/// The retries of the template's rule targets: the local bus gives `--events-to` the
/// same.
fn delivery_retry(template: &LocalTemplate) -> Result<RetryPolicy> {
    let mut policy = RetryPolicy {
        attempts: 185,
        max_age: Duration::from_secs(86_400),
    };
    for (logical_id, _) in template.resources("AWS::Events::Rule") {
        let properties = template.properties(logical_id)?;
        if let Some(retry) = properties["Targets"][0].get("RetryPolicy") {
            if let Some(attempts) = retry["MaximumRetryAttempts"].as_u64() {
                policy.attempts = attempts as u32;
            }
            if let Some(age) = retry["MaximumEventAgeInSeconds"].as_u64() {
                policy.max_age = Duration::from_secs(age);
            }
        }
    }
    Ok(policy)
}

/// Deletes the event path's state (archive, dead letters, stream position): `--fresh`.
pub fn remove_state(state: &Path) -> Result<()> {
    for file in [ARCHIVE_FILE, DEAD_LETTER_FILE, POSITION_FILE] {
        let path = state.join(file);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err).with_context(|| format!("deleting {}", path.display())),
        }
    }
    Ok(())
}
