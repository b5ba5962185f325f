//! Running the real `xtask` binary against the moto server that `cargo xtask test` starts,
//! with the AWS CLI as an independent oracle of what was deployed.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use xtask_core::tools::workspace::root;

/// The moto server's endpoint; these tests refuse to run without one rather than skip.
pub fn moto() -> String {
    std::env::var("MOTO_ENDPOINT").unwrap_or_else(|_| {
        panic!("the deployment tests need a moto server: run them with `cargo xtask test` (or set MOTO_ENDPOINT)")
    })
}

/// A fresh owner name, so that parallel tests and repeated runs never share a stack.
pub fn owner() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "t{:x}{}",
        (std::process::id() ^ nanos) & 0xffffff,
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The result of one `xtask` run.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Both streams, for assertions on messages.
    pub fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Asserts success, showing the output otherwise.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "xtask failed:\n{}", self.text());
        self
    }

    /// The `--json` report.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("no JSON report ({e}):\n{}", self.text()))
    }
}

pub fn aws_env(command: &mut Command) -> &mut Command {
    command
        .env("AWS_ENDPOINT_URL", moto())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env_remove("AWS_PROFILE")
}

/// Gives the tests' moto account what `cargo xtask bootstrap` gives a real one (API
/// Gateway's CloudWatch role), once, so that stacks with access logs deploy.
fn bootstrapped() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        aws(&[
            "apigateway",
            "update-account",
            "--patch-operations",
            "op=replace,path=/cloudwatchRoleArn,value=arn:aws:iam::123456789012:role/xtask-tests",
        ]);
    });
}

/// Runs `xtask` with `args`, with environments read from `config_root` when given.
pub fn xtask(args: &[&str], config_root: Option<&Path>) -> Run {
    bootstrapped();
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask-cloud"));
    aws_env(&mut command)
        .current_dir(root())
        .args(args)
        .stdin(std::process::Stdio::null());
    if let Some(dir) = config_root {
        command.env("TICKETS_CONFIG_ROOT", dir);
    }
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("run xtask");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Asks the AWS CLI (the oracle) and parses its JSON answer.
pub fn aws(args: &[&str]) -> Value {
    let mut command = Command::new("aws");
    aws_env(&mut command).args(args).args(["--output", "json"]);
    let output = command
        .output()
        .expect("the AWS CLI is needed as a test oracle");
    assert!(
        output.status.success(),
        "aws {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

/// The stack as the AWS CLI describes it, or `None`.
pub fn describe(stack: &str) -> Option<Value> {
    let mut command = Command::new("aws");
    aws_env(&mut command).args([
        "cloudformation",
        "describe-stacks",
        "--stack-name",
        stack,
        "--output",
        "json",
    ]);
    let output = command.output().expect("run the AWS CLI");
    if !output.status.success() {
        return None;
    }
    let all: Value = serde_json::from_slice(&output.stdout).ok()?;
    let stack = all["Stacks"][0].clone();
    (stack["StackStatus"] != "DELETE_COMPLETE").then_some(stack)
}

/// A copy of `environments/` that a test may edit, removed when dropped.
pub struct ConfigRoot {
    /// The directory holding `environments/`.
    pub path: PathBuf,
}

impl ConfigRoot {
    /// Copies the repository's environments.
    pub fn new() -> Self {
        let path = std::env::temp_dir().join(format!("tickets-config-{}", owner()));
        std::fs::create_dir_all(path.join("environments")).unwrap();
        for entry in std::fs::read_dir(root().join("environments")).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(
                entry.path(),
                path.join("environments").join(entry.file_name()),
            )
            .unwrap();
        }
        ConfigRoot { path }
    }

    /// Replaces `from` with `to` in `environments/<env>.yaml`.
    pub fn edit(&self, env: &str, from: &str, to: &str) {
        let file = self.path.join("environments").join(format!("{env}.yaml"));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(from), "{from:?} not in {}", file.display());
        std::fs::write(file, text.replacen(from, to, 1)).unwrap();
    }
}

impl Drop for ConfigRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Destroys the stacks a test created, even when it fails.
pub struct Cleanup(pub Vec<(String, String)>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for (env, owner) in &self.0 {
            let _ = xtask(
                &[
                    "destroy", "--env", env, "--owner", owner, "--yes", "--force",
                ],
                None,
            );
        }
    }
}
