//! Where things are. Build products and tool caches go in cargo's target directory, which
//! is wherever cargo says (`CARGO_TARGET_DIR`, `build.target-dir`, or `target/`); state a
//! developer keeps (local data, deployed stacks' outputs) goes in `.tickets/` at the root,
//! which neither `cargo clean` nor a throw-away target directory touches.
//!
//! The integration tests of xtask and infra include this file by path, so that they find
//! things exactly as the commands do; it may use only std and serde_json.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The variable in which `cargo xtask test` hands cargo's target directory down to the tests
/// and to the `xtask` runs they make, so that they need not ask cargo again.
pub const TARGET_DIR_VAR: &str = "TICKETS_TARGET_DIR";

/// The repository's root directory: the nearest folder above the compiling crate that holds
/// the workspace's `Cargo.lock`.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .expect("the crate lives inside the workspace")
        .to_path_buf()
}

/// Cargo's target directory for this workspace: [`TARGET_DIR_VAR`] when set, else cargo's own
/// answer (`cargo metadata`), asked once per process.
pub fn target_dir() -> Result<&'static Path, UnknownTargetDir> {
    static TARGET_DIR: OnceLock<Result<PathBuf, UnknownTargetDir>> = OnceLock::new();
    let found = TARGET_DIR.get_or_init(|| match std::env::var_os(TARGET_DIR_VAR) {
        Some(dir) if !dir.is_empty() => Ok(PathBuf::from(dir)),
        _ => ask_cargo().map_err(UnknownTargetDir),
    });
    match found {
        Ok(dir) => Ok(dir),
        Err(err) => Err(err.clone()),
    }
}

/// Why cargo's target directory is unknown.
#[derive(Debug, Clone)]
pub struct UnknownTargetDir(String);

impl std::fmt::Display for UnknownTargetDir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnknownTargetDir {}

/// `.tickets/` at the root: what a developer keeps across `cargo clean`.
pub fn state_dir() -> PathBuf {
    root().join(".tickets")
}

/// `path` relative to the root when it is inside, for messages.
pub fn shown(path: &Path) -> String {
    let root = root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn ask_cargo() -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--manifest-path",
        ])
        .arg(root().join("Cargo.toml"))
        .output()
        .map_err(|e| format!("running `cargo metadata` to find the target directory: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`cargo metadata` failed, so the target directory is unknown: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("reading `cargo metadata`'s answer: {e}"))?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "`cargo metadata` named no target_directory".to_owned())
}
