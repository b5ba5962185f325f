//! `cargo xtask promote`: deploy to one environment exactly the artifact another one ran.
//!
//! A pipeline names the artifact it tested (`--artifact-key`, or `--from-report` with the
//! source deploy's `--json` report) and runs with the target account's credentials only:
//! the source account's artifact bucket lets the accounts the environments pin read it
//! (its policy, written by every deploy there), and the target copies it into its own
//! bucket. Without either flag, the artifact the source stack runs now is read, which
//! needs the source to live in the same account.

use crate::aws::artifact_bucket::{self, bucket_name};
use crate::aws::cloudformation::Cfn;
use crate::aws::rollout::{ArtifactReport, rollout};
use crate::aws::target::{Context, Safety, Target};
use anyhow::{Context as _, Result};
use std::path::PathBuf;
use tickets_infra::Environment;
use tickets_infra::stack::parameter::{ARTIFACT_BUCKET, ARTIFACT_KEY};
use xtask_core::lambda::arch::Arch;
use xtask_core::outcome::refused;

/// Arguments of `promote`.
#[derive(clap::Args)]
pub struct Args {
    /// Environment whose artifact is promoted.
    #[arg(long)]
    from: String,
    /// Environment that receives it.
    #[arg(long)]
    to: String,
    /// Promote between personal stacks `tickets-<env>-<owner>`.
    #[arg(long)]
    owner: Option<String>,
    /// The artifact's key in the source environment's artifact bucket (the `artifact.key`
    /// of its deploy's `--json` report).
    #[arg(long, value_name = "KEY", conflicts_with = "from_report")]
    artifact_key: Option<String>,
    /// The source deploy's `--json` report, naming the artifact it deployed.
    #[arg(long, value_name = "PATH")]
    from_report: Option<PathBuf>,
    #[command(flatten)]
    safety: Safety,
}

/// The artifact to promote: where it is.
struct Source {
    bucket: String,
    key: String,
}

/// Finds the source's artifact and rolls it out to the target, without building.
pub async fn run(args: Args) -> Result<()> {
    let config_root = std::env::var_os("TICKETS_CONFIG_ROOT").map(Into::into);
    let target = Target {
        env: args.to.clone(),
        owner: args.owner.clone(),
        stack_name: None,
        config_root,
    };
    let ctx = Context::open(&target).await?;
    let source_env = Environment::load(&ctx.config_root(), &args.from)
        .with_context(|| format!("reading environments/{}.yaml", args.from))?;
    let source = match (&args.artifact_key, &args.from_report) {
        (Some(key), _) => Source {
            bucket: source_bucket(&ctx, &source_env),
            key: key.clone(),
        },
        (None, Some(path)) => from_report(path)?,
        (None, None) => deployed_artifact(&ctx, &args, &source_env).await?,
    };
    eprintln!(
        "xtask: promoting s3://{}/{} from {} to {}",
        source.bucket, source.key, args.from, ctx.stack
    );

    let s3 = aws_sdk_s3::Client::new(&ctx.config);
    let target_bucket = ctx.bucket()?;
    if !artifact_bucket::exists(&s3, &source.bucket, &source.key, None).await? {
        return Err(if target_bucket.name == source.bucket {
            refused(format!(
                "the artifact s3://{}/{} is not there; deploy {} first",
                source.bucket, source.key, args.from
            ))
        } else {
            unreadable(&ctx, &source)
        });
    }
    let built_for = artifact_bucket::architecture(&s3, &source.bucket, &source.key).await?;
    let wanted = Arch::from(ctx.env.lambda.architecture).lambda_name();
    match built_for.as_deref() {
        Some(arch) if arch != wanted => {
            return Err(refused(format!(
                "refusing to promote s3://{}/{}: it was built for {arch}, but environments/{}.yaml runs {wanted}; \
                 build for {wanted} (deploy {} with the same architecture) or change lambda.architecture",
                source.bucket, source.key, args.to, args.from
            )));
        }
        Some(_) => {}
        None => eprintln!(
            "xtask: warning: s3://{}/{} does not record its architecture (uploaded by an older xtask); assuming {wanted}",
            source.bucket, source.key
        ),
    }

    let uploaded = if target_bucket.name == source.bucket {
        false
    } else {
        // Another account or region: the artifact is copied as it is, never rebuilt.
        target_bucket.ensure().await?;
        target_bucket.copy_from(&source.bucket, &source.key).await?
    };
    let template = tickets_infra::ticket_stack(&ctx.env).to_json_compact();
    let artifact = ArtifactReport {
        bucket: target_bucket.name.clone(),
        key: source.key.clone(),
        uploaded,
    };
    rollout(&ctx, &template, artifact, &args.safety).await
}

