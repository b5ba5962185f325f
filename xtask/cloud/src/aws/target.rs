//! Which stack a command is about (`--env`, `--owner`, `--stack-name`), how carefully to
//! roll it out, and the context every control-plane command opens: the environment, the
//! stack name, the account the credentials are for and the SDK configuration.

use super::artifact_bucket::ArtifactBucket;
use super::sdk;
use anyhow::Result;
use std::path::PathBuf;
use tickets_infra::Environment;
use xtask_core::outcome::refused;
use xtask_core::stack_name::StackName;
use xtask_core::tools::workspace::root;

/// Which stack of which environment.
#[derive(clap::Args, Debug, Clone)]
pub struct Target {
    /// Environment: a file `environments/<env>.yaml` (local, dev, staging, prod).
    #[arg(long)]
    pub env: String,
    /// A personal stack `tickets-<env>-<owner>` beside the shared one.
    #[arg(long, conflicts_with = "stack_name")]
    pub owner: Option<String>,
    /// Exactly this stack name.
    #[arg(long)]
    pub stack_name: Option<String>,
    /// Directory holding `environments/` instead of the repository (for tests).
    #[arg(long, hide = true, env = "TICKETS_CONFIG_ROOT")]
    pub config_root: Option<PathBuf>,
}

impl Target {
    /// The stack name.
    pub fn stack(&self) -> Result<StackName> {
        StackName::resolve(&self.env, self.owner.as_deref(), self.stack_name.as_deref())
    }

    /// The `--env/--owner/--stack-name` flags that name this stack, for hints.
    pub fn flags(&self) -> String {
        let mut flags = format!("--env {}", self.env);
        if let Some(owner) = &self.owner {
            flags.push_str(&format!(" --owner {owner}"));
        }
        if let Some(name) = &self.stack_name {
            flags.push_str(&format!(" --stack-name {name}"));
        }
        flags
    }
}

/// How carefully to roll out.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Safety {
    /// Do not ask for confirmation (production asks otherwise).
    #[arg(long)]
    pub yes: bool,
    /// Allow replacing or removing stateful resources (the table, the user pool): their data is lost.
    #[arg(long)]
    pub allow_replace: bool,
    /// Print one JSON report on stdout (progress stays on stderr).
    #[arg(long)]
    pub json: bool,
    /// Emergency: shift all traffic at once and let no alarm hold the update back (confirmed
    /// in production, recorded in the stack's tags; the next deploy goes back to the canary).
    #[arg(long)]
    pub skip_canary: bool,
}

/// Everything a rollout needs besides the artifact.
pub struct Context {
    /// The environment.
    pub env: Environment,
    /// The stack.
    pub stack: StackName,
    /// How it was named on the command line.
    pub target: Target,
    /// The account the credentials belong to.
    pub account: String,
    /// Who the credentials are (their ARN).
    pub caller: String,
    /// The SDK configuration for the environment's region.
    pub config: aws_config::SdkConfig,
}

impl Context {
    /// Loads the environment and checks that the credentials are for its account.
    pub async fn open(target: &Target) -> Result<Self> {
        let config_root = target.config_root.clone().unwrap_or_else(root);
        let env = Environment::load(&config_root, &target.env)?;
        let stack = target.stack()?;
        let config = sdk::config(env.region.as_str()).await;
        let identity = aws_sdk_sts::Client::new(&config)
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| sdk::explain("checking your AWS identity", e))?;
        let account = identity.account().unwrap_or_default().to_owned();
        let caller = identity.arn().unwrap_or_default().to_owned();
        if let Some(pinned) = &env.account_id
            && pinned.as_str() != account
        {
            return Err(refused(format!(
                "environments/{}.yaml pins account {}, but your credentials are for account {account}: \
                 switch credentials (AWS_PROFILE, or the CI role) or fix account_id in the file",
                env.name,
                pinned.as_str()
            )));
        }
        Ok(Context {
            env,
            stack,
            target: target.clone(),
            account,
            caller,
            config,
        })
    }

    /// The artifact bucket of this account and region.
    pub fn bucket(&self) -> ArtifactBucket {
        ArtifactBucket::new(&self.config, &self.account, self.env.region.as_str())
    }

    /// The command that follows this stack's rollout.
    pub fn watch_hint(&self) -> String {
        format!("cargo xtask watch {}", self.target.flags())
    }
}
