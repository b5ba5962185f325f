//! `cargo xtask promote`: deploy to one environment exactly the artifact another one ran.
//!
//! A pipeline names the artifacts it tested (`--artifact-key`, one per function or
//! comma-separated, or `--from-report` with the source deploy's `--json` report) and runs
//! with the target account's credentials only:
//! the source account's artifact bucket lets the accounts the environments pin read it
//! (its policy, written by every deploy there), and the target copies it into its own
//! bucket. Without either flag, the artifact the source stack runs now is read, which
//! needs the source to live in the same account.

use crate::aws::artifact_bucket::{self, bucket_name};
use crate::aws::build_profile;
use crate::aws::cloudformation::Cfn;
use crate::aws::rollout::{ArtifactReport, rollout};
use crate::aws::target::{Context, Safety, Target};
use anyhow::{Context as _, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;
use tickets_infra::Environment;
use tickets_infra::stack::parameter::ARTIFACT_BUCKET;
use tickets_manifest::functions::{FUNCTIONS, TICKETS_API};
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
    /// The artifacts' keys in the source environment's artifact bucket, one per function
    /// (repeated or comma-separated: the `artifact.keys` of its deploy's `--json` report).
    #[arg(
        long,
        value_name = "KEY",
        value_delimiter = ',',
        conflicts_with = "from_report"
    )]
    artifact_key: Vec<String>,
    /// The source deploy's `--json` report, naming the artifact it deployed.
    #[arg(long, value_name = "PATH")]
    from_report: Option<PathBuf>,
    #[command(flatten)]
    safety: Safety,
}

/// The artifacts to promote: where they are, by the template parameter taking each.
struct Source {
    bucket: String,
    keys: BTreeMap<String, String>,
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
    let source = match (args.artifact_key.is_empty(), &args.from_report) {
        (false, _) => Source {
            bucket: source_bucket(&ctx, &source_env),
            keys: keys_by_parameter(&args.artifact_key)?,
        },
        (true, Some(path)) => from_report(path)?,
        (true, None) => deployed_artifact(&ctx, &args, &source_env).await?,
    };
    let s3 = aws_sdk_s3::Client::new(&ctx.config);
    let target_bucket = ctx.bucket()?;
    for key in source.keys.values() {
        eprintln!(
            "xtask: promoting s3://{}/{key} from {} to {}",
            source.bucket, args.from, ctx.stack
        );
        check_artifact(&ctx, &args, &s3, &target_bucket.name, &source, key).await?;
    }
    build_profile::require_release(
        &ctx.config,
        &source.bucket,
        source.keys.values(),
        &format!("a promotion to {}", args.to),
    )
    .await?;

    let mut uploaded = false;
    if target_bucket.name != source.bucket {
        // Another account or region: the artifacts are copied as they are, never rebuilt.
        target_bucket.ensure().await?;
        for key in source.keys.values() {
            uploaded |= target_bucket.copy_from(&source.bucket, key).await?;
        }
    }
    let template = tickets_infra::ticket_stack(&ctx.env).to_json_compact();
    let artifact = ArtifactReport {
        bucket: target_bucket.name.clone(),
        key: source
            .keys
            .get(TICKETS_API.artifact_parameter)
            .cloned()
            .unwrap_or_default(),
        keys: source.keys.clone(),
        uploaded,
    };
    rollout(&ctx, &template, artifact, &args.safety).await
}

/// Each key by the template parameter of its function (keys are `<function>/<sha256>.zip`);
/// every function must be named.
fn keys_by_parameter(keys: &[String]) -> Result<BTreeMap<String, String>> {
    let mut by_parameter = BTreeMap::new();
    for key in keys {
        let name = key.split('/').next().unwrap_or_default();
        let function = FUNCTIONS.iter().find(|f| f.name == name).ok_or_else(|| {
            refused(format!(
                "--artifact-key {key} names no function of this project ({}): pass the artifact.keys of the source deploy's --json report",
                FUNCTIONS.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
            ))
        })?;
        by_parameter.insert(function.artifact_parameter.to_owned(), key.clone());
    }
    complete(by_parameter, "--artifact-key")
}

/// Refuses a set of artifacts that misses a function.
fn complete(keys: BTreeMap<String, String>, from: &str) -> Result<BTreeMap<String, String>> {
    let missing: Vec<&str> = FUNCTIONS
        .iter()
        .filter(|f| !keys.contains_key(f.artifact_parameter))
        .map(|f| f.name)
        .collect();
    if !missing.is_empty() {
        return Err(refused(format!(
            "{from} names no artifact of {}: every function is promoted together (the artifact.keys of the source deploy's --json report)",
            missing.join(", ")
        )));
    }
    Ok(keys)
}

/// Refuses an artifact that is missing, unreadable, or built for another architecture.
async fn check_artifact(
    ctx: &Context,
    args: &Args,
    s3: &aws_sdk_s3::Client,
    target_bucket: &str,
    source: &Source,
    key: &str,
) -> Result<()> {
    if !artifact_bucket::exists(s3, &source.bucket, key, None).await? {
        return Err(if target_bucket == source.bucket {
            refused(format!(
                "the artifact s3://{}/{key} is not there; deploy {} first",
                source.bucket, args.from
            ))
        } else {
            unreadable(ctx, &source.bucket, key)
        });
    }
    let built_for = artifact_bucket::architecture(s3, &source.bucket, key).await?;
    let wanted = Arch::from(ctx.env.lambda.architecture).lambda_name();
    match built_for.as_deref() {
        Some(arch) if arch != wanted => {
            return Err(refused(format!(
                "refusing to promote s3://{}/{key}: it was built for {arch}, but environments/{}.yaml runs {wanted}; \
                 build for {wanted} (deploy {} with the same architecture) or change lambda.architecture",
                source.bucket, args.to, args.from
            )));
        }
        Some(_) => {}
        None => eprintln!(
            "xtask: warning: s3://{}/{key} does not record its architecture (uploaded by an older xtask); assuming {wanted}",
            source.bucket
        ),
    }
    Ok(())
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
    let keys: BTreeMap<String, String> = match report["artifact"]["keys"].as_object() {
        Some(keys) => keys
            .iter()
            .filter_map(|(parameter, key)| Some((parameter.clone(), key.as_str()?.to_owned())))
            .collect(),
        None => BTreeMap::from([(TICKETS_API.artifact_parameter.to_owned(), field("key")?)]),
    };
    Ok(Source {
        bucket: field("bucket")?,
        keys: complete(keys, &path.display().to_string())?,
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
        state.parameters.get(name).cloned().with_context(|| {
            format!("the source stack {source_stack} has no {name} parameter: it predates it; deploy it first")
        })
    };
    let mut keys = BTreeMap::new();
    for function in FUNCTIONS {
        keys.insert(
            function.artifact_parameter.to_owned(),
            parameter(function.artifact_parameter)?,
        );
    }
    Ok(Source {
        bucket: parameter(ARTIFACT_BUCKET)?,
        keys,
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
fn unreadable(ctx: &Context, bucket: &str, key: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "account {account} cannot read s3://{bucket}/{key}: it is not there, or the bucket's policy \
         does not let account {account} read it. That policy lets the accounts environments/*.yaml pin \
         read artifacts: pin account_id {account} in environments/{env}.yaml, deploy the source \
         environment once (which rewrites its bucket policy), and promote again",
        account = ctx.account,
        env = ctx.env.name
    )
}
