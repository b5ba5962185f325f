//! `cargo xtask migrate`: the original Node.js function's tickets (`dyn-tickets`, key `id`)
//! into a stack's table, without loss, resumably, verified.
//!
//! A run is up to four passes over the source, each a parallel `Scan`:
//! 1. without `--skip-invalid` or `--repair`, a check that maps every item and stops before
//!    writing anything if one does not fit (exit 3, with the report);
//! 2. the copy ([`copy`]): conditional writes, a checkpoint per segment after each page;
//! 3. the verification ([`verify`]): counts per status, a digest of every ticket, a sample
//!    compared field by field (exit 5 when they disagree).
//!
//! `--dry-run` is the check alone. How an item maps, and what `--repair` may fix, is in
//! [`mapping`]; the README's "Migrating from the original" walks through a cut-over.

mod checkpoint;
mod copy;
mod mapping;
mod pacer;
mod progress;
mod report;
mod tables;
mod verify;

use crate::aws::cloudformation::Cfn;
use crate::aws::target::{Context, Target};
use anyhow::{Context as _, Result, anyhow, bail};
use checkpoint::{CheckpointFile, Run, Segment};
use copy::{Pass, Writes};
use pacer::Pacer;
use progress::Progress;
use report::Report;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tables::Table;
use tickets_domain::Timestamp;
use tickets_infra::Environment;
use xtask_core::outcome::{interrupted, refused};
use xtask_core::tools::workspace::{root, shown, state_dir};

/// How far before the last finished run's start `--since checkpoint` looks: the old
/// function's clock and this machine's may disagree by that much.
const CLOCK_MARGIN_MINUTES: i64 = 5;

/// Arguments of `migrate`.
#[derive(clap::Args)]
pub struct Args {
    /// The stack whose table receives the tickets (its `TableName` output).
    #[command(flatten)]
    target: Target,
    /// The original table (key `id`).
    #[arg(long, value_name = "TABLE")]
    from_table: String,
    /// Its region [default: the environment's].
    #[arg(long, value_name = "REGION")]
    from_region: Option<String>,
    /// The AWS profile that reaches it, when it is in another account.
    #[arg(long, value_name = "PROFILE", conflicts_with = "from_endpoint")]
    from_profile: Option<String>,
    /// Another endpoint for the source only (an emulator, a copy).
    #[arg(long, value_name = "URL")]
    from_endpoint: Option<String>,
    /// Write to this table instead of the stack's (with --to-endpoint: no stack, no account check).
    #[arg(long, value_name = "TABLE")]
    to_table: Option<String>,
    /// Another endpoint for the target only (an emulator); needs --to-table.
    #[arg(long, value_name = "URL", requires = "to_table")]
    to_endpoint: Option<String>,
    /// Read and check every item, write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Continue the unfinished run recorded in the checkpoint.
    #[arg(long, conflicts_with = "since")]
    resume: bool,
    /// Copy what fits and report the rest, instead of stopping before writing.
    #[arg(long)]
    skip_invalid: bool,
    /// Repair what can be repaired safely (see the README), skip and report the rest.
    #[arg(long)]
    repair: bool,
    /// A catch-up run: only items whose updatedAt is after this (`checkpoint`: the last
    /// finished run's start, less 5 minutes; or an RFC 3339 time); a ticket changed in the
    /// source replaces the target's unless the new API has written it.
    #[arg(long, value_name = "checkpoint|TIME")]
    since: Option<String>,
    /// Parallel scan segments.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1000))]
    segments: u32,
    /// Most write requests in flight, a transaction of up to 25 tickets being one (halved
    /// while DynamoDB throttles).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1000))]
    concurrency: u32,
    /// Tickets compared field by field by the verification.
    #[arg(long, default_value_t = 200)]
    sample: usize,
    /// Skip the copy; only verify.
    #[arg(long, conflicts_with_all = ["dry_run", "resume", "since"])]
    verify_only: bool,
    /// Skip the verification pass (the run then ends "copied", exit 0).
    #[arg(long, conflicts_with = "verify_only")]
    no_verify: bool,
    /// Print one JSON report on stdout (progress stays on stderr).
    #[arg(long)]
    json: bool,
    /// Items per Scan page (and per checkpoint).
    #[arg(long, hide = true, default_value_t = 500, value_parser = clap::value_parser!(i32).range(1..=10_000))]
    page_size: i32,
    /// How often, in milliseconds, the progress line is drawn [default: 100 on a terminal,
    /// 10 000 otherwise].
    #[arg(long, hide = true, value_name = "MS")]
    progress_every: Option<u64>,
    /// Where checkpoints and reports go [default: .tickets/migrate].
    #[arg(long, hide = true, env = "TICKETS_MIGRATE_DIR")]
    checkpoint_dir: Option<PathBuf>,
}

