//! The functions' artifacts: each function the manifest declares
//! (`tickets_manifest::functions::FUNCTIONS`) built in release mode for an instruction set by
//! cargo into its target directory, checked, and packed as `<target>/lambda/<function>/bootstrap.zip`
//! (its binary as `bootstrap`, whatever cargo calls it).

use super::arch::Arch;
use super::elf::check_binary;
use super::profile::Profile;
use super::zip_archive::write_zip;
use crate::tools::cargo::cargo;
use crate::tools::digest::sha256_hex;
use crate::tools::workspace::{root, target_dir};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use tickets_manifest::functions::{FUNCTIONS, Function, TICKETS_API};

/// A built, checked and packed function.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Which function.
    pub function: Function,
    /// The zip Lambda runs.
    pub zip: PathBuf,
    /// The unzipped `bootstrap`.
    pub binary: PathBuf,
    /// SHA-256 of the zip, hex.
    pub sha256: String,
    /// Size of the zip in bytes.
    pub zip_bytes: u64,
    /// Size of `bootstrap` in bytes.
    pub binary_bytes: u64,
    /// Its instruction set.
    pub arch: Arch,
    /// The cargo profile it was built with.
    pub profile: Profile,
}

/// Where the API function's zip is written: `<target>/lambda/manage-tickets/bootstrap.zip`.
pub fn zip_path() -> Result<PathBuf> {
    zip_path_of(TICKETS_API)
}

/// Where `function`'s zip is written: `<target>/lambda/<function>/bootstrap.zip`.
pub fn zip_path_of(function: Function) -> Result<PathBuf> {
    Ok(target_dir()?
        .join("lambda")
        .join(function.name)
        .join("bootstrap.zip"))
}

/// Builds every function for `arch` ([`build_function`]), the API's first.
pub fn build(arch: Arch) -> Result<Vec<Artifact>> {
    build_as(arch, Profile::Release)
}

/// Builds every function for `arch` with `profile`, the API's first.
pub fn build_as(arch: Arch, profile: Profile) -> Result<Vec<Artifact>> {
    FUNCTIONS
        .iter()
        .map(|function| build_function_as(*function, arch, profile))
        .collect()
}

/// Builds `function` in release mode for `arch`, refuses a binary Lambda cannot run, and
/// writes its zip ([`zip_path_of`]).
pub fn build_function(function: Function, arch: Arch) -> Result<Artifact> {
    build_function_as(function, arch, Profile::Release)
}

/// Builds `function` with `profile` for `arch`, checks it and writes its zip (a dev build's
/// beside the release one, as `bootstrap-dev.zip`).
pub fn build_function_as(function: Function, arch: Arch, profile: Profile) -> Result<Artifact> {
    let started = Instant::now();
    let binary = compile_function_as(function, arch, profile)?;
    let bytes = std::fs::read(&binary).with_context(|| format!("reading {}", binary.display()))?;
    let zip = match profile {
        Profile::Release => zip_path_of(function)?,
        Profile::Dev => zip_path_of(function)?.with_file_name("bootstrap-dev.zip"),
    };
    // Deflating the binary takes over a second; skip it when the zip already holds it.
    let stamp = zip.with_extension("zip.bootstrap-sha256");
    let binary_sha256 = sha256_hex(&bytes);
    if !zip.exists()
        || std::fs::read_to_string(&stamp).ok().as_deref() != Some(binary_sha256.as_str())
    {
        write_zip(&zip, &bytes)?;
        std::fs::write(&stamp, &binary_sha256)
            .with_context(|| format!("writing {}", stamp.display()))?;
    }
    let packed = std::fs::read(&zip)?;
    eprintln!(
        "xtask: built and packed {} in {:.1?}",
        function.name,
        started.elapsed()
    );
    Ok(Artifact {
        function,
        sha256: sha256_hex(&packed),
        zip_bytes: packed.len() as u64,
        binary_bytes: bytes.len() as u64,
        zip,
        binary,
        arch,
        profile,
    })
}

