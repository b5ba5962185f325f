//! `cargo xtask build`: the Lambda's `bootstrap`, checked and packed into a deterministic zip.

use crate::tools::digest::sha256_hex;
use crate::tools::workspace::{root, shown};
use anyhow::{Context, Result, bail};
use object::elf;
use object::read::elf::{FileHeader, SectionHeader};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use tickets_manifest::FUNCTION_NAME;

/// The newest glibc symbol version Amazon Linux 2023 (`provided.al2023`) provides.
pub const MAX_GLIBC: (u32, u32) = (2, 34);

/// A Lambda instruction set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Arch {
    /// Intel/AMD 64-bit.
    X86_64,
    /// Graviton (aarch64).
    Arm64,
}

impl Arch {
    /// The Rust target triple.
    pub fn triple(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
        }
    }

    /// The name Lambda uses.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    fn elf_machine(self) -> elf::Machine {
        match self {
            Arch::X86_64 => elf::EM_X86_64,
            Arch::Arm64 => elf::EM_AARCH64,
        }
    }
}

/// Arguments of `build`.
#[derive(clap::Args)]
pub struct Args {
    /// Instruction set of the Lambda.
    #[arg(long, value_enum, default_value = "x86-64")]
    pub arch: Arch,
}

/// A built, checked and packed function.
#[derive(Debug, Clone)]
pub struct Artifact {
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
}

/// Builds, checks and packs; prints what it made.
pub fn run(args: Args) -> Result<()> {
    let artifact = build(args.arch)?;
    println!(
        "{}  {} ({})\n{}  {}\nsha256 {}",
        shown(&artifact.zip),
        human_bytes(artifact.zip_bytes),
        artifact.arch.lambda_name(),
        shown(&artifact.binary),
        human_bytes(artifact.binary_bytes),
        artifact.sha256
    );
    Ok(())
}

/// Builds `bootstrap` in release mode for `arch`, refuses a binary Lambda cannot run, and
/// writes `target/lambda/manage-tickets/bootstrap.zip`.
pub fn build(arch: Arch) -> Result<Artifact> {
    let started = Instant::now();
    let binary = compile(arch)?;
    let bytes = std::fs::read(&binary).with_context(|| format!("reading {}", binary.display()))?;
    let zip = root()
        .join("target/lambda")
        .join(FUNCTION_NAME)
        .join("bootstrap.zip");
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
    eprintln!("xtask: built and packed in {:.1?}", started.elapsed());
    Ok(Artifact {
        sha256: sha256_hex(&packed),
        zip_bytes: packed.len() as u64,
        binary_bytes: bytes.len() as u64,
        zip,
        binary,
        arch,
    })
}

/// Builds the release `bootstrap` for `arch` (a no-op when nothing changed) and checks it;
/// returns its path.
pub fn compile(arch: Arch) -> Result<PathBuf> {
    let root = root();
    check_toolchain(arch)?;
    eprintln!(
        "xtask: building bootstrap ({}, release)",
        arch.lambda_name()
    );
    let status = crate::tools::cargo::cargo()
        .current_dir(&root)
        .args([
            "build",
            "--quiet",
            "--release",
            "--package",
            "manage-tickets",
            "--bin",
            "bootstrap",
            "--target",
        ])
        .arg(arch.triple())
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("cargo build of bootstrap failed (see above)");
    }
    let binary = root
        .join("target")
        .join(arch.triple())
        .join("release/bootstrap");
    let bytes = std::fs::read(&binary).with_context(|| format!("reading {}", binary.display()))?;
    check_binary(&bytes, arch)?;
    Ok(binary)
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

