//! `cargo xtask deploy`: build, upload, then roll out (diff, change set, events, outputs).

use crate::aws::artifact_bucket;
use crate::aws::rollout::{self, ArtifactReport};
use crate::aws::target::{Context, Safety, Target};
use anyhow::{Context as _, Result};
use std::path::PathBuf;
use xtask_core::lambda::arch::Arch;
use xtask_core::lambda::artifact::{self, human_bytes};

/// Arguments of `deploy`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    safety: Safety,
    /// Deploy this synthesized JSON template instead of synthesizing one (`synth --out`).
    #[arg(long, value_name = "PATH")]
    template: Option<PathBuf>,
}

/// Runs `deploy`.
pub async fn run(args: Args) -> Result<()> {
    let ctx = Context::open(&args.target).await?;
    eprintln!(
        "xtask: deploying stack {} (environment {}) to account {}, region {}",
        ctx.stack,
        ctx.env.name,
        ctx.account,
        ctx.env.region.as_str()
    );
    let arch = Arch::from(ctx.env.lambda.architecture);
    let built = tokio::task::spawn_blocking(move || artifact::build(arch)).await??;
    let bucket = ctx.bucket()?;
    bucket.ensure().await?;
    let key = artifact_bucket::key(&built.sha256);
    let uploaded = bucket.upload(&built.zip, &key).await?;
    eprintln!(
        "xtask: artifact s3://{}/{key} ({}){}",
        bucket.name,
        human_bytes(built.zip_bytes),
        if uploaded {
            " uploaded"
        } else {
            " already there"
        }
    );
    let template = match &args.template {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => tickets_infra::ticket_stack(&ctx.env).to_json_compact(),
    };
    let artifact = ArtifactReport {
        bucket: bucket.name.clone(),
        key,
        uploaded,
    };
    rollout::rollout(&ctx, &template, artifact, &args.safety).await
}
