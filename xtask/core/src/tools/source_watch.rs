//! Saves in the workspace, noticed by polling modification times: no platform watcher to
//! build or to miss events on network and container file systems, and a few thousand
//! `stat` calls every 300 ms cost nothing measurable.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// How often the files are looked at.
pub const POLL: Duration = Duration::from_millis(300);
/// Quiet time after a change before it counts: an editor's save is several writes.
pub const SETTLE: Duration = Duration::from_millis(200);

/// The files under some roots, with their modification times.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Snapshot(BTreeMap<PathBuf, SystemTime>);

impl Snapshot {
    /// Every source file under `roots` (folders or files): Rust, TOML, YAML, JSON and
    /// `Cargo.lock`, outside `target` and hidden folders.
    pub fn take(roots: &[PathBuf]) -> Self {
        let mut files = BTreeMap::new();
        for root in roots {
            visit(root, &mut files);
        }
        Snapshot(files)
    }

    /// The files added, removed or modified since `earlier`.
    pub fn changed_since(&self, earlier: &Snapshot) -> Vec<PathBuf> {
        let mut changed: Vec<PathBuf> = self
            .0
            .iter()
            .filter(|(path, time)| earlier.0.get(*path) != Some(time))
            .map(|(path, _)| path.clone())
            .collect();
        changed.extend(
            earlier
                .0
                .keys()
                .filter(|path| !self.0.contains_key(*path))
                .cloned(),
        );
        changed
    }
}

fn visit(path: &Path, files: &mut BTreeMap<PathBuf, SystemTime>) {
    let Ok(metadata) = std::fs::metadata(path) else {
        return;
    };
    if metadata.is_file() {
        if is_source(path) {
            files.insert(
                path.to_path_buf(),
                metadata.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            );
        }
        return;
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if name == "target" || (name.starts_with('.') && name.len() > 1) {
        return;
    }
    if let Ok(entries) = std::fs::read_dir(path) {
        for entry in entries.flatten() {
            visit(&entry.path(), files);
        }
    }
}

fn is_source(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "Cargo.lock")
        || path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "rs" | "toml" | "yaml" | "yml" | "json"))
}

/// Waits for files under `roots` to change and settle; returns the changed files.
pub async fn next_change(roots: &[PathBuf], since: &mut Snapshot) -> Vec<PathBuf> {
    loop {
        tokio::time::sleep(POLL).await;
        let now = Snapshot::take(roots);
        if now.changed_since(since).is_empty() {
            continue;
        }
        // Let the editor finish writing, then report everything that moved.
        let mut settled = now;
        loop {
            tokio::time::sleep(SETTLE).await;
            let again = Snapshot::take(roots);
            if again == settled {
                break;
            }
            settled = again;
        }
        let changed = settled.changed_since(since);
        *since = settled;
        if !changed.is_empty() {
            return changed;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_sources_added_modified_and_removed_but_not_build_output() {
        let dir = std::env::temp_dir().join(format!("xtask-watch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::create_dir_all(dir.join("target")).unwrap();
        std::fs::write(dir.join("src/lib.rs"), "// one").unwrap();
        let roots = vec![dir.clone()];
        let before = Snapshot::take(&roots);

        std::fs::write(dir.join("target/out.rs"), "ignored").unwrap();
        std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
        assert!(Snapshot::take(&roots).changed_since(&before).is_empty());

        std::fs::write(dir.join("src/new.rs"), "// two").unwrap();
        std::fs::remove_file(dir.join("src/lib.rs")).unwrap();
        let changed = Snapshot::take(&roots).changed_since(&before);
        assert_eq!(changed.len(), 2, "{changed:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
