//! `cargo xtask`: the project's automation, as plain Rust.
//!
//! The modules at the top are the commands, one file each (plus `outcome`, their exit
//! codes), and no command imports another. What they share lives in folders: `aws/` (the
//! control plane: targets, rollout, stack diff, CloudFormation, artifacts, Cognito),
//! `emulator/` (the stack on this machine: gateway, Lambda runtime, Cognito issuer,
//! DynamoDB, template reader, local state), `function_logs/` (the function's log lines as a
//! person reads them), `lambda/` (building and packing the function)
//! and `tools/` (cargo and where things are, Python tools, moto, an HTTP client, digests).

mod aws;
mod bench;
mod build;
mod deploy;
mod destroy;
mod diff;
mod emulator;
mod function_logs;
mod lambda;
mod local;
mod outcome;
mod outputs;
mod promote;
mod smoke;
mod synth;
mod test;
mod token;
mod tools;
mod watch;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Build, synthesize, deploy, run locally, test and measure the ticket API.
#[derive(Parser)]
#[command(name = "cargo xtask", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the Lambda's bootstrap (release) and pack it into a deterministic zip.
    Build(build::Args),
    /// Render the CloudFormation template of an environment.
    Synth(synth::Args),
    /// Build, upload and roll out a stack (diff first; refuses to lose data).
    Deploy(deploy::Args),
    /// Show what `deploy` would change.
    Diff(diff::Args),
    /// Print (and record) a stack's outputs.
    Outputs(outputs::Args),
    /// Follow a stack's rollout until it settles.
    Watch(watch::Args),
    /// Deploy to one environment exactly the artifact another one runs.
    Promote(promote::Args),
    /// Delete a stack.
    Destroy(destroy::Args),
    /// Run the whole API on http://127.0.0.1:3000: no Docker, data kept in .tickets/local.
    Local(local::Args),
    /// Print an ID token for a user (local issuer, or the stack's user pool).
    Token(token::Args),
    /// Run a full scenario against a local or deployed API; fails if any step does not match.
    Smoke(smoke::Args),
    /// Run every test, providing the Python tools and the moto server they need.
    Test(test::Args),
    /// Measure cold start, warm latency, memory, size, synth and deploy speed against targets.
    Bench(bench::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(outcome::exit_code(&err))
        }
    }
}

/// Runs a command. The asynchronous ones (everything that talks to AWS or serves HTTP) run
/// on the one tokio runtime, made here when a command needs it.
fn run(command: Command) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new;
    match command {
        Command::Build(args) => build::run(args),
        Command::Synth(args) => synth::run(args),
        Command::Deploy(args) => runtime()?.block_on(deploy::run(args)),
        Command::Diff(args) => runtime()?.block_on(diff::run(args)),
        Command::Outputs(args) => runtime()?.block_on(outputs::run(args)),
        Command::Watch(args) => runtime()?.block_on(watch::run(args)),
        Command::Promote(args) => runtime()?.block_on(promote::run(args)),
        Command::Destroy(args) => runtime()?.block_on(destroy::run(args)),
        Command::Local(args) => runtime()?.block_on(local::run(args)),
        Command::Token(args) => runtime()?.block_on(token::run(args)),
        Command::Smoke(args) => runtime()?.block_on(smoke::run(args)),
        Command::Test(args) => test::run(args),
        Command::Bench(args) => bench::run(args, &runtime()?),
    }
}
