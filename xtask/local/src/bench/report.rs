//! What `cargo xtask bench` found: the JSON report, the targets it is held to and the
//! Markdown table it prints (the one the README shows).
//! (Over 500 lines: one table of every figure against its target; splitting it would scatter the targets.)

use super::cold_start::ColdStarts;
use super::latency::{Operation, Preflight};
use super::migration::Migration;
use super::tooling::{DeployTime, SynthTimes};
use serde::Serialize;
use std::fmt::Write as _;
use xtask_core::figures::thousands;

/// The Node.js 20 original, measured on the same machines the same way: its handler
/// (AWS SDK v3 document client, Zod, esbuild bundle) under a Runtime API emulator against
/// dynoxide.
pub mod node {
    /// Init duration, p50, ms.
    pub const INIT_P50_MS: f64 = 122.0;
    /// First invocation, ms.
    pub const FIRST_INVOCATION_MS: f64 = 14.7;
    /// Peak RSS, MiB.
    pub const PEAK_RSS_MIB: f64 = 75.0;
    /// Warm get-by-id, p50, ms.
    pub const GET_BY_ID_P50_MS: f64 = 1.26;
}

/// The targets of the issue.
pub mod target {
    /// Cold-start init p50, ms.
    pub const INIT_P50_MS: f64 = 10.0;
    /// Peak RSS of the function process, MiB.
    pub const PEAK_RSS_MIB: f64 = 16.0;
    /// Function overhead over the raw `GetItem` at p50, ms.
    pub const GET_OVERHEAD_P50_MS: f64 = 0.5;
    /// Zip size, MiB.
    pub const ZIP_MIB: f64 = 3.0;
    /// `synth` of every environment, ms.
    pub const SYNTH_MS: f64 = 100.0;
    /// No-op deploy, s.
    pub const NOOP_DEPLOY_S: f64 = 2.0;
    /// Migration throughput, items/s (a floor).
    pub const MIGRATION_ITEMS_PER_S: f64 = 2000.0;
}

/// The migration's throughput, or why it was not measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase", tag = "status")]
pub enum MigrationTime {
    /// Measured.
    Measured(Migration),
    /// Not measured.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// The machine the numbers come from.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Machine {
    /// CPU model (`/proc/cpuinfo`).
    pub cpu: String,
    /// Logical cores available to us.
    pub cores: usize,
    /// Kernel release.
    pub kernel: String,
    /// `rustc -V`.
    pub rustc: String,
}

impl Machine {
    /// Reads what it can; unknown parts say `unknown`.
    pub fn detect() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, model)| model.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".into());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|k| k.trim().to_owned())
            .unwrap_or_else(|_| "unknown".into());
        let rustc = std::process::Command::new("rustc")
            .arg("-V")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
            kernel,
            rustc,
        }
    }
}

/// Sizes of the artifact.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sizes {
    /// Instruction set.
    pub arch: String,
    /// The zip Lambda runs, bytes.
    pub zip_bytes: u64,
    /// The unzipped `bootstrap`, bytes.
    pub binary_bytes: u64,
}

/// Warm latency.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Warm {
    /// Timed invocations per request kind (and as many raw calls).
    pub invocations: usize,
    /// Untimed rounds before them.
    pub warmup: usize,
    /// Tickets in the table before the first timed call.
    pub seeded_tickets: usize,
    /// Per request kind.
    pub operations: Vec<Operation>,
    /// A CORS preflight, which calls no DynamoDB: the fixed cost of an invocation.
    pub preflight: Preflight,
    /// Peak RSS (`VmHWM`) of the warm instance after all of them, KiB.
    pub peak_rss_kib: u64,
}

