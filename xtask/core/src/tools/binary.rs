//! One xtask tool running another: built in the dev profile, found where cargo puts it.

/// Builds one of the workspace's binaries in the dev profile (a no-op when it is up to
/// date) and returns its path: how one xtask tool runs another.
pub fn dev_binary(package: &str) -> anyhow::Result<std::path::PathBuf> {
    use anyhow::Context;
    let status = crate::tools::cargo::cargo()
        .current_dir(crate::tools::workspace::root())
        .args(["build", "--quiet", "--package", package, "--bin", package])
        .status()
        .context("running cargo")?;
    anyhow::ensure!(status.success(), "building {package} failed (see above)");
    Ok(crate::tools::workspace::target_dir()?
        .join("debug")
        .join(format!("{package}{}", std::env::consts::EXE_SUFFIX)))
}
