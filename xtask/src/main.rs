//! `cargo xtask`: the project's automation, as plain Rust (one module per command).

mod build;
mod digest;
mod moto;
mod python;
mod stack;
mod synth;
mod test;

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
    /// Run every test, providing the Python tools and the moto server they need.
    Test(test::Args),
}

/// The repository's root directory.
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build(args) => build::run(args),
        Command::Synth(args) => synth::run(args),
        Command::Test(args) => test::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
