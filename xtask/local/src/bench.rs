//! `cargo xtask bench`: the release function's cold start, warm latency (next to the raw
//! DynamoDB call it makes), memory and size, the speed of `synth` and a no-op `deploy`, the
//! migration's throughput, and the developer loop (save → answer, locally and on a personal
//! stack), against the issues' targets. Prints a Markdown table and
//! writes `bench/report.json` in cargo's target directory (`target/bench/report.json` by
//! default).
//!
//! Everything runs on this machine: `bootstrap` under the Runtime API emulator of
//! `cargo xtask local`, against the same embedded DynamoDB engine, with the environment
//! variables the template gives the function.

mod cold_start;
mod dev_loop;
mod events;
mod latency;
mod migration;
mod process;
mod raw_dynamo;
mod report;
mod stats;
mod tooling;
mod workload;

use crate::emulator::dynamo::{LocalDynamo, remove_database};
use crate::emulator::functions::function_config;
use crate::emulator::instance::Logs;
use crate::emulator::instance_pool::Pool;
use crate::emulator::template::LocalTemplate;
use anyhow::{Context, Result, bail};
use report::{Machine, MigrationTime, Report, Sizes, Warm};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tokio::runtime::Runtime;
use xtask_core::lambda::arch::Arch;
use xtask_core::lambda::artifact;
use xtask_core::tools::workspace::{root, target_dir};

/// Arguments of `bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Timed invocations of each request (get-by-id, create, list, each beside its raw
    /// DynamoDB call, and a CORS preflight).
    #[arg(long, default_value_t = 1000)]
    pub invocations: usize,
    /// Cold starts to time.
    #[arg(long, default_value_t = 20)]
    pub cold_starts: usize,
    /// The environment whose function configuration (variables, log level) is measured.
    #[arg(long, default_value = "prod")]
    pub env: String,
    /// Do not time a no-op deploy (which needs Python for moto).
    #[arg(long)]
    pub skip_deploy: bool,
    /// Tickets the migration section copies between two tables of the embedded engine.
    #[arg(long, default_value_t = 10_000)]
    pub migration_items: u64,
    /// Do not time the migration.
    #[arg(long)]
    pub skip_migration: bool,
    /// Do not time the developer loop (save → local answer, save → live in moto).
    #[arg(long)]
    pub skip_dev_loop: bool,
    /// Saves each developer loop times.
    #[arg(long, default_value_t = 5)]
    pub saves: usize,
    /// Also time a fresh clone's first run: `git clone`, then `cargo xtask local` with an
    /// empty target directory until its first answer (several minutes).
    #[arg(long)]
    pub first_run: bool,
    /// Run this `bootstrap` instead of the release build's, e.g. a build with symbols for
    /// `perf` (sizes stay those of the release build).
    #[arg(long, hide = true, value_name = "PATH")]
    pub bootstrap: Option<PathBuf>,
}

/// Writes whose stream-to-bus lag is timed, one at a time.
const EVENT_LAGS: usize = 200;

/// Rounds of `synth` of every environment; the median is reported.
const SYNTH_ROUNDS: usize = 20;