/// The source environment's artifact bucket: in the account it pins, or else this one.
fn source_bucket(ctx: &Context, source: &Environment) -> String {
    let account = source
        .account_id
        .as_ref()
        .map_or(ctx.account.as_str(), |a| a.as_str());
    bucket_name(account, source.region.as_str())
}

/// The artifact a `deploy --json` report names.
fn from_report(path: &PathBuf) -> Result<Source> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let report: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a deploy --json report", path.display()))?;
    let field = |name: &str| {
        report["artifact"][name]
            .as_str()
            .map(str::to_owned)
            .with_context(|| {
                format!(
                    "{} has no artifact.{name}: pass the report `deploy --json` printed",
                    path.display()
                )
            })
    };
    Ok(Source {
        bucket: field("bucket")?,
        key: field("key")?,
    })
}

/// The artifact the source stack runs now, read with the target's credentials (so only
/// when both live in one account).
async fn deployed_artifact(ctx: &Context, args: &Args, source_env: &Environment) -> Result<Source> {
    if let Some(pinned) = &source_env.account_id
        && pinned.as_str() != ctx.account
    {
        return Err(refused(format!(
            "cannot read stack {} of {} in account {}: your credentials are for {}'s account {}. \
             Name the artifact instead: --artifact-key <key> (the artifact.key of the {} deploy's --json report) \
             or --from-report <that report>",
            stack_of(&args.from, args.owner.as_deref())?,
            args.from,
            pinned.as_str(),
            args.to,
            ctx.account,
            args.from
        )));
    }
    let source_stack = stack_of(&args.from, args.owner.as_deref())?;
    let cfn = Cfn::new(&tickets_config(ctx, source_env).await);
    let Some(state) = cfn.describe(&source_stack).await? else {
        return Err(refused(format!(
            "cannot promote from {}: stack {source_stack} does not exist; deploy it first",
            args.from
        )));
    };
    if !state.complete() {
        return Err(refused(format!(
            "cannot promote from {}: stack {source_stack} is {}, not in a complete state",
            args.from, state.status
        )));
    }
    let parameter = |name: &str| {
        state
            .parameters
            .get(name)
            .cloned()
            .with_context(|| format!("the source stack has no {name} parameter"))
    };
    Ok(Source {
        bucket: parameter(ARTIFACT_BUCKET)?,
        key: parameter(ARTIFACT_KEY)?,
    })
}

fn stack_of(env: &str, owner: Option<&str>) -> Result<String> {
    Ok(
        xtask_core::stack_name::StackName::resolve(env, owner, None)?
            .as_str()
            .to_owned(),
    )
}

/// The SDK configuration for the source's region, with the same credentials.
async fn tickets_config(ctx: &Context, source: &Environment) -> aws_config::SdkConfig {
    if source.region.as_str() == ctx.env.region.as_str() {
        return ctx.config.clone();
    }
    crate::aws::sdk::config(source.region.as_str()).await
}

/// An artifact in another account's bucket that this account cannot read, explained: the
/// source bucket's policy grants the accounts the environment files pin.
fn unreadable(ctx: &Context, source: &Source) -> anyhow::Error {
    anyhow::anyhow!(
        "account {account} cannot read s3://{bucket}/{key}: it is not there, or the bucket's policy \
         does not let account {account} read it. That policy lets the accounts environments/*.yaml pin \
         read artifacts: pin account_id {account} in environments/{env}.yaml, deploy the source \
         environment once (which rewrites its bucket policy), and promote again",
        account = ctx.account,
        bucket = source.bucket,
        key = source.key,
        env = ctx.env.name
    )
}
