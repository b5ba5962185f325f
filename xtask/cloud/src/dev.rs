//! `cargo xtask dev --env dev --owner NAME`: the inner loop against a personal stack. The
//! first run deploys if the stack does not exist; then every save of the function's sources
//! builds with the dev profile and swaps the code in with `UpdateFunctionCode` (no S3, no
//! CloudFormation), and every save under `infra/` or of the environment's file deploys the
//! stack (`deploy --profile dev`, rebuilt, since infra's code is compiled in). Shared stacks (no `--owner`), staging and prod are refused:
//! they change only through `deploy` and `promote`.

use crate::aws::cloudformation::Cfn;
use crate::aws::target::{Context, Safety, Target};
use crate::aws::{build_profile, hot_swap, rollout, upload};
use anyhow::{Context as _, Result, ensure};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tickets_manifest::functions::FUNCTIONS;
use xtask_core::lambda::arch::Arch;
use xtask_core::lambda::artifact;
use xtask_core::lambda::profile::Profile;
use xtask_core::lambda::zip_archive::write_zip;
use xtask_core::outcome::refused;
use xtask_core::tools::cargo::run_tool;
use xtask_core::tools::digest::sha256_hex;
use xtask_core::tools::source_watch::{self, Snapshot};
use xtask_core::tools::workspace::root;

/// Arguments of `dev`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    /// Swap the code in once and exit (scripts, benchmarks) instead of watching for saves.
    #[arg(long)]
    once: bool,
    /// Do not stream the function's log lines into this terminal.
    #[arg(long)]
    no_logs: bool,
    /// The workspace whose function is built and watched [default: this one]; for
    /// `bench`, which edits a copy.
    #[arg(long, hide = true)]
    workspace: Option<PathBuf>,
}

/// Deploys if needed, swaps the current code in, then follows saves until Ctrl-C.
pub async fn run(args: Args) -> Result<()> {
    if args.target.owner.is_none() {
        return Err(refused(format!(
            "dev swaps code into a personal stack, and {} is shared: add --owner NAME (your own \
             stack, tickets-{}-NAME); a shared stack changes only through `cargo xtask deploy`",
            args.target.stack()?,
            args.target.env
        )));
    }
    let ctx = Context::open(&args.target).await?;
    if build_profile::takes_release_only(&ctx.env) {
        return Err(refused(format!(
            "dev does not swap code into {} stacks: they run release builds through `cargo xtask deploy` and `promote` only",
            ctx.env.name
        )));
    }
    let cfn = Cfn::new(&ctx.config);
    if cfn.describe(ctx.stack.as_str()).await?.is_none() {
        eprintln!(
            "xtask: {} does not exist yet: deploying it first (dev profile)",
            ctx.stack
        );
        roll_out(&ctx).await?;
    }
    let workspace = args.workspace.clone().unwrap_or_else(root);
    let mut running = running_code(&ctx, &cfn).await?;
    swap_changed(&ctx, &cfn, &mut running, &workspace).await?;
    if args.once {
        return Ok(());
    }
    let code = code_roots(&workspace);
    let template = template_roots(&workspace, &ctx.env.name);
    let every: Vec<PathBuf> = code.iter().chain(&template).cloned().collect();
    let mut snapshot = Snapshot::take(&every);
    // The function's lines in this terminal, as `cargo xtask logs --follow` shows them.
    let _logs = if args.no_logs {
        None
    } else {
        Some(follow_logs(&ctx.target)?)
    };
    eprintln!(
        "xtask: watching function/, infra/ and environments/{}.yaml; Ctrl-C stops{}",
        ctx.env.name,
        if args.no_logs {
            ""
        } else {
            " (the function's log lines follow here)"
        }
    );
    loop {
        tokio::select! {
            changed = source_watch::next_change(&every, &mut snapshot) => {
                let result = if changed.iter().any(|p| template.iter().any(|t| p.starts_with(t))) {
                    eprintln!("xtask: the template's sources changed: deploying the stack");
                    match redeploy(&workspace, &ctx.target).await {
                        Ok(()) => running_code(&ctx, &cfn).await.map(|r| running = r),
                        Err(err) => Err(err),
                    }
                } else {
                    swap_changed(&ctx, &cfn, &mut running, &workspace).await
                };
                // A failed build or swap leaves the stack as it was: say why and keep watching.
                if let Err(err) = result {
                    eprintln!("xtask: error: {err:#}\nxtask: the stack keeps its previous code; save again to retry");
                }
            }
            _ = tokio::signal::ctrl_c() => {
                eprintln!("xtask: stopped; the stack keeps the swapped code until `cargo xtask deploy`");
                return Ok(());
            }
        }
    }
}

