//! A scratch copy of the workspace's sources to edit, with a target directory seeded from
//! the real one by hard links: what the reload test and `bench`'s developer-loop section
//! save into, so that the developer's own sources and builds are never touched, and only
//! the copy's own crates compile again.
//!
//! Only the registry's crates are linked. Cargo names a workspace crate's outputs the same
//! wherever the workspace lives, so linked, the copy's rebuild of one would write through
//! the link into the real target directory's files.

use crate::tools::workspace::{root, target_dir};
use anyhow::{Context, Result, ensure};
use std::collections::BTreeSet;
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
            copy_tree(&original.join(entry), &copy.root.join(entry), None)?;
        }
        let ours = workspace_crates(&copy.root)?;
        for folder in ["deps", "build", ".fingerprint"] {
            copy_tree(
                &built.join("debug").join(folder),
                &copy.target.join("debug").join(folder),
                Some(&ours),
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

/// The names (packages, libraries, binaries; `-` as `_`) of the crates of the workspace at
/// `root`: every `name = "..."` of its manifests.
fn workspace_crates(root: &Path) -> Result<BTreeSet<String>> {
    let mut manifests = Vec::new();
    find_manifests(root, &mut manifests)?;
    let mut names = BTreeSet::new();
    for manifest in manifests {
        let text = std::fs::read_to_string(&manifest)
            .with_context(|| format!("reading {}", manifest.display()))?;
        for line in text.lines() {
            if let Some(value) = line.trim().strip_prefix("name = \"") {
                names.insert(value.trim_end_matches('"').replace('-', "_"));
            }
        }
    }
    ensure!(
        !names.is_empty(),
        "no crate manifests under {}",
        root.display()
    );
    Ok(names)
}

fn find_manifests(dir: &Path, found: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            find_manifests(&path, found)?;
        } else if path.file_name().is_some_and(|n| n == "Cargo.toml") {
            found.push(path);
        }
    }
    Ok(())
}

/// Whether a build product (`libtickets_domain-<hash>.rlib`, `tickets-domain-<hash>/`,
/// `bootstrap-<hash>`) belongs to one of `crates`.
fn is_ours(name: &str, crates: &BTreeSet<String>) -> bool {
    let stem = name.split('.').next().unwrap_or(name);
    let Some((crate_name, _hash)) = stem.rsplit_once('-') else {
        return false;
    };
    let crate_name = crate_name.replace('-', "_");
    crates.contains(&crate_name)
        || crate_name
            .strip_prefix("lib")
            .is_some_and(|c| crates.contains(c))
}

/// Copies `from` to `to` (a file or a folder). Sources (`link` is `None`) skip `target` and
/// `.tickets`; build products are hard-linked (copied where that fails), except those of
/// the crates `link` names, which are left out.
fn copy_tree(from: &Path, to: &Path, link: Option<&BTreeSet<String>>) -> Result<()> {
    let Ok(metadata) = std::fs::symlink_metadata(from) else {
        return Ok(());
    };
    let name = from.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if let Some(ours) = link
        && is_ours(name, ours)
    {
        return Ok(());
    }
    if metadata.is_dir() {
        if link.is_none() && (name == "target" || name == ".tickets") {
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
        if !(link.is_some() && std::fs::hard_link(from, to).is_ok()) {
            std::fs::copy(from, to)
                .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaves_out_the_build_products_of_the_workspace_crates_only() {
        let ours: BTreeSet<String> = [
            "tickets_domain",
            "manage_tickets",
            "bootstrap",
            "xtask_local",
        ]
        .map(String::from)
        .into();
        for name in [
            "libtickets_domain-2ab9c86c74f3aedc.rlib",
            "libtickets_domain-2ab9c86c74f3aedc.rmeta",
            "tickets_domain-2ab9c86c74f3aedc.d",
            "tickets-domain-2ab9c86c74f3aedc",
            "manage-tickets-0123456789abcdef",
            "bootstrap-0123456789abcdef",
            "xtask-local-0123456789abcdef",
        ] {
            assert!(is_ours(name, &ours), "{name}");
        }
        for name in [
            "libtokio-0123456789abcdef.rlib",
            "aws-sdk-dynamodb-0123456789abcdef",
            "libsqlite3-sys-0123456789abcdef",
            "dep-lib-tickets_domain",
        ] {
            assert!(!is_ours(name, &ours), "{name}");
        }
    }

    #[test]
    fn finds_the_crates_of_this_workspace() {
        let crates = workspace_crates(&root()).unwrap();
        for name in [
            "manage_tickets",
            "tickets_domain",
            "bootstrap",
            "xtask_local",
            "tickets_events",
        ] {
            assert!(crates.contains(name), "{name} in {crates:?}");
        }
        assert!(!crates.contains("tokio"));
    }
}
