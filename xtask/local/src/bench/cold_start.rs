//! Cold starts: new `bootstrap` processes under the Runtime API emulator, each timed from
//! spawn to its first `GET /runtime/invocation/next` (what Lambda reports as Init
//! Duration), then through its first invocation.

use super::process::peak_rss_kib;
use super::stats::Summary;
use super::workload::expect_status;
use crate::emulator::instance::{FunctionConfig, Instance};
use anyhow::{Context, Result};
use bytes::Bytes;
use serde::Serialize;
use std::time::Instant;

/// What the cold starts measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ColdStarts {
    /// Spawn to first `/next`, ms.
    pub init_ms: Summary,
    /// The first invocation (a get-by-id), ms.
    pub first_invocation_ms: Summary,
    /// Peak resident memory (`VmHWM`) right after init, KiB.
    pub rss_after_init_kib: Summary,
    /// Peak resident memory after the first invocation, KiB.
    pub rss_after_first_kib: Summary,
    /// Every init duration, ms, in order.
    pub init_samples_ms: Vec<f64>,
}

/// Starts `spawns` instances of `config` one after the other; each serves `event`
/// (expecting `status`) once and is stopped.
pub async fn measure(
    config: &FunctionConfig,
    event: &Bytes,
    status: u16,
    spawns: usize,
) -> Result<ColdStarts> {
    let mut init = Vec::with_capacity(spawns);
    let mut first = Vec::with_capacity(spawns);
    let mut rss_init = Vec::with_capacity(spawns);
    let mut rss_first = Vec::with_capacity(spawns);
    for _ in 0..spawns {
        let instance = Instance::spawn(config).await?;
        init.push(instance.ready().await?);
        let pid = instance.pid().context("the function has no process id")?;
        rss_init.push(peak_rss_kib(pid)? as f64);
        let started = Instant::now();
        let answer = instance
            .invoke(event.clone())
            .await
            .context("the first invocation failed")?;
        first.push(started.elapsed());
        expect_status(&answer, status).context("the first invocation failed")?;
        rss_first.push(peak_rss_kib(pid)? as f64);
        instance.stop().await;
    }
    let init_ms = Summary::of(&init);
    Ok(ColdStarts {
        init_samples_ms: init.iter().map(|d| d.as_secs_f64() * 1000.0).collect(),
        init_ms,
        first_invocation_ms: Summary::of(&first),
        rss_after_init_kib: Summary::of_values(rss_init),
        rss_after_first_kib: Summary::of_values(rss_first),
    })
}
