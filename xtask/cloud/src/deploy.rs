//! `cargo xtask deploy`: build and upload every function, then roll out (diff, change set, events, outputs).

use crate::aws::rollout;
use crate::aws::target::{Context, Safety, Target};
use crate::aws::{build_profile, hot_swap, upload};
use anyhow::{Context as _, Result};
use std::path::PathBuf;
use xtask_core::lambda::profile::Profile;
use xtask_core::outcome::refused;

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
    /// Build profile: `dev` builds in seconds after a change, for personal dev stacks
    /// (staging and prod take release builds only).
    #[arg(long, value_enum, default_value = "release")]
    profile: Profile,
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
    if args.profile != Profile::Release && build_profile::takes_release_only(&ctx.env) {
        return Err(refused(format!(
            "{} takes release builds only: deploy it without --profile {}",
            ctx.env.name,
            args.profile.name()
        )));
    }
    if let Some(drift) = hot_swap::describe(&hot_swap::load(&ctx)?) {
        eprint!("{drift}");
    }
    let artifact = upload::build_and_upload(&ctx, args.profile).await?;
    let template = match &args.template {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => tickets_infra::ticket_stack(&ctx.env).to_json_compact(),
    };
    rollout::rollout(&ctx, &template, artifact, &args.safety).await?;
    hot_swap::reconcile(&ctx).await
}
