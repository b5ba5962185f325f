//! The deterministic zip Lambda runs: the same `bootstrap` always gives the same bytes, so
//! the same SHA-256 and the same artifact key.

use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

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
}
