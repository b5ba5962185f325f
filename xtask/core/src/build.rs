//! `cargo xtask build`: every function's release binary, checked and packed as `bootstrap`
//! into a deterministic zip.

use anyhow::Result;
use xtask_core::lambda::arch::Arch;
use xtask_core::lambda::artifact::{self, human_bytes};
use xtask_core::tools::workspace::shown;

/// Arguments of `build`.
#[derive(clap::Args)]
pub struct Args {
    /// Instruction set of the Lambda.
    #[arg(long, value_enum, default_value = "x86-64")]
    pub arch: Arch,
}

/// Builds, checks and packs; prints what it made.
pub fn run(args: Args) -> Result<()> {
    for artifact in artifact::build(args.arch)? {
        println!(
            "{}  {} ({})\n{}  {}\nsha256 {}",
            shown(&artifact.zip),
            human_bytes(artifact.zip_bytes),
            artifact.arch.lambda_name(),
            shown(&artifact.binary),
            human_bytes(artifact.binary_bytes),
            artifact.sha256
        );
    }
    Ok(())
}
