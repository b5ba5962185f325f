//! `cargo xtask test`: every test of the workspace, with the tools and servers they need.

use anyhow::{Result, bail};
use std::time::Instant;
use xtask_core::lambda::arch::Arch;
use xtask_core::lambda::artifact;
use xtask_core::lambda::profile::Profile;
use xtask_core::tools::cargo::cargo;
use xtask_core::tools::moto::MotoServer;
use xtask_core::tools::python;
use xtask_core::tools::workspace::{TARGET_DIR_VAR, root, target_dir};

/// Arguments of `test`.
#[derive(clap::Args)]
pub struct Args {
    /// Passed to `cargo test` after `--` (a test name filter, `--nocapture`, ...).
    #[arg(last = true)]
    pub cargo_test_args: Vec<String>,
}

/// Provides Python tools, the functions' release and dev builds and a moto server, then runs
/// `cargo test --workspace`.
pub fn run(args: Args) -> Result<()> {
    let started = Instant::now();
    let root = root();
    let tools = python::ensure(&root)?;
    // The deployment and local-API tests run the release functions, and the `dev` tests the
    // dev builds; build both once, up front, so that no test spends its time limit compiling.
    artifact::build(Arch::X86_64)?;
    artifact::build_as(Arch::X86_64, Profile::Dev)?;
    let moto = MotoServer::start(&tools.python)?;
    eprintln!("xtask: moto server at {}", moto.endpoint);
    let path = std::env::join_paths(std::iter::once(tools.bin_dir.clone()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))?;
    let status = cargo()
        .current_dir(&root)
        .args(["test", "--workspace"])
        .args(&args.cargo_test_args)
        .env("PATH", path)
        .env("MOTO_ENDPOINT", &moto.endpoint)
        .env("TICKETS_PYTHON", &tools.python)
        .env(TARGET_DIR_VAR, target_dir()?)
        .status()?;
    drop(moto);
    if !status.success() {
        bail!("tests failed after {:.0?}", started.elapsed());
    }
    eprintln!("xtask: all tests passed in {:.0?}", started.elapsed());
    Ok(())
}