/// The run copied but the tables do not agree: exit code 5.
#[derive(Debug)]
pub struct NotVerified(String);

impl std::fmt::Display for NotVerified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for NotVerified {}

/// The exit code of a migration that ran but did not verify.
pub const NOT_VERIFIED: u8 = 5;

/// The stack's table, from its recorded outputs or CloudFormation.
async fn stack_table(ctx: &Context) -> Result<String> {
    let outputs = match ctx.stack.read_outputs() {
        Ok(outputs) => outputs,
        Err(_) => {
            let state = Cfn::new(&ctx.config)
                .describe(ctx.stack.as_str())
                .await?
                .ok_or_else(|| {
                    anyhow!(
                        "stack {} does not exist: deploy it first (`cargo xtask deploy {}`), or name a table with --to-table",
                        ctx.stack,
                        ctx.target.flags()
                    )
                })?;
            ctx.stack.write_outputs(&state.outputs)?;
            state.outputs
        }
    };
    outputs
        .get("TableName")
        .cloned()
        .with_context(|| format!("stack {} has no TableName output", ctx.stack))
}

/// `text` (RFC 3339) less the clock margin.
fn before(text: &str) -> Result<Timestamp> {
    use time::format_description::well_known::Rfc3339;
    let at = time::OffsetDateTime::parse(text, &Rfc3339)
        .with_context(|| format!("the checkpoint's time {text:?} is not RFC 3339"))?;
    let earlier = (at - time::Duration::minutes(CLOCK_MARGIN_MINUTES)).format(&Rfc3339)?;
    Timestamp::parse(&earlier).context("a time before the checkpoint")
}