/// One target and whether it is met.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// What is measured.
    pub name: String,
    /// The measured value (absent when not measured).
    pub value: Option<f64>,
    /// The bound it must not exceed (for throughput: must reach).
    pub limit: f64,
    /// Unit of both.
    pub unit: &'static str,
    /// Met, missed, or not measured.
    pub met: Option<bool>,
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// When (UTC, RFC 3339).
    pub generated_at: String,
    /// Where.
    pub machine: Machine,
    /// The environment whose function configuration ran.
    pub environment: String,
    /// The `bootstrap` that ran (the release build's unless `--bootstrap` named another).
    pub bootstrap: String,
    /// Artifact sizes.
    pub artifact: Sizes,
    /// Cold starts.
    pub cold_start: ColdStarts,
    /// Warm latency and memory.
    pub warm: Warm,
    /// The event path's cost to writes, and its lag.
    pub events: super::events::EventPathBench,
    /// `synth` of every environment.
    pub synth: SynthTimes,
    /// The no-op deploy.
    pub deploy: DeployTime,
    /// `cargo xtask migrate` between two tables of the embedded engine.
    pub migration: MigrationTime,
    /// The developer loop.
    pub dev_loop: super::dev_loop::DevLoop,
    /// The targets and how each went.
    pub targets: Vec<Check>,
    /// Wall time of the whole bench (build included), s.
    pub wall_seconds: f64,
}

const MIB: f64 = 1024.0 * 1024.0;

impl Report {
    /// The checks of every target against the measurements.
    pub fn checks(
        cold: &ColdStarts,
        warm: &Warm,
        sizes: &Sizes,
        synth: &SynthTimes,
        deploy: &DeployTime,
        migration: &MigrationTime,
    ) -> Vec<Check> {
        let check = |name: &str, value: Option<f64>, limit: f64, unit| Check {
            name: name.to_owned(),
            value,
            limit,
            unit,
            met: value.map(|v| v <= limit),
        };
        let get = warm.operations.iter().find(|o| o.name == "get-by-id");
        let deployed = match deploy {
            DeployTime::Measured { noop_seconds, .. } => Some(*noop_seconds),
            DeployTime::Skipped { .. } => None,
        };
        vec![
            check(
                "cold-start init p50",
                Some(cold.init_ms.p50),
                target::INIT_P50_MS,
                "ms",
            ),
            check(
                "peak RSS",
                Some(peak_rss_kib(cold, warm) / 1024.0),
                target::PEAK_RSS_MIB,
                "MiB",
            ),
            check(
                "get-by-id overhead over GetItem, p50",
                get.map(|o| o.overhead_p50_ms),
                target::GET_OVERHEAD_P50_MS,
                "ms",
            ),
            // "Faster than Node.js": strictly, but a tie to the hundredth is not a win.
            check(
                "warm get-by-id p50 below Node.js 20's",
                get.map(|o| o.function_ms.p50),
                node::GET_BY_ID_P50_MS - 0.01,
                "ms",
            ),
            check(
                "zip",
                Some(sizes.zip_bytes as f64 / MIB),
                target::ZIP_MIB,
                "MiB",
            ),
            check(
                "synth of every environment",
                Some(synth.total_ms.p50),
                target::SYNTH_MS,
                "ms",
            ),
            check("no-op deploy", deployed, target::NOOP_DEPLOY_S, "s"),
            // A floor, not a ceiling; an unverified run misses it whatever its speed.
            match migration {
                MigrationTime::Measured(m) => Check {
                    name: "migration throughput".into(),
                    value: Some(m.items_per_second),
                    limit: target::MIGRATION_ITEMS_PER_S,
                    unit: "items/s",
                    met: Some(super::migration::met(m)),
                },
                MigrationTime::Skipped { .. } => Check {
                    name: "migration throughput".into(),
                    value: None,
                    limit: target::MIGRATION_ITEMS_PER_S,
                    unit: "items/s",
                    met: None,
                },
            },
        ]
    }

