//! A scratch copy of the workspace's sources to edit, with a target directory seeded from
//! the real one by hard links: what the reload test and `bench`'s developer-loop section
//! save into, so that the developer's own sources and builds are never touched, and only
//! the copy's own crates compile again (their paths differ; the registry's crates do not).

use crate::tools::workspace::{root, target_dir};
use anyhow::{Context, Result, ensure};
use std::path::{Path, PathBuf};

/// What the copy holds: every workspace member and what cargo reads.
const ENTRIES: [&str; 8] = [
    "Cargo.toml",
    "Cargo.lock",
    ".cargo",
    "function",
    "infra",
    "xtask",
    "openapi",
    "environments",
];

/// A copy of the workspace under `<target>/scratch/<name>/`; deleted when dropped.
pub struct WorkspaceCopy {
    /// The copy's root.
    pub root: PathBuf,
    /// Its cargo target directory (give it as `CARGO_TARGET_DIR` and `TICKETS_TARGET_DIR`).
    pub target: PathBuf,
}

impl WorkspaceCopy {
    /// Copies the sources and links the dev profile's dependency builds.
    pub fn new(name: &str) -> Result<Self> {
        let built = target_dir()?.to_path_buf();
        let base = built
            .join("scratch")
            .join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let copy = WorkspaceCopy {
            root: base.join("workspace"),
            target: base.join("target"),
        };
        let original = root();
        for entry in ENTRIES {
            copy_tree(&original.join(entry), &copy.root.join(entry), false)?;
        }
        for folder in ["deps", "build", ".fingerprint"] {
            copy_tree(
                &built.join("debug").join(folder),
                &copy.target.join("debug").join(folder),
                true,
            )?;
        }
        Ok(copy)
    }

    /// Replaces the first `from` in `file` (relative to the root) with `to`.
    pub fn edit(&self, file: &str, from: &str, to: &str) -> Result<()> {
        let path = self.root.join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        ensure!(text.contains(from), "{file} has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1))
            .with_context(|| format!("writing {}", path.display()))
    }
}

impl Drop for WorkspaceCopy {
    fn drop(&mut self) {
        if let Some(base) = self.root.parent() {
            let _ = std::fs::remove_dir_all(base);
        }
    }
}

/// Copies `from` to `to` (a file or a folder; sources skip `target` and `.tickets`),
/// hard-linking files when `link` and copying where that fails.
fn copy_tree(from: &Path, to: &Path, link: bool) -> Result<()> {
    let Ok(metadata) = std::fs::symlink_metadata(from) else {
        return Ok(());
    };
    if metadata.is_dir() {
        let name = from.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !link && (name == "target" || name == ".tickets") {
            return Ok(());
        }
        std::fs::create_dir_all(to).with_context(|| format!("creating {}", to.display()))?;
        for entry in std::fs::read_dir(from)?.flatten() {
            copy_tree(&entry.path(), &to.join(entry.file_name()), link)?;
        }
    } else if metadata.is_file() {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if !(link && std::fs::hard_link(from, to).is_ok()) {
            std::fs::copy(from, to)
                .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
        }
    }
    Ok(())
}
