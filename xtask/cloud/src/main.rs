//! `xtask-cloud`: everything that talks to AWS. The modules at the top are the commands,
//! one file each, and no command imports another; what they share lives in `aws/` (targets
//! and accounts, rollout, stack diff, CloudFormation calls and events, the artifact bucket,
//! Cognito). A command with parts of its own keeps them in its folder (`migrate/`).

mod aws;
mod bootstrap;
mod deploy;
mod destroy;
mod dev;
mod diff;
mod drift;
mod events;
mod import;
mod logs;
mod migrate;
mod outputs;
mod promote;
mod smoke;
mod token;
mod watch;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use xtask_core::outcome;

/// Deploy, inspect and operate the ticket stacks.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prepare an account and region once: API Gateway's CloudWatch role (never replaced).
    Bootstrap(bootstrap::Args),
    /// Build, upload and roll out a stack (diff first; refuses to lose data).
    Deploy(deploy::Args),
    /// Swap code into a personal stack on every save (deploys first if needed).
    Dev(dev::Args),
    /// Show what `deploy` would change.
    Diff(diff::Args),
    /// Show what changed in a stack's resources outside CloudFormation.
    Drift(drift::Args),
    /// Adopt the table and user pool an earlier stack left into a new stack (IMPORT change set).
    Import(import::Args),
    /// Print (and record) a stack's outputs.
    Outputs(outputs::Args),
    /// Follow a stack's rollout until it settles.
    Watch(watch::Args),
    /// Deploy to one environment exactly the artifact another one runs.
    Promote(promote::Args),
    /// Delete a stack.
    Destroy(destroy::Args),
    /// Copy the original table's tickets into a stack's table: resumable, verified.
    Migrate(migrate::Args),
    /// Show a deployed function's log lines (or its stage's access log), and follow them.
    Logs(logs::Args),
    /// Replay a deployed stack's archived ticket events onto its bus.
    Events(events::Args),
    /// Print an ID token for a user of a deployed stack's user pool.
    Token(token::Args),
    /// Run a full scenario against a deployed API; fails if any step does not match.
    Smoke(smoke::Args),
}

fn main() -> ExitCode {
    let result = run(Cli::parse().command);
    // A migration that ran but did not verify has its own code (see the README).
    if let Err(err) = &result
        && err.downcast_ref::<migrate::NotVerified>().is_some()
    {
        eprintln!("error: {err:#}");
        return ExitCode::from(migrate::NOT_VERIFIED);
    }
    outcome::report(result)
}

/// Runs a command on the one tokio runtime.
fn run(command: Command) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        match command {
            Command::Bootstrap(args) => bootstrap::run(args).await,
            Command::Deploy(args) => deploy::run(args).await,
            Command::Dev(args) => dev::run(args).await,
            Command::Diff(args) => diff::run(args).await,
            Command::Drift(args) => drift::run(args).await,
            Command::Import(args) => import::run(args).await,
            Command::Outputs(args) => outputs::run(args).await,
            Command::Watch(args) => watch::run(args).await,
            Command::Promote(args) => promote::run(args).await,
            Command::Destroy(args) => destroy::run(args).await,
            Command::Migrate(args) => migrate::run(args).await,
            Command::Logs(args) => logs::run(args).await,
            Command::Events(args) => events::run(args).await,
            Command::Token(args) => token::run(args).await,
            Command::Smoke(args) => smoke::run(args).await,
        }
    })
}
