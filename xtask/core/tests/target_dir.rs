//! `xtask` puts build products where cargo builds, also when `CARGO_TARGET_DIR` moves that
//! elsewhere (CI caches, a target folder shared between checkouts).
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;
use xtask_core::tools::workspace;

/// A target directory outside the repository whose profile folders are links into the real
/// one, so that cargo finds everything built and compiles nothing; removed when dropped.
struct LinkedTargetDir(PathBuf);

const PROFILE_FOLDERS: [&str; 2] = ["release", "x86_64-unknown-linux-gnu"];

impl LinkedTargetDir {
    fn new() -> Self {
        let real = workspace::target_dir().expect("cargo's target directory");
        let dir = std::env::temp_dir().join(format!("tickets-target-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for folder in PROFILE_FOLDERS {
            std::fs::create_dir_all(real.join(folder)).unwrap();
            std::os::unix::fs::symlink(real.join(folder), dir.join(folder)).unwrap();
        }
        LinkedTargetDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for LinkedTargetDir {
    fn drop(&mut self) {
        // The links first, so that nothing of the real target directory is ever deleted.
        for folder in PROFILE_FOLDERS {
            let _ = std::fs::remove_file(self.0.join(folder));
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn build_writes_the_zip_into_cargos_target_directory() {
    let target = LinkedTargetDir::new();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask-core"))
        .current_dir(workspace::root())
        .args(["build"])
        .env("CARGO_TARGET_DIR", target.path())
        .env_remove(workspace::TARGET_DIR_VAR)
        .output()
        .expect("run xtask build");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "xtask build failed:\n{text}");
    let zip = target.path().join("lambda/manage-tickets/bootstrap.zip");
    assert!(zip.is_file(), "no zip at {}:\n{text}", zip.display());
    assert!(
        output
            .stdout
            .starts_with(zip.display().to_string().as_bytes()),
        "{text}"
    );
}
