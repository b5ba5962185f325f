//! Running cargo from xtask.

use std::path::Path;
use std::process::Command;

/// A `cargo` command without the variables `cargo run` set for xtask itself (`CARGO_PKG_NAME`,
/// `CARGO_MANIFEST_DIR`, ...): build scripts such as ring's rerun when those change, so leaving
/// them in would rebuild ring and everything above it on every switch between `cargo xtask`
/// and a plain `cargo` command.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if [
            "CARGO_PKG_",
            "CARGO_MANIFEST_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
            "CARGO_PRIMARY_",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
            || name == "OUT_DIR"
        {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// `cargo run` of one of the workspace's tools (`xtask-core`, `xtask-cloud`, ...) in the
/// workspace at `root`, its arguments to follow: how one tool runs another as the sources
/// are now (a running tool holds the infra code it was built with).
pub fn run_tool(root: &Path, package: &str) -> Command {
    let mut command = cargo();
    command.current_dir(root).args([
        "run",
        "--quiet",
        "--package",
        package,
        "--bin",
        package,
        "--",
    ]);
    command
}