    /// The report as a Markdown table with a heading line and a verdict.
    pub fn table(&self) -> String {
        let mut rows: Vec<[String; 5]> = Vec::new();
        let met = |name: &str| {
            match self
                .targets
                .iter()
                .find(|c| c.name.starts_with(name))
                .and_then(|c| c.met)
            {
                Some(true) => "✓",
                Some(false) => "✗",
                None => "–",
            }
            .to_owned()
        };
        let cold = &self.cold_start;
        rows.push([
            format!("Cold start: init p50 / p90 ({} spawns)", cold.init_ms.n),
            format!("{} / {} ms", ms(cold.init_ms.p50), ms(cold.init_ms.p90)),
            format!("≤ {} ms (p50)", target::INIT_P50_MS),
            met("cold-start"),
            format!("{} ms", node::INIT_P50_MS),
        ]);
        rows.push([
            "First invocation (get-by-id), p50".into(),
            format!("{} ms", ms(cold.first_invocation_ms.p50)),
            String::new(),
            String::new(),
            format!("{} ms", node::FIRST_INVOCATION_MS),
        ]);
        rows.push([
            "Peak RSS: after init / after all warm invocations".into(),
            format!(
                "{:.1} / {:.1} MiB",
                cold.rss_after_init_kib.max / 1024.0,
                self.warm.peak_rss_kib as f64 / 1024.0
            ),
            format!("≤ {} MiB", target::PEAK_RSS_MIB),
            met("peak RSS"),
            format!("{} MiB", node::PEAK_RSS_MIB),
        ]);
        for operation in &self.warm.operations {
            let is_get = operation.name == "get-by-id";
            rows.push([
                format!(
                    "Warm {}: p50 / p99 ({}; function's CPU per call)",
                    operation.name, operation.function_ms.n
                ),
                format!(
                    "{} / {} ms ({} ms)",
                    ms(operation.function_ms.p50),
                    ms(operation.function_ms.p99),
                    ms(operation.function_cpu_ms)
                ),
                if is_get {
                    format!("< {} ms (p50)", node::GET_BY_ID_P50_MS)
                } else {
                    String::new()
                },
                if is_get {
                    met("warm get-by-id")
                } else {
                    String::new()
                },
                if is_get {
                    format!("{} ms", node::GET_BY_ID_P50_MS)
                } else {
                    String::new()
                },
            ]);
            rows.push([
                format!("  raw {}: p50 / p99", operation.raw_call),
                format!(
                    "{} / {} ms",
                    ms(operation.raw_ms.p50),
                    ms(operation.raw_ms.p99)
                ),
                String::new(),
                String::new(),
                String::new(),
            ]);
            rows.push([
                format!("  {} overhead at p50 (p99)", operation.name),
                format!(
                    "{} ({}) ms",
                    ms(operation.overhead_p50_ms),
                    ms(operation.overhead_p99_ms)
                ),
                if is_get {
                    format!("≤ {} ms (p50)", target::GET_OVERHEAD_P50_MS)
                } else {
                    String::new()
                },
                if is_get {
                    met("get-by-id overhead")
                } else {
                    String::new()
                },
                String::new(),
            ]);
        }
        rows.push([
            format!(
                "Warm preflight, no DynamoDB call: p50 / p99 ({}; function's CPU per call)",
                self.warm.preflight.function_ms.n
            ),
            format!(
                "{} / {} ms ({} ms)",
                ms(self.warm.preflight.function_ms.p50),
                ms(self.warm.preflight.function_ms.p99),
                ms(self.warm.preflight.function_cpu_ms)
            ),
            String::new(),
            String::new(),
            String::new(),
        ]);
        rows.extend(self.events.rows());
        rows.push([
            format!("Zip / bootstrap ({})", self.artifact.arch),
            format!(
                "{:.2} / {:.2} MiB",
                self.artifact.zip_bytes as f64 / MIB,
                self.artifact.binary_bytes as f64 / MIB
            ),
            format!("≤ {} MiB (zip)", target::ZIP_MIB),
            met("zip"),
            String::new(),
        ]);
        rows.push([
            format!(
                "synth, {} environments, median of {}",
                self.synth.environments.len(),
                self.synth.total_ms.n
            ),
            format!("{} ms", ms(self.synth.total_ms.p50)),
            format!("≤ {} ms", target::SYNTH_MS),
            met("synth"),
            String::new(),
        ]);
        rows.push([
            "No-op deploy: xtask process, median (of it: cargo's up-to-date check)".into(),
            match &self.deploy {
                DeployTime::Measured {
                    noop_seconds,
                    build_check_seconds,
                    unchanged,
                    ..
                } => format!(
                    "{noop_seconds:.2} s ({}){}",
                    build_check_seconds.map_or("?".into(), |b| format!("{b:.2} s")),
                    if *unchanged { "" } else { ", not a no-op!" }
                ),
                DeployTime::Skipped { .. } => "not measured".into(),
            },
            format!("≤ {} s", target::NOOP_DEPLOY_S),
            met("no-op deploy"),
            String::new(),
        ]);
        rows.push(match &self.migration {
            MigrationTime::Measured(m) => [
                format!(
                    "Migration: {} items, {} segments: copy rate (copy / whole run with verification)",
                    thousands(m.items),
                    m.segments
                ),
                format!(
                    "{} items/s ({:.1} / {:.1} s; CPU: migrate {:.1} s, engine {:.1} s; load {:.1}){}",
                    thousands(m.items_per_second as u64),
                    m.copy_seconds,
                    m.process_seconds,
                    m.migrate_cpu_seconds,
                    m.engine_cpu_seconds,
                    m.load_average,
                    if m.verified { "" } else { ", NOT verified!" }
                ),
                format!("≥ {} items/s", thousands(target::MIGRATION_ITEMS_PER_S as u64)),
                met("migration"),
                String::new(),
            ],
            MigrationTime::Skipped { .. } => [
                "Migration".into(),
                "not measured".into(),
                format!("≥ {} items/s", thousands(target::MIGRATION_ITEMS_PER_S as u64)),
                met("migration"),
                String::new(),
            ],
        });
        rows.extend(self.dev_loop.rows());

        let mut out = String::new();
        let m = &self.machine;
        let _ = writeln!(
            out,
            "cargo xtask bench: {} ({} cores), Linux {}, {}; function configured as environment {}",
            m.cpu, m.cores, m.kernel, m.rustc, self.environment
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "| Measure | Value | Target | Met | Node.js 20 |");
        let _ = writeln!(out, "| --- | --- | --- | :-: | --- |");
        for row in rows {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        let _ = writeln!(out);
        if let DeployTime::Skipped { reason } = &self.deploy {
            let _ = writeln!(out, "No-op deploy not measured: {reason}");
        }
        if let MigrationTime::Skipped { reason } = &self.migration {
            let _ = writeln!(out, "Migration not measured: {reason}");
        }
        for (name, reason) in self.dev_loop.reasons() {
            let _ = writeln!(out, "{name} not measured: {reason}");
        }
        let missed: Vec<&str> = self
            .targets
            .iter()
            .filter(|c| c.met == Some(false))
            .map(|c| c.name.as_str())
            .collect();
        if missed.is_empty() {
            let _ = writeln!(out, "Every measured target is met.");
        } else {
            let _ = writeln!(out, "MISSED: {}.", missed.join("; "));
        }
        out
    }
}

/// The peak over the cold starts and the warm instance, KiB.
fn peak_rss_kib(cold: &ColdStarts, warm: &Warm) -> f64 {
    cold.rss_after_first_kib.max.max(warm.peak_rss_kib as f64)
}

/// Milliseconds with two decimals (three below 0.1).
fn ms(value: f64) -> String {
    if value.abs() < 0.1 {
        format!("{value:.3}")
    } else {
        format!("{value:.2}")
    }
}
