//! The Python tools the tests need (moto, cfn-lint, ...), in a project virtual environment.

use super::digest::sha256_hex;
use super::workspace::{shown, target_dir};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A virtual environment holding the pinned test tools.
pub struct PythonTools {
    /// Its `python`.
    pub python: PathBuf,
    /// Its `bin` directory (console scripts such as `cfn-lint`).
    pub bin_dir: PathBuf,
}

/// Makes sure `python` in cargo's target directory (`target/python` by default) exists and
/// holds `xtask/python-requirements.txt`; installs only when the requirements changed since
/// the last run.
pub fn ensure(root: &Path) -> Result<PythonTools> {
    let requirements = root.join("xtask/python-requirements.txt");
    let venv = target_dir()?.join("python");
    let bin_dir = venv.join("bin");
    let python = bin_dir.join("python");
    let stamp = venv.join(".requirements.sha256");
    let wanted = sha256_hex(
        &std::fs::read(&requirements)
            .with_context(|| format!("reading {}", requirements.display()))?,
    );
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(PythonTools { python, bin_dir });
    }
    if !python.exists() {
        eprintln!(
            "xtask: creating the test tools' Python environment in {}",
            shown(&venv)
        );
        let status = Command::new("python3")
            .args(["-m", "venv", "--system-site-packages"])
            .arg(&venv)
            .status()
            .context(
                "running python3: the tests need Python 3.9 or later on PATH; install it and retry",
            )?;
        if !status.success() {
            bail!(
                "python3 -m venv failed; on Debian/Ubuntu install the python3-venv package and retry"
            );
        }
    }
    eprintln!(
        "xtask: installing the test tools ({}) into {}",
        names(&requirements)?,
        shown(&venv)
    );
    let status = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--quiet",
            "-r",
        ])
        .arg(&requirements)
        .status()
        .with_context(|| format!("running pip in {}", shown(&venv)))?;
    if !status.success() {
        bail!(
            "installing the test tools failed (see pip's output above); check network access to PyPI and retry"
        );
    }
    std::fs::write(&stamp, wanted)?;
    Ok(PythonTools { python, bin_dir })
}

fn names(requirements: &Path) -> Result<String> {
    let text = std::fs::read_to_string(requirements)?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split(['=', '[', '<', '>']).next().unwrap_or(l))
        .collect::<Vec<_>>()
        .join(", "))
}
