//! `xtask-core`: the commands that need neither AWS nor the local emulators: `build`,
//! `synth` and `test` (which provides the Python tools and moto, then runs every test).

mod build;
mod synth;
mod test;

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use xtask_core::outcome;

/// Build the function, render templates, run the tests.
#[derive(Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build every Lambda function (release) and pack each into a deterministic zip.
    Build(build::Args),
    /// Render the CloudFormation template of an environment.
    Synth(synth::Args),
    /// Run every test, providing the Python tools and the moto server they need.
    Test(test::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Build(args) => build::run(args),
        Command::Synth(args) => synth::run(args),
        Command::Test(args) => test::run(args),
    };
    outcome::report(result)
}
