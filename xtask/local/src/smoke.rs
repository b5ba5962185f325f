//! `cargo xtask smoke --env local`: the smoke scenario against the local API, with tokens
//! from the local issuer.

use crate::emulator::auth::{self, TokenRequest};
use crate::emulator::state;
use anyhow::{Result, bail};
use std::path::PathBuf;
use xtask_core::smoke::{Callers, allowed_origin, scenario};
use xtask_core::tools::http_client::HttpClient;
use xtask_core::tools::workspace::root;

/// Where the local API listens by default.
pub const LOCAL_URL: &str = "http://127.0.0.1:3000";

/// Arguments of `smoke`.
#[derive(clap::Args)]
pub struct Args {
    /// Environment: only `local` here.
    #[arg(long, default_value = state::ENV)]
    pub env: String,
    /// Base URL of the API [default: http://127.0.0.1:3000].
    #[arg(long)]
    pub url: Option<String>,
    /// Local state folder whose key signs the local tokens [default: .tickets/local].
    #[arg(long, hide = true)]
    pub state_dir: Option<PathBuf>,
}

/// Runs the scenario with a local user and a local admin.
pub async fn run(args: Args) -> Result<()> {
    if args.env != state::ENV {
        bail!(
            "this is the local smoke test; `cargo xtask smoke --env {}` runs it against that stack",
            args.env
        );
    }
    let origin = allowed_origin(&root(), &args.env)?;
    let client = HttpClient::new()?;
    let base = args.url.clone().unwrap_or_else(|| LOCAL_URL.to_owned());
    let state = state::dir(args.state_dir.as_deref());
    let token = |user: &str, groups: Vec<String>| {
        state::token(
            &state,
            &TokenRequest {
                user: user.into(),
                groups,
                expires_in: auth::DEFAULT_VALIDITY_SECS,
                audience: None,
            },
        )
    };
    let callers = Callers {
        user: token("smoke-user", Vec::new())?,
        admin: token(
            "smoke-admin",
            vec![tickets_manifest::ADMIN_GROUP.to_owned()],
        )?,
    };
    println!("smoke test of {base} (local)");
    let failed = scenario(&client, &base, &callers, &origin).await;
    if failed > 0 {
        bail!("smoke test failed: {failed} step(s) did not match");
    }
    println!("all steps passed");
    Ok(())
}
