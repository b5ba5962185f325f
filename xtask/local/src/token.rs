//! `cargo xtask token --env local`: an ID token for a user from the local issuer.

use crate::emulator::auth::{self, TokenRequest};
use crate::emulator::state;
use anyhow::{Result, bail};
use std::path::PathBuf;

/// Arguments of `token`.
#[derive(clap::Args)]
pub struct Args {
    /// Environment: only `local` here.
    #[arg(long, default_value = state::ENV)]
    pub env: String,
    /// The user.
    #[arg(long)]
    pub user: String,
    /// Put the user in the `admins` group (otherwise the user is not in it).
    #[arg(long)]
    pub admin: bool,
    /// Local state folder [default: .tickets/local].
    #[arg(long, hide = true)]
    pub state_dir: Option<PathBuf>,
    /// Seconds until the token expires (negative: already expired).
    #[arg(long, hide = true, allow_hyphen_values = true)]
    pub expires_in: Option<i64>,
    /// `aud` of the token instead of the app client's id.
    #[arg(long, hide = true)]
    pub audience: Option<String>,
}

/// Prints just the token on stdout.
pub async fn run(args: Args) -> Result<()> {
    if args.env != state::ENV {
        bail!(
            "this is the local issuer; `cargo xtask token --env {}` asks that stack's user pool",
            args.env
        );
    }
    if args.user.trim().is_empty() {
        bail!("--user must name someone, e.g. --user alice");
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
    println!(
        "{}",
        state::token(&state::dir(args.state_dir.as_deref()), &request)?
    );
    Ok(())
}
