//! `cargo xtask smoke --env <deployed>`: the smoke scenario against a deployed stack, with
//! two temporary users of its pool, deleted afterwards even when a step fails. In
//! production it only reads (no user, no ticket in production data) unless `--write`.

use crate::aws::cognito::DeployedPool;
use crate::aws::target::Target;
use anyhow::{Context, Result, bail};
use xtask_core::smoke::{Callers, allowed_origin, read_only_scenario, scenario};
use xtask_core::tools::http_client::HttpClient;
use xtask_core::tools::workspace::root;

/// Arguments of `smoke`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub target: Target,
    /// Base URL of the API, stage included [default: the stack's ApiUrl].
    #[arg(long)]
    pub url: Option<String>,
    /// In production too, run the whole scenario: temporary users in its pool and a ticket
    /// in its table (production runs the read-only checks otherwise).
    #[arg(long)]
    pub write: bool,
}

/// Runs the scenario; the temporary users are removed even when it fails.
pub async fn run(args: Args) -> Result<()> {
    let origin = allowed_origin(&root(), &args.target.env)?;
    let client = HttpClient::new()?;
    let pool = DeployedPool::open(&args.target).await?;
    let base = match &args.url {
        Some(url) => url.clone(),
        None => pool
            .outputs
            .get("ApiUrl")
            .cloned()
            .context("the stack has no ApiUrl output")?,
    };
    let environment = tickets_infra::Environment::load(
        &args.target.config_root.clone().unwrap_or_else(root),
        &args.target.env,
    )?;
    if environment.is_production() && !args.write {
        println!(
            "smoke test of {base} ({}, read-only: no user, no ticket; --write runs the whole scenario)",
            args.target.env
        );
        let failed = read_only_scenario(&client, &base, &origin).await;
        if failed > 0 {
            bail!("smoke test failed: {failed} step(s) did not match");
        }
        println!("all steps passed");
        return Ok(());
    }
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let (user, admin) = (
        format!("smoke-{suffix}@example.com"),
        format!("smoke-admin-{suffix}@example.com"),
    );
    println!(
        "smoke test of {base} ({}, temporary users {user} and {admin})",
        args.target.env
    );
    let callers = async {
        Ok::<_, anyhow::Error>(Callers {
            user: pool.token_for(&user, false).await?,
            admin: pool.token_for(&admin, true).await?,
        })
    }
    .await;
    let failed = match callers {
        Ok(callers) => Ok(scenario(&client, &base, &callers, &origin).await),
        Err(err) => Err(err),
    };
    for name in [&user, &admin] {
        if let Err(err) = pool.delete_user(name).await {
            eprintln!("warning: {err:#}; delete the user by hand");
        }
    }
    let failed = failed?;
    if failed > 0 {
        bail!("smoke test failed: {failed} step(s) did not match");
    }
    println!("all steps passed");
    Ok(())
}