/// Builds `function`'s binary with `profile` for `arch` (a no-op when nothing changed) and
/// checks it; returns its path. One cargo run per function: built together, the packages
/// would share features (the enrichment would get the API's DynamoDB SDK features).
pub fn compile_function_as(function: Function, arch: Arch, profile: Profile) -> Result<PathBuf> {
    compile_function_in(&root(), function, arch, profile)
}

/// [`compile_function_as`] in the workspace at `root`.
pub fn compile_function_in(
    root: &Path,
    function: Function,
    arch: Arch,
    profile: Profile,
) -> Result<PathBuf> {
    let (mut build, binary) = compile_command(root, function, arch, profile)?;
    let status = build.status().context("running cargo")?;
    if !status.success() {
        bail!(
            "cargo build of {} failed (the compiler's errors are above)",
            function.binary
        );
    }
    check_built(&binary, arch)?;
    Ok(binary)
}

/// The package a native dev build of a function is resolved with ([`compile_command`]).
pub const DEV_COMPANION: &str = "xtask-local";

/// The cargo command that builds `function`'s binary with `profile` for `arch` in the
/// workspace at `root`, and where the binary will be. A dev build for this machine's own
/// instruction set goes without `--target` and with [`DEV_COMPANION`]'s features, so that it
/// shares the dependencies `cargo xtask local` compiled already, and reports errors one line
/// each (`--message-format short`): the inner loop wants the error, not a page.
pub fn compile_command(
    root: &Path,
    function: Function,
    arch: Arch,
    profile: Profile,
) -> Result<(Command, PathBuf)> {
    check_toolchain(arch)?;
    eprintln!(
        "xtask: building {} ({}, {}, {})",
        function.binary,
        function.name,
        arch.lambda_name(),
        profile.name()
    );
    let native = profile == Profile::Dev && arch.is_native();
    let mut build = cargo();
    build.current_dir(root).args([
        "build",
        "--quiet",
        "--profile",
        profile.name(),
        "--package",
        function.package,
        "--bin",
        function.binary,
    ]);
    if native {
        // Built beside the local tools, the function's dependencies get the features
        // `cargo xtask local` already compiled them with: one dependency build serves both,
        // where the function alone would compile most of them again.
        build.args(["--package", DEV_COMPANION]);
    }
    if profile == Profile::Dev {
        build.args(["--message-format", "short"]);
    }
    if !native {
        build.arg("--target").arg(arch.triple());
    }
    let target = target_dir()?;
    let out = if native {
        target.to_path_buf()
    } else {
        target.join(arch.triple())
    };
    Ok((build, out.join(profile.dir()).join(function.binary)))
}

/// Reads the binary a build wrote and refuses one Lambda cannot run on `arch`.
pub fn check_built(binary: &Path, arch: Arch) -> Result<()> {
    let bytes = std::fs::read(binary).with_context(|| format!("reading {}", binary.display()))?;
    check_binary(&bytes, arch)
}

/// Fails early, with the fix, when the target or its linker is missing.
fn check_toolchain(arch: Arch) -> Result<()> {
    if arch == Arch::X86_64 && cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        return Ok(());
    }
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if !sysroot.join("lib/rustlib").join(arch.triple()).exists() {
        bail!(
            "the Rust target {triple} is not installed, so bootstrap cannot be built for {arch}.\n\
             Install it with `rustup target add {triple}` and a linker for it (Debian/Ubuntu: \
             `apt install gcc-aarch64-linux-gnu`, then set CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc), \
             or build with cargo-zigbuild (`cargo install cargo-zigbuild` and zig). Or use --arch x86-64.",
            triple = arch.triple(),
            arch = arch.lambda_name()
        );
    }
    Ok(())
}

/// `1.9 MiB`
pub fn human_bytes(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.2} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    }
}
