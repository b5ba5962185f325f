//! `cargo xtask token --env <deployed>`: an ID token for a user from a deployed stack's user
//! pool, creating the user on first use.

use crate::aws::cognito::DeployedPool;
use crate::aws::target::Target;
use anyhow::{Result, bail};

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
}

/// Prints just the token on stdout.
pub async fn run(args: Args) -> Result<()> {
    if args.user.trim().is_empty() {
        bail!("--user must name someone, e.g. --user alice");
    }
    let token = DeployedPool::open(&args.target)
        .await?
        .token_for(&args.user, args.admin)
        .await?;
    println!("{token}");
    Ok(())
}