/// Refuses a file that is not an ELF executable for `arch`, or that needs a glibc newer
/// than Amazon Linux 2023's.
pub fn check_binary(bytes: &[u8], arch: Arch) -> Result<()> {
    let header = elf::FileHeader64::<object::Endianness>::parse(bytes)
        .context("bootstrap is not a 64-bit ELF file")?;
    let endian = header.endian()?;
    if header.e_machine(endian) != arch.elf_machine() {
        bail!(
            "bootstrap was built for another instruction set than {}",
            arch.lambda_name()
        );
    }
    if let Some((version, symbol)) = newest_glibc(bytes)?
        && version > MAX_GLIBC
    {
        bail!(
            "bootstrap needs glibc {}.{} (symbol version of {symbol}), but provided.al2023 has {}.{}: \
             build on an older distribution or with cargo-zigbuild --target {}.{}.{}",
            version.0,
            version.1,
            MAX_GLIBC.0,
            MAX_GLIBC.1,
            arch.triple(),
            MAX_GLIBC.0,
            MAX_GLIBC.1
        );
    }
    Ok(())
}

/// The highest `GLIBC_x.y` version the binary requires, with its name.
pub fn newest_glibc(bytes: &[u8]) -> Result<Option<((u32, u32), String)>> {
    let header = elf::FileHeader64::<object::Endianness>::parse(bytes)?;
    let endian = header.endian()?;
    let sections = header.sections(endian, bytes)?;
    let Some((mut needs, strings_index)) = sections.gnu_verneed(endian, bytes)? else {
        return Ok(None);
    };
    let strings = sections
        .section(strings_index)?
        .strings(endian, bytes)?
        .unwrap_or_default();
    let mut newest = None;
    while let Some((_need, mut auxes)) = needs.next()? {
        while let Some(aux) = auxes.next()? {
            let name = String::from_utf8_lossy(aux.name(endian, strings)?).into_owned();
            if let Some(version) = name.strip_prefix("GLIBC_").and_then(parse_version)
                && newest.as_ref().is_none_or(|(v, _)| version > *v)
            {
                newest = Some((version, name));
            }
        }
    }
    Ok(newest)
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some((major, minor))
}

/// A zip whose bytes depend only on `binary`: one entry `bootstrap`, mode 0755, the DOS
/// epoch as its time, no extra fields.
pub fn write_zip(path: &Path, binary: &[u8]) -> Result<()> {
    std::fs::create_dir_all(path.parent().expect("the zip has a folder"))?;
    let mut buffer = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buffer);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options)?;
    zip.write_all(binary)?;
    zip.finish()?;
    // Write beside and rename, so that a reader (or a concurrent build) never sees half a zip.
    let partial = path.with_extension(format!("zip.{}.partial", std::process::id()));
    std::fs::write(&partial, buffer.into_inner())
        .with_context(|| format!("writing {}", partial.display()))?;
    std::fs::rename(&partial, path)
        .with_context(|| format!("renaming {} to {}", partial.display(), path.display()))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_are_byte_identical_for_identical_binaries() {
        let dir = std::env::temp_dir().join(format!("xtask-zip-{}", std::process::id()));
        let (a, b) = (dir.join("a.zip"), dir.join("b.zip"));
        write_zip(&a, b"\x7fELF pretend").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        write_zip(&b, b"\x7fELF pretend").unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&a).unwrap()).unwrap();
        let entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name().unwrap(), "bootstrap");
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        drop(entry);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn reads_the_glibc_versions_a_binary_needs() {
        // The running test binary is an ELF linked against the host's glibc.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let (version, name) = newest_glibc(&me).unwrap().expect("a glibc-linked binary");
        assert!(version >= (2, 2), "{name}");
        assert!(name.starts_with("GLIBC_"));
    }

    #[test]
    fn refuses_files_that_are_not_elf_or_for_another_machine() {
        assert!(check_binary(b"#!/bin/sh\necho hi\n", Arch::X86_64).is_err());
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(check_binary(&me, Arch::Arm64).is_err());
    }

    #[test]
    fn compares_glibc_versions_numerically() {
        assert_eq!(parse_version("2.34"), Some((2, 34)));
        assert_eq!(parse_version("2.3.4"), Some((2, 3)));
        assert!(parse_version("2.4").unwrap() < parse_version("2.34").unwrap());
    }
}
