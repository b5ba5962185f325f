//! The event path's cost and lag: warm create latency with the event path (the table's
//! stream, the local pipe reading it and the enrichment binary running beside the API) and
//! without it (no stream, no pipe), and the stream-to-bus lag: from sending a create to its
//! event on the local bus. The clock starts at the request, not the answer: the pipe often
//! puts the event before the answer has come back through the Runtime API.

use super::stats::Summary;
use crate::emulator::bus::LocalBus;
use crate::emulator::dynamo::{LocalDynamo, remove_database};
use crate::emulator::functions::function_config;
use crate::emulator::instance::Logs;
use crate::emulator::instance_pool::Pool;
use crate::emulator::pipe::{LocalPipe, PipeConfig};
use crate::emulator::template::LocalTemplate;
use crate::event_path;
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What the event path costs a write, and how far behind it runs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventPathBench {
    /// Warm creates, no stream and no pipe (ms).
    pub create_without_ms: Summary,
    /// Warm creates while the pipe reads the stream and the enrichment runs (ms).
    pub create_with_ms: Summary,
    /// From sending a create to its event on the local bus, one write at a time (ms).
    pub stream_to_bus_lag_ms: Summary,
    /// Of those writes, how many had their event on the bus before their answer arrived.
    pub events_before_answer: usize,
}

impl EventPathBench {
    /// The table's rows.
    pub fn rows(&self) -> Vec<[String; 5]> {
        let row = |name: String, value: String| {
            [name, value, String::new(), String::new(), String::new()]
        };
        vec![
            row(
                format!(
                    "Warm create without / with the event path: p50 ({})",
                    self.create_with_ms.n
                ),
                format!(
                    "{:.2} / {:.2} ms",
                    self.create_without_ms.p50, self.create_with_ms.p50
                ),
            ),
            row(
                "  p99 without / with".into(),
                format!(
                    "{:.2} / {:.2} ms",
                    self.create_without_ms.p99, self.create_with_ms.p99
                ),
            ),
            row(
                format!(
                    "Create sent → its event on the local bus: p50 / p99 ({} writes, one at a time)",
                    self.stream_to_bus_lag_ms.n
                ),
                format!(
                    "{:.1} / {:.1} ms ({} before the answer)",
                    self.stream_to_bus_lag_ms.p50,
                    self.stream_to_bus_lag_ms.p99,
                    self.events_before_answer
                ),
            ),
        ]
    }
}

/// The binaries measured.
pub struct Binaries<'a> {
    /// The API's `bootstrap`.
    pub api: &'a Path,
    /// The enrichment's.
    pub enrichment: &'a Path,
}

/// Measures `count` creates (after `warmup`) each way, then `lags` lags.
pub async fn measure(
    template: &LocalTemplate,
    binaries: &Binaries<'_>,
    state: &Path,
    (count, warmup, lags): (usize, usize, usize),
) -> Result<EventPathBench> {
    let without = run(
        &template.without_event_path(),
        binaries,
        state,
        count,
        warmup,
        0,
    )
    .await?;
    let with = run(template, binaries, state, count, warmup, lags).await?;
    let lag = with
        .1
        .context("the template has no event path to measure")?;
    Ok(EventPathBench {
        create_without_ms: without.0,
        create_with_ms: with.0,
        stream_to_bus_lag_ms: lag.0,
        events_before_answer: lag.1,
    })
}

/// Creates against a fresh table; with a pipe in the template, lags too.
async fn run(
    template: &LocalTemplate,
    binaries: &Binaries<'_>,
    state: &Path,
    count: usize,
    warmup: usize,
    lags: usize,
) -> Result<Runs> {
    let dir = state.join("events");
    remove_database(&dir.join("dynamo.db"))?;
    event_path::remove_state(&dir)?;
    let (dynamo, _) = LocalDynamo::start(&dir.join("dynamo.db"), template).await?;
    let (function, _) = template.api_function()?;
    let (config, _) = function_config(
        template,
        function,
        binaries.api,
        &dynamo.endpoint,
        Logs::Discard,
    )?;
    let api = Arc::new(Pool::new(config, 1));
    api.warm().await.context("starting the function")?;
    let workload = super::workload::prepare(template, &state.join("auth"), api.clone()).await?;

    let (stop, stopped) = watch::channel(false);
    let mut path = None;
    if let Some(pipe) = PipeConfig::of_template(template)? {
        let (config, _) = function_config(
            template,
            &pipe.enrichment,
            binaries.enrichment,
            &dynamo.endpoint,
            Logs::Discard,
        )?;
        let enrichment = Arc::new(Pool::new(config, 1));
        enrichment.warm().await.context("starting the enrichment")?;
        let (mut bus, _) = LocalBus::open(
            &dir,
            &pipe.source,
            (&template.account, &template.region),
            false,
            None,
        )?;
        let tap = bus.tap();
        let local = LocalPipe::open(
            pipe,
            &dynamo.endpoint,
            &template.region,
            &dir,
            enrichment.clone(),
            Arc::new(bus),
        )
        .await?;
        let task = tokio::spawn(local.run(stopped));
        path = Some((enrichment, tap, task));
    }

    let mut creates = Vec::with_capacity(count);
    for round in 0..warmup + count {
        let started = Instant::now();
        let answer = api.invoke(workload.create.clone()).await?;
        let took = started.elapsed();
        created_id(&answer)?;
        if round >= warmup {
            creates.push(took);
        }
    }

    let mut lag = None;
    if let Some((enrichment, mut tap, task)) = path {
        // The creates above are on their way; wait until the bus is idle.
        while tokio::time::timeout(Duration::from_millis(500), tap.recv())
            .await
            .is_ok_and(|e| e.is_some())
        {}
        let mut samples = Vec::with_capacity(lags);
        let mut before_answer = 0;
        for _ in 0..lags {
            let sent = Instant::now();
            let answer = api.invoke(workload.create.clone()).await?;
            let answered = Instant::now();
            let id = created_id(&answer)?;
            let at = loop {
                let tapped = tokio::time::timeout(Duration::from_secs(10), tap.recv())
                    .await
                    .ok()
                    .flatten()
                    .context("no event reached the bus within 10 s of a create")?;
                if tapped.ticket_id == id {
                    break tapped.at;
                }
            };
            samples.push(at.saturating_duration_since(sent));
            before_answer += usize::from(at < answered);
        }
        let _ = stop.send(true);
        let _ = task.await;
        enrichment.shutdown().await;
        lag = (!samples.is_empty()).then(|| (Summary::of(&samples), before_answer));
    }
    api.shutdown().await;
    dynamo.stop().await?;
    Ok((Summary::of(&creates), lag))
}

/// Create latencies, and the lags with how many events came before their answer.
type Runs = (Summary, Option<(Summary, usize)>);

/// The id of the ticket a create answer made.
fn created_id(answer: &[u8]) -> Result<String> {
    let answer: serde_json::Value = serde_json::from_slice(answer)?;
    if answer["statusCode"] != 201 {
        bail!("a create answered {}", answer["statusCode"]);
    }
    let body: serde_json::Value = serde_json::from_str(
        answer["body"]
            .as_str()
            .context("a create answered no body")?,
    )?;
    Ok(body["id"]
        .as_str()
        .context("a create answered no id")?
        .to_owned())
}
