//! What `provided.al2023` can run: a 64-bit ELF for the function's instruction set that
//! needs no glibc newer than Amazon Linux 2023's.

use super::arch::Arch;
use anyhow::{Context, Result, bail};
use object::elf;
use object::read::elf::{FileHeader, SectionHeader};

/// The newest glibc symbol version Amazon Linux 2023 (`provided.al2023`) provides.
pub const MAX_GLIBC: (u32, u32) = (2, 34);

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

#[cfg(test)]
mod tests {
    use super::*;

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
