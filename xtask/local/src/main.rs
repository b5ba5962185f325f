//! `xtask-local`: the stack on this machine, with no AWS account: `local` (the whole API
//! behind emulators), `token` and `smoke` against it, and `bench`. What the commands share
//! lives in `emulator/` (API Gateway, the Lambda Runtime API and its instances, the Cognito
//! issuer, DynamoDB, the template reader, local state) and `bench/`.

mod bench;
mod emulator;
mod event_path;
mod events;
mod local;
mod logs;
mod smoke;
mod token;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use xtask_core::outcome;

/// Run the ticket API on this machine, and measure it.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole API on http://127.0.0.1:3000: no Docker, data kept in .tickets/local.
    Local(local::Args),
    /// Print an ID token for a user from the local issuer.
    Token(token::Args),
    /// Show the local run's log lines (the function's, or the access log's).
    Logs(logs::Args),
    /// Show the local bus's ticket events (`--follow` for new ones).
    Events(events::Args),
    /// Run a full scenario against the local API; fails if any step does not match.
    Smoke(smoke::Args),
    /// Measure cold start, warm latency, memory, size, synth and deploy speed against targets.
    Bench(bench::Args),
}

fn main() -> ExitCode {
    outcome::report(run(Cli::parse().command))
}

/// Runs a command on the one tokio runtime.
fn run(command: Command) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    match command {
        Command::Local(args) => runtime.block_on(local::run(args)),
        Command::Token(args) => runtime.block_on(token::run(args)),
        Command::Logs(args) => runtime.block_on(logs::run(args)),
        Command::Events(args) => runtime.block_on(events::run(args)),
        Command::Smoke(args) => runtime.block_on(smoke::run(args)),
        Command::Bench(args) => bench::run(args, &runtime),
    }
}
