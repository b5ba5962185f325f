//! `cargo xtask token`: an ID token for a user, from the local issuer (`--env local`) or from
//! a deployed stack's user pool (creating the user on first use).

use crate::aws::cognito::DeployedPool;
use crate::aws::target::Target;
use crate::emulator::auth::{self, TokenRequest};
use crate::emulator::state;
use anyhow::{Result, bail};
use std::path::PathBuf;

/// Arguments of `token`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: Target,
    /// The user (created on first use in deployed environments).
    #[arg(long)]
    pub user: String,
    /// Put the user in the `admins` group (otherwise the user is not in it).
    #[arg(long)]
    pub admin: bool,
    /// Local state folder [default: .tickets/local].
    #[arg(long, hide = true)]
    pub state_dir: Option<PathBuf>,
    /// Seconds until the local token expires (negative: already expired).
    #[arg(long, hide = true, allow_hyphen_values = true)]
    pub expires_in: Option<i64>,
    /// `aud` of the local token instead of the app client's id.
    #[arg(long, hide = true)]
    pub audience: Option<String>,
}

/// Prints just the token on stdout.
pub async fn run(args: Args) -> Result<()> {
    if args.user.trim().is_empty() {
        bail!("--user must name someone, e.g. --user alice");
    }
    let token = if args.target.env == state::ENV {
        if args.target.owner.is_some() || args.target.stack_name.is_some() {
            bail!(
                "--owner and --stack-name name deployed stacks; the local environment has one stack"
            );
        }
        let request = TokenRequest {
            user: args.user.clone(),
            groups: if args.admin {
                vec![tickets_manifest::ADMIN_GROUP.to_owned()]
            } else {
                Vec::new()
            },
            expires_in: args.expires_in.unwrap_or(auth::DEFAULT_VALIDITY_SECS),
            audience: args.audience.clone(),
        };
        state::token(&state::dir(args.state_dir.as_deref()), &request)?
    } else {
        if args.expires_in.is_some() || args.audience.is_some() {
            bail!(
                "--expires-in and --audience shape local tokens only; Cognito decides them for {}",
                args.target.env
            );
        }
        DeployedPool::open(&args.target)
            .await?
            .token_for(&args.user, args.admin)
            .await?
    };
    println!("{token}");
    Ok(())
}