/// Builds with the dev profile, uploads, and rolls out; the code then is what the stack declares.
async fn roll_out(ctx: &Context) -> Result<()> {
    let artifact = upload::build_and_upload(ctx, Profile::Dev).await?;
    let template = tickets_infra::ticket_stack(&ctx.env).to_json_compact();
    rollout::rollout(ctx, &template, artifact, &Safety::default()).await?;
    hot_swap::reconcile(ctx).await
}

/// `logs --follow` for `target`, run by this binary; stopped when dropped.
fn follow_logs(target: &Target) -> Result<tokio::process::Child> {
    tokio::process::Command::new(std::env::current_exe()?)
        .arg("logs")
        .args(target.flags().split(' '))
        .arg("--follow")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("starting `logs --follow`")
}

/// `cargo xtask deploy --profile dev` of the workspace as it is now: this process holds the
/// infra code and environment it started with, so a rebuilt `deploy` renders the template.
async fn redeploy(workspace: &Path, target: &Target) -> Result<()> {
    let status = tokio::process::Command::from(run_tool(workspace, "xtask-cloud"))
        .arg("deploy")
        .args(target.flags().split(' '))
        .args(["--profile", "dev", "--yes"])
        .kill_on_drop(true)
        .status()
        .await
        .context("running cargo")?;
    ensure!(
        status.success(),
        "the deploy failed (see above); the stack keeps what it ran"
    );
    Ok(())
}

/// The SHA-256 of the zip each function runs: the swapped one, or the declared artifact's
/// (its key is `<function>/<sha256>.zip`).
async fn running_code(ctx: &Context, cfn: &Cfn) -> Result<BTreeMap<&'static str, String>> {
    let swapped = hot_swap::load(ctx)?;
    let state = cfn.describe(ctx.stack.as_str()).await?;
    let mut running = BTreeMap::new();
    for function in FUNCTIONS {
        let sha = swapped
            .get(function.name)
            .map(|s| s.sha256.clone())
            .or_else(|| {
                state
                    .as_ref()?
                    .parameters
                    .get(function.artifact_parameter)?
                    .rsplit('/')
                    .next()?
                    .strip_suffix(".zip")
                    .map(str::to_owned)
            });
        if let Some(sha) = sha {
            running.insert(function.name, sha);
        }
    }
    Ok(running)
}

/// Builds every function with the dev profile and swaps in those whose zip changed.
async fn swap_changed(
    ctx: &Context,
    cfn: &Cfn,
    running: &mut BTreeMap<&'static str, String>,
    workspace: &Path,
) -> Result<()> {
    let started = Instant::now();
    let names = hot_swap::function_names(ctx, cfn).await?;
    let arch = Arch::from(ctx.env.lambda.architecture);
    let mut timings = Vec::new();
    for function in FUNCTIONS {
        let Some(name) = names.get(function.name) else {
            continue;
        };
        let build_started = Instant::now();
        let (function, workspace) = (*function, workspace.to_path_buf());
        let binary = tokio::task::spawn_blocking(move || {
            artifact::compile_function_in(&workspace, function, arch, Profile::Dev)
        })
        .await??;
        let build = build_started.elapsed();
        let zip_started = Instant::now();
        let bytes = std::fs::read(&binary)?;
        let zip_path = artifact::zip_path_of(function)?.with_file_name("bootstrap-dev.zip");
        write_zip(&zip_path, &bytes)?;
        let zip = std::fs::read(&zip_path)?;
        let sha256 = sha256_hex(&zip);
        let zip_time = zip_started.elapsed();
        if running.get(function.name) == Some(&sha256) {
            continue;
        }
        let swap_started = Instant::now();
        hot_swap::swap(ctx, name, zip).await?;
        let swap_time = swap_started.elapsed();
        hot_swap::record(
            ctx,
            function.name,
            hot_swap::Swapped {
                sha256: sha256.clone(),
                profile: Profile::Dev.name().to_owned(),
                at: now_rfc3339(),
            },
        )?;
        running.insert(function.name, sha256);
        timings.push(format!(
            "{} (build {:.1}s, zip {:.1}s, upload and update {:.1}s)",
            function.name,
            build.as_secs_f64(),
            zip_time.as_secs_f64(),
            swap_time.as_secs_f64()
        ));
    }
    if timings.is_empty() {
        eprintln!(
            "xtask: no code change to swap ({:.1}s)",
            started.elapsed().as_secs_f64()
        );
    } else {
        eprintln!(
            "xtask: ready in {:.1}s: {}",
            started.elapsed().as_secs_f64(),
            timings.join(", ")
        );
    }
    Ok(())
}

/// The function's sources (every crate under `function/`) and the lock file.
fn code_roots(root: &Path) -> Vec<PathBuf> {
    vec![root.join("function"), root.join("Cargo.lock")]
}

/// What the template is made of.
fn template_roots(root: &Path, env: &str) -> Vec<PathBuf> {
    vec![
        root.join("infra").join("src"),
        root.join("function").join("manifest"),
        root.join("environments").join(format!("{env}.yaml")),
    ]
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
