//! What an account needs before its first stack: `cargo xtask bootstrap` sets API Gateway's
//! CloudWatch role only where none is set, and `deploy` says to run it when a stage with
//! access logs could not be created. Each test runs in an account of its own (moto's
//! accounts, entered through `sts:AssumeRole`).

#[allow(dead_code)]
#[path = "deploy/proxy/mod.rs"]
mod proxy;
#[allow(dead_code)]
#[path = "deploy/support.rs"]
mod support;

use std::process::Command;
use support::{Run, aws, aws_env};

/// Credentials of a fresh moto account, and a proxy of its own in front of moto (the
/// proxy knows stacks by name, and every account has a `tickets-bootstrap`).
struct Account {
    id: String,
    key: String,
    secret: String,
    token: String,
    proxy: proxy::Proxy,
}

impl Account {
    fn fresh(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let id = format!(
            "{:012}",
            (u64::from(std::process::id()) * 1_000_000_007 + u64::from(nanos)) % 1_000_000_000_000
        );
        let assumed = aws(&[
            "sts",
            "assume-role",
            "--role-arn",
            &format!("arn:aws:iam::{id}:role/{name}"),
            "--role-session-name",
            name,
        ]);
        let credentials = &assumed["Credentials"];
        let text = |key: &str| credentials[key].as_str().unwrap().to_owned();
        Account {
            id,
            key: text("AccessKeyId"),
            secret: text("SecretAccessKey"),
            token: text("SessionToken"),
            proxy: proxy::Proxy::start(proxy::Config::default()),
        }
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        aws_env(&mut command)
            .env("AWS_ENDPOINT_URL", &self.proxy.endpoint)
            .env("AWS_ACCESS_KEY_ID", &self.key)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret)
            .env("AWS_SESSION_TOKEN", &self.token)
            .current_dir(xtask_core::tools::workspace::root());
        command
    }

    fn xtask(&self, args: &[&str]) -> Run {
        let output = self
            .command(env!("CARGO_BIN_EXE_xtask-cloud"))
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            elapsed: std::time::Duration::ZERO,
        }
    }

    fn cloudwatch_role(&self) -> Option<String> {
        let output = self
            .command("aws")
            .args(["apigateway", "get-account", "--output", "json"])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let account: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        account["cloudwatchRoleArn"].as_str().map(str::to_owned)
    }

    fn set_cloudwatch_role(&self, arn: &str) {
        let status = self
            .command("aws")
            .args([
                "apigateway",
                "update-account",
                "--patch-operations",
                &format!("op=replace,path=/cloudwatchRoleArn,value={arn}"),
            ])
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    }
}

#[test]
fn bootstrap_sets_the_cloudwatch_role_once_and_never_replaces_one() {
    let account = Account::fresh("bootstrap");
    assert_eq!(account.cloudwatch_role(), None);
    let first = account.xtask(&["bootstrap", "--env", "dev"]).ok();
    let role = account.cloudwatch_role().expect("a role after bootstrap");
    assert!(role.contains(&account.id), "{role}");
    assert!(
        first.stdout.contains("now writes logs with"),
        "{}",
        first.text()
    );

    let again = account.xtask(&["bootstrap", "--env", "dev"]).ok();
    assert!(again.stdout.contains("left as it is"), "{}", again.text());
    assert_eq!(account.cloudwatch_role().as_deref(), Some(role.as_str()));

    let theirs = format!("arn:aws:iam::{}:role/set-by-someone-else", account.id);
    account.set_cloudwatch_role(&theirs);
    account.xtask(&["bootstrap", "--env", "dev"]).ok();
    assert_eq!(account.cloudwatch_role(), Some(theirs));
}

#[test]
fn deploy_says_to_bootstrap_when_the_stage_could_not_log() {
    let account = Account::fresh("deployfresh");
    let owner = support::owner();
    let refused = account.xtask(&["deploy", "--env", "dev", "--owner", &owner]);
    assert_eq!(refused.code, 1, "{}", refused.text());
    assert!(
        refused
            .stderr
            .contains("run `cargo xtask bootstrap --env dev` once for this account and region"),
        "{}",
        refused.text()
    );
    let stack = format!("tickets-dev-{owner}");
    let listed = account
        .command("aws")
        .args(["cloudformation", "describe-stacks", "--stack-name", &stack])
        .output()
        .unwrap();
    assert!(
        !listed.status.success(),
        "nothing was created before the refusal"
    );

    account.xtask(&["bootstrap", "--env", "dev"]).ok();
    account
        .xtask(&["deploy", "--env", "dev", "--owner", &owner])
        .ok();
    account
        .xtask(&[
            "destroy", "--env", "dev", "--owner", &owner, "--yes", "--force",
        ])
        .ok();
}