/// Builds, measures, prints the table and writes the report. The function is measured on
/// `runtime`; the rest runs outside it.
pub fn run(args: Args, runtime: &Runtime) -> Result<()> {
    let started = Instant::now();
    if args.invocations == 0 || args.cold_starts == 0 {
        bail!("--invocations and --cold-starts must be at least 1");
    }
    let root = root();
    let machine = Machine::detect();
    let arch = if cfg!(target_arch = "aarch64") {
        Arch::Arm64
    } else {
        Arch::X86_64
    };
    // The artifact the cloud runs (zip included, for its size); the binary is what we run.
    let artifacts = artifact::build(arch)?;
    let artifact = artifacts.first().context("no function was built")?;
    let template = LocalTemplate::synthesize(&args.env)?;
    let state = target_dir()?.join("bench");

    eprintln!("xtask: bench: function, {} cold starts", args.cold_starts);
    let binary = args.bootstrap.as_ref().unwrap_or(&artifact.binary);
    let (cold, warm) = runtime.block_on(measure_function(&args, &template, binary, &state))?;

    eprintln!("xtask: bench: the event path: creates without and with it, stream-to-bus lag");
    let enrichment = artifacts
        .iter()
        .find(|a| a.function == tickets_manifest::functions::TICKET_EVENTS)
        .context("the enrichment was not built")?;
    let events = runtime.block_on(events::measure(
        &template,
        &events::Binaries {
            api: binary,
            enrichment: &enrichment.binary,
        },
        &state,
        (
            args.invocations,
            (args.invocations / 10).max(10),
            EVENT_LAGS,
        ),
    ))?;

    eprintln!("xtask: bench: synth of every environment, {SYNTH_ROUNDS} rounds");
    let synth = tooling::synth(&root, SYNTH_ROUNDS)?;
    let deploy = if args.skip_deploy {
        tooling::DeployTime::Skipped {
            reason: "--skip-deploy".into(),
        }
    } else {
        eprintln!("xtask: bench: a no-op deploy against moto");
        tooling::noop_deploy(&root)
    };

    let migration = if args.skip_migration || args.migration_items == 0 {
        MigrationTime::Skipped {
            reason: "--skip-migration".into(),
        }
    } else {
        eprintln!(
            "xtask: bench: cargo xtask migrate of {} tickets between two tables",
            args.migration_items
        );
        let measured = xtask_core::tools::binary::dev_binary("xtask-cloud").and_then(|binary| {
            runtime.block_on(migration::measure(
                args.migration_items,
                &binary,
                &state.join("migrate"),
            ))
        });
        match measured {
            Ok(migration) => MigrationTime::Measured(migration),
            Err(err) => MigrationTime::Skipped {
                reason: format!("{err:#}"),
            },
        }
    };

    let dev_loop = if args.skip_dev_loop || args.saves == 0 {
        dev_loop::DevLoop::skipped("--skip-dev-loop")
    } else {
        runtime.block_on(dev_loop::measure(
            &root,
            &dev_loop::Plan {
                saves: args.saves,
                cloud: !args.skip_deploy,
                first_run: args.first_run,
            },
        ))
    };

    let sizes = Sizes {
        arch: arch.lambda_name().into(),
        zip_bytes: artifact.zip_bytes,
        binary_bytes: artifact.binary_bytes,
    };
    let mut targets = Report::checks(&cold, &warm, &sizes, &synth, &deploy, &migration);
    targets.extend(dev_loop.checks());
    let report = Report {
        generated_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        machine,
        environment: args.env.clone(),
        bootstrap: binary
            .strip_prefix(&root)
            .unwrap_or(binary)
            .display()
            .to_string(),
        artifact: sizes,
        cold_start: cold,
        warm,
        events,
        synth,
        deploy,
        migration,
        dev_loop,
        targets,
        wall_seconds: started.elapsed().as_secs_f64(),
    };
    let path = state.join("report.json");
    std::fs::create_dir_all(&state).with_context(|| format!("creating {}", state.display()))?;
    std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    print!("{}", report.table());
    println!(
        "Bench wall time {:.0} s; all numbers in {}",
        report.wall_seconds,
        path.strip_prefix(&root).unwrap_or(&path).display()
    );
    // A missed target is a finding, not a failure: the exit code stays 0.
    Ok(())
}

/// Cold starts, then warm latency and memory, against a fresh embedded DynamoDB.
async fn measure_function(
    args: &Args,
    template: &LocalTemplate,
    binary: &Path,
    state: &Path,
) -> Result<(cold_start::ColdStarts, Warm)> {
    let database = state.join("dynamo.db");
    // Every run starts empty.
    remove_database(&database)?;
    let (dynamo, tables) = LocalDynamo::start(&database, template).await?;
    let table = tables
        .first()
        .context("the template has no DynamoDB table")?
        .name
        .clone();
    let (function, _) = template.api_function()?;
    let (config, _) = function_config(template, function, binary, &dynamo.endpoint, Logs::Discard)?;

    let pool = Arc::new(Pool::new(config.clone(), 1));
    let (_, pid) = pool.warm().await.context("starting the function")?;
    let pid = pid.context("the function has no process id")?;
    let workload = workload::prepare(template, &state.join("auth"), pool.clone()).await?;

    let cold = cold_start::measure(&config, &workload.get, 200, args.cold_starts).await?;

    eprintln!(
        "xtask: bench: warm latency, {} invocations each of get-by-id, create, list and preflight",
        args.invocations
    );
    let raw = raw_dynamo::RawDynamo::connect(&dynamo.endpoint, &template.region, &table).await;
    let warmup = (args.invocations / 10).max(10);
    let operations =
        latency::measure(&pool, pid, &raw, &workload, args.invocations, warmup).await?;
    let preflight = latency::floor(&pool, pid, &workload, args.invocations, warmup).await?;
    let warm = Warm {
        invocations: args.invocations,
        warmup,
        seeded_tickets: workload::SEED_TICKETS,
        operations,
        preflight,
        peak_rss_kib: process::peak_rss_kib(pid)?,
    };
    pool.shutdown().await;
    dynamo.stop().await?;
    Ok((cold, warm))
}