/// Runs the migration and prints its report.
pub async fn run(args: Args) -> Result<()> {
    let config_root = args.target.config_root.clone().unwrap_or_else(root);
    let env = Environment::load(&config_root, &args.target.env)?;
    let region = env.region.as_str().to_owned();
    let target = match (&args.to_table, &args.to_endpoint) {
        (Some(table), Some(endpoint)) => {
            let config = tables::config(&region, None, Some(endpoint)).await;
            Table::new(&config, table, &region, Some(endpoint))
        }
        _ => {
            let ctx = Context::open(&args.target).await?;
            let table = match &args.to_table {
                Some(table) => table.clone(),
                None => stack_table(&ctx).await?,
            };
            Table::new(&ctx.config, &table, &region, None)
        }
    };
    let source_region = args.from_region.clone().unwrap_or_else(|| region.clone());
    let source_config = tables::config(
        &source_region,
        args.from_profile.as_deref(),
        args.from_endpoint.as_deref(),
    )
    .await;
    let source = Table::new(
        &source_config,
        &args.from_table,
        &source_region,
        args.from_endpoint.as_deref(),
    );
    if source.place == target.place {
        bail!(
            "the source and the target are the same table, {}",
            source.place
        );
    }
    let approximate = source.check_source().await?;
    target.check_target().await?;

    let actor = format!("migration:{}", args.from_table);
    let mode = if args.repair {
        "repair"
    } else if args.skip_invalid {
        "skip-invalid"
    } else {
        "strict"
    };
    let dir = args
        .checkpoint_dir
        .clone()
        .unwrap_or_else(|| state_dir().join("migrate"));
    let path = CheckpointFile::path_in(&dir, &source.name, &target.name);
    let report_path = path.with_extension("report.json");
    let mut checkpoint = CheckpointFile::open(path.clone(), &source.place, &target.place)?;

    let unfinished = checkpoint
        .data
        .run
        .clone()
        .filter(|run| run.finished_at.is_none());
    let resumed = if args.resume {
        let run = unfinished.clone().ok_or_else(|| {
            anyhow!(
                "nothing to resume: {} records no unfinished run; run without --resume",
                shown(&path)
            )
        })?;
        eprintln!(
            "xtask: resuming the run started at {} ({} of {} segments done)",
            run.started_at,
            run.segments.iter().filter(|s| s.done).count(),
            run.segments.len()
        );
        Some(run)
    } else {
        if let Some(run) = &unfinished
            && !args.dry_run
            && !args.verify_only
        {
            eprintln!(
                "xtask: {} holds an unfinished run from {}; starting over (--resume would continue it; nothing is copied twice either way)",
                shown(&path),
                run.started_at
            );
        }
        None
    };
    let since = match (&resumed, args.since.as_deref()) {
        (Some(run), _) => run.since.as_deref().map(before_exact).transpose()?,
        (None, None) => None,
        (None, Some("checkpoint")) => {
            let start = checkpoint.data.last_finished_start.as_deref().ok_or_else(|| {
                anyhow!(
                    "--since checkpoint: {} records no finished run; run the full migration first, or give a time",
                    shown(&path)
                )
            })?;
            Some(before(start)?)
        }
        (None, Some(text)) => Some(Timestamp::parse(text).with_context(|| {
            format!(
                "--since {text:?}: give `checkpoint` or an RFC 3339 time like 2024-03-05T10:00:00Z"
            )
        })?),
    };
    let segments = resumed
        .as_ref()
        .map_or(args.segments as usize, |run| run.segments.len());
    let mut report = Report {
        outcome: "copied",
        source: source.place.clone(),
        target: target.place.clone(),
        mode,
        dry_run: args.dry_run,
        resumed: resumed.is_some(),
        since: since.map(|t| t.to_string()),
        actor: actor.clone(),
        counts: Default::default(),
        seconds: 0.0,
        items_per_second: 0.0,
        throttled: 0,
        lowest_concurrency: u64::from(args.concurrency),
        invalid: Vec::new(),
        repaired: Vec::new(),
        conflicts: Vec::new(),
        extra_fields: Default::default(),
        checkpoint: None,
        verification: None,
    };
    let pass =
        |writes: Writes, label: &'static str, total: u64, checkpoint: Option<CheckpointFile>| {
            Arc::new(Pass {
                source: source.clone(),
                target: target.clone(),
                actor: actor.clone(),
                repair: args.repair,
                writes,
                since,
                page_size: args.page_size,
                pacer: Pacer::new(args.concurrency as usize),
                progress: Progress::new(
                    label,
                    Some(total),
                    args.progress_every.map(std::time::Duration::from_millis),
                ),
                checkpoint: checkpoint.map(Mutex::new),
            })
        };

    // 1. The check: a dry run, or the run that must not write if anything is malformed.
    if args.dry_run || (mode == "strict" && !args.verify_only && resumed.is_none()) {
        let check = pass(Writes::None, "checking", approximate, None);
        let segments = interruptible(check.run(vec![Segment::default(); segments])).await?;
        check.progress.finish();
        report.collect(&segments);
        report.seconds = check.progress.seconds();
        report.items_per_second = check.progress.rate();
        let malformed = report.counts.invalid;
        if args.dry_run || (malformed > 0 && mode == "strict") {
            let refuse = malformed > 0 && mode == "strict";
            report.outcome = if refuse { "refused" } else { "dry_run" };
            print(&report, &report_path, args.json)?;
            if refuse {
                return Err(refused(format!(
                    "{malformed} item(s) do not fit the new model, so nothing was written: fix them in the source, \
                     or rerun with --repair (repairs what is safe, skips the rest) or --skip-invalid"
                )));
            }
            return Ok(());
        }
        report = Report {
            invalid: Vec::new(),
            repaired: Vec::new(),
            conflicts: Vec::new(),
            extra_fields: Default::default(),
            counts: Default::default(),
            ..report
        };
    }

    // 2. The copy, from the checkpoint.
    if !args.verify_only {
        let run = resumed.unwrap_or_else(|| Run {
            started_at: Timestamp::now().to_string(),
            since: since.map(|t| t.to_string()),
            mode: mode.to_owned(),
            segments: vec![Segment::default(); segments],
            finished_at: None,
        });
        let done_before = copy::total(&run.segments).scanned;
        checkpoint.data.run = Some(run.clone());
        checkpoint.save()?;
        let writes = if since.is_some() {
            Writes::CatchUp
        } else {
            Writes::New
        };
        let copy = pass(
            writes,
            "migrating",
            approximate.saturating_sub(done_before),
            Some(checkpoint),
        );
        let ended = interruptible(copy.run(run.segments.clone())).await;
        copy.progress.finish();
        let ended = ended?;
        {
            let mut file = copy
                .checkpoint
                .as_ref()
                .expect("a checkpoint")
                .lock()
                .expect("checkpoint");
            let finished = Timestamp::now().to_string();
            if let Some(run) = &mut file.data.run {
                run.finished_at = Some(finished);
                file.data.last_finished_start = Some(run.started_at.clone());
            }
            file.save()?;
        }
        report.collect(&ended);
        report.seconds = copy.progress.seconds();
        report.items_per_second = copy.progress.rate();
        report.throttled = copy.pacer.throttles();
        report.lowest_concurrency = copy.pacer.lowest() as u64;
        report.checkpoint = Some(shown(&path));
    }

    // 3. The verification.
    if !args.no_verify {
        eprintln!(
            "xtask: verifying: counts per status, every ticket's digest, a sample of {} field by field",
            args.sample
        );
        let verification = interruptible(verify::verify(
            &source,
            &target,
            &actor,
            args.repair,
            segments,
            args.sample,
        ))
        .await?;
        report.outcome = if verification.verified {
            "verified"
        } else {
            "not_verified"
        };
        report.verification = Some(verification);
    }
    print(&report, &report_path, args.json)?;
    if report.outcome == "not_verified" {
        return Err(NotVerified(format!(
            "the target does not match the source (see the verification above{}): rerun without \
             --verify-only to copy what is missing, run a catch-up (--since checkpoint) for what \
             changed in the source, and settle each conflict by hand",
            if report.conflicts.is_empty() {
                ""
            } else {
                " and the conflicts"
            }
        ))
        .into());
    }
    Ok(())
}

/// A time the checkpoint recorded, as it is.
fn before_exact(text: &str) -> Result<Timestamp> {
    Timestamp::parse(text)
        .with_context(|| format!("the checkpoint's time {text:?} is not RFC 3339"))
}

/// Stops at Ctrl-C; the checkpoint holds every page whose writes completed.
async fn interruptible<T>(work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::select! {
        done = work => done,
        _ = tokio::signal::ctrl_c() => Err(interrupted(
            "interrupted; the checkpoint holds every finished page: rerun with --resume to continue",
        )),
    }
}

/// Writes the report file and prints the report.
fn print(report: &Report, path: &std::path::Path, json: bool) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(report)?;
    std::fs::write(path, text.clone() + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    if json {
        println!("{text}");
    } else {
        print!("{}", report.text(Some(&shown(path))));
    }
    Ok(())
}
