//! `cargo xtask promote`: deploy to one environment exactly the artifacts another runs.

use crate::aws::build_profile;
use crate::aws::cloudformation::Cfn;
use crate::aws::rollout::{ArtifactReport, rollout};
use crate::aws::target::{Context, Safety, Target};
use anyhow::{Context as _, Result};
use std::collections::BTreeMap;
use tickets_infra::stack::parameter::{ARTIFACT_BUCKET, ARTIFACT_KEY};
use tickets_manifest::functions::FUNCTIONS;
use xtask_core::outcome::refused;

/// Arguments of `promote`.
#[derive(clap::Args)]
pub struct Args {
    /// Environment whose deployed artifact is promoted.
    #[arg(long)]
    from: String,
    /// Environment that receives it.
    #[arg(long)]
    to: String,
    /// Promote between personal stacks `tickets-<env>-<owner>`.
    #[arg(long)]
    owner: Option<String>,
    #[command(flatten)]
    safety: Safety,
}

/// Reads the source stack's artifact and rolls it out to the target, without building.
pub async fn run(args: Args) -> Result<()> {
    let config_root = std::env::var_os("TICKETS_CONFIG_ROOT").map(Into::into);
    let source_target = Target {
        env: args.from.clone(),
        owner: args.owner.clone(),
        stack_name: None,
        config_root: config_root.clone(),
    };
    let target = Target {
        env: args.to.clone(),
        owner: args.owner.clone(),
        stack_name: None,
        config_root,
    };
    let source = Context::open(&source_target).await?;
    let Some(state) = Cfn::new(&source.config)
        .describe(source.stack.as_str())
        .await?
    else {
        return Err(refused(format!(
            "cannot promote from {}: stack {} does not exist; deploy it first",
            args.from, source.stack
        )));
    };
    if !state.complete() {
        return Err(refused(format!(
            "cannot promote from {}: stack {} is {}, not in a complete state",
            args.from, source.stack, state.status
        )));
    }
    let bucket = state
        .parameters
        .get(ARTIFACT_BUCKET)
        .context("the source stack has no ArtifactBucket parameter")?;
    let mut keys = BTreeMap::new();
    for function in FUNCTIONS {
        let Some(key) = state.parameters.get(function.artifact_parameter) else {
            return Err(refused(format!(
                "cannot promote from {}: stack {} has no {} artifact ({}), it predates that function; deploy it first",
                args.from, source.stack, function.name, function.artifact_parameter
            )));
        };
        eprintln!(
            "xtask: promoting s3://{bucket}/{key} from {} to {}",
            source.stack, args.to
        );
        keys.insert(function.artifact_parameter.to_owned(), key.clone());
    }

    build_profile::require_release(
        &source.config,
        bucket,
        keys.values(),
        &format!("a promotion to {}", args.to),
    )
    .await?;

    let ctx = Context::open(&target).await?;
    let target_bucket = ctx.bucket();
    let mut uploaded = false;
    for key in keys.values() {
        if target_bucket.name == *bucket {
            if !target_bucket.contains(key).await? {
                return Err(refused(format!(
                    "the source's artifact s3://{bucket}/{key} is gone; redeploy {} first",
                    args.from
                )));
            }
        } else {
            // Another account or region: the artifact is copied as it is, never rebuilt.
            target_bucket.ensure().await?;
            uploaded |= target_bucket.copy_from(bucket, key).await?;
        }
    }
    let template = tickets_infra::ticket_stack(&ctx.env).to_json_compact();
    let artifact = ArtifactReport {
        bucket: target_bucket.name.clone(),
        key: keys.get(ARTIFACT_KEY).cloned().unwrap_or_default(),
        keys,
        uploaded,
    };
    rollout(&ctx, &template, artifact, &args.safety).await
}
