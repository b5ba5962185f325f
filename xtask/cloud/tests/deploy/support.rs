//! Running the real `xtask` binary against the moto server that `cargo xtask test` starts,
//! through the proxy that behaves like CloudFormation ([`crate::proxy`]), with the AWS CLI
//! as an independent oracle of what was deployed.
//! (Over 500 lines: the support every deploy test binary shares: runs, accounts, proxies, cleanup.)

use serde_json::Value;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
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
#[derive(Debug)]
pub struct Run {
    /// Exit code (-1 when killed).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// How long it ran.
    pub elapsed: Duration,
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

    /// Asserts this exit code, showing the output otherwise.
    #[track_caller]
    pub fn code(self, expected: i32) -> Self {
        assert_eq!(
            self.code,
            expected,
            "expected exit {expected}:\n{}",
            self.text()
        );
        self
    }

    /// Asserts the output mentions every one of `parts`.
    #[track_caller]
    pub fn says(self, parts: &[&str]) -> Self {
        let text = self.text();
        for part in parts {
            assert!(text.contains(part), "{part:?} not in:\n{text}");
        }
        self
    }

    /// The `--json` report.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("no JSON report ({e}):\n{}", self.text()))
    }
}

/// Credentials of one account (moto maps an assumed role's keys to its account).
#[derive(Debug, Clone)]
pub struct Credentials {
    /// `AWS_ACCESS_KEY_ID`.
    pub key: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret: String,
    /// `AWS_SESSION_TOKEN`.
    pub token: Option<String>,
}

impl Credentials {
    /// The default test account's, 123456789012.
    pub fn default_account() -> Credentials {
        Credentials {
            key: "testing".into(),
            secret: "testing".into(),
            token: None,
        }
    }
}

/// Credentials acting in `account`: `sts:AssumeRole` into a role there, as moto's
/// multi-account support documents (the CI's OIDC role, per environment, stands here).
pub fn assume_role(account: &str) -> Credentials {
    let answer = aws(&[
        "sts",
        "assume-role",
        "--role-arn",
        &format!("arn:aws:iam::{account}:role/tickets-deploy"),
        "--role-session-name",
        "tickets-tests",
    ]);
    let c = &answer["Credentials"];
    Credentials {
        key: c["AccessKeyId"].as_str().unwrap().to_owned(),
        secret: c["SecretAccessKey"].as_str().unwrap().to_owned(),
        token: c["SessionToken"].as_str().map(str::to_owned),
    }
}

fn aws_env_at<'c>(
    command: &'c mut Command,
    endpoint: &str,
    credentials: &Credentials,
) -> &'c mut Command {
    command
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", &credentials.key)
        .env("AWS_SECRET_ACCESS_KEY", &credentials.secret)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env_remove("AWS_PROFILE")
        .env_remove("TICKETS_CHANGE_SET_TIMEOUT")
        .env_remove("TICKETS_OPERATION_TIMEOUT");
    match &credentials.token {
        Some(token) => command.env("AWS_SESSION_TOKEN", token),
        None => command.env_remove("AWS_SESSION_TOKEN"),
    }
}

/// The AWS variables for the tests' AWS as the default account (for tests that build
/// their own commands): a proxy in front of moto, shared by the test process, so that what
/// moto cannot do as AWS does (a bucket policy with conditions, say) is handled there.
#[allow(dead_code)] // for tests/logs.rs and tests/operations.rs, which share this file
pub fn aws_env(command: &mut Command) -> &mut Command {
    aws_env_at(command, &shared_endpoint(), &Credentials::default_account())
}

/// The endpoint of one proxy ([`crate::proxy`]) for the whole test process, with the default
/// behaviour, for tests that need no proxy of their own.
pub fn shared_endpoint() -> String {
    static ENDPOINT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ENDPOINT
        .get_or_init(|| {
            // Lives as long as the process: the tests of the process share it.
            let proxy = Box::leak(Box::new(crate::proxy::Proxy::start(
                crate::proxy::Config::default(),
            )));
            proxy.endpoint.clone()
        })
        .clone()
}

/// Gives the tests' moto account what `cargo xtask bootstrap` gives a real one (API
/// Gateway's CloudWatch role), once per account and region, so that stacks with access
/// logs deploy.
fn bootstrapped(credentials: &Credentials, region: &str) {
    static DONE: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());
    let mut done = DONE.lock().unwrap();
    let account = (credentials.key.clone(), region.to_owned());
    if done.contains(&account) {
        return;
    }
    let identity = aws_at(
        &moto(),
        credentials,
        &["sts", "get-caller-identity", "--region", region],
    )
    .unwrap_or_else(|e| panic!("sts get-caller-identity failed: {e}"));
    let id = identity["Account"].as_str().unwrap_or("123456789012");
    aws_at(
        &moto(),
        credentials,
        &[
            "apigateway",
            "update-account",
            "--region",
            region,
            "--patch-operations",
            &format!("op=replace,path=/cloudwatchRoleArn,value=arn:aws:iam::{id}:role/xtask-tests"),
        ],
    )
    .unwrap_or_else(|e| panic!("apigateway update-account failed: {e}"));
    done.push(account);
}

/// The region of the environment `args` name (`--env`, or `--to` for `promote`), read
/// from the environment file.
fn region_of(args: &[String], config_root: Option<&std::path::Path>) -> Option<String> {
    let at = args.iter().position(|a| a == "--env" || a == "--to")?;
    let env = args.get(at + 1)?;
    let root = config_root.map_or_else(root, std::path::Path::to_path_buf);
    let text =
        std::fs::read_to_string(root.join("environments").join(format!("{env}.yaml"))).ok()?;
    text.lines()
        .find_map(|l| l.trim().strip_prefix("region:"))
        .map(|r| r.trim().trim_matches('"').to_owned())
}

/// Runs `xtask` with `args` through the shared proxy, with environments read from
/// `config_root` when given.
#[allow(dead_code)] // for tests/logs.rs, which shares this file
pub fn xtask(args: &[&str], config_root: Option<&std::path::Path>) -> Run {
    let mut run = Xtask::new(&shared_endpoint(), args);
    run.config_root = config_root.map(PathBuf::from);
    run.run()
}

/// The `xtask-cloud` binary under test. `XTASK_CLOUD_BIN` runs the same tests against
/// another build (to show that a test fails on the code before a fix).
fn binary() -> PathBuf {
    std::env::var_os("XTASK_CLOUD_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_xtask-cloud")))
}

/// One `xtask` run, configured step by step.
pub struct Xtask {
    args: Vec<String>,
    endpoint: String,
    credentials: Credentials,
    config_root: Option<PathBuf>,
    env: Vec<(String, String)>,
    timeout: Duration,
}

impl Xtask {
    /// `xtask <args>` against `endpoint` (a proxy's), as the default account.
    pub fn new(endpoint: &str, args: &[&str]) -> Xtask {
        Xtask {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            endpoint: endpoint.to_owned(),
            credentials: Credentials::default_account(),
            config_root: None,
            env: Vec::new(),
            timeout: Duration::from_secs(240),
        }
    }

    /// Reads environments from this copy.
    pub fn config(mut self, root: &ConfigRoot) -> Self {
        self.config_root = Some(root.path.clone());
        self
    }

    /// Acts with these credentials.
    pub fn credentials(mut self, credentials: &Credentials) -> Self {
        self.credentials = credentials.clone();
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Kills it after `timeout` (the run then fails with exit code -1).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Starts it in the background.
    pub fn spawn(self) -> Running {
        if let Some(region) = region_of(&self.args, self.config_root.as_deref()) {
            bootstrapped(&self.credentials, &region);
        }
        let mut command = Command::new(binary());
        aws_env_at(&mut command, &self.endpoint, &self.credentials)
            .current_dir(root())
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = &self.config_root {
            command.env("TICKETS_CONFIG_ROOT", dir);
        }
        for (name, value) in &self.env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("run xtask");
        let pipe = |r: Box<dyn Read + Send>| {
            let mut r = r;
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = r.read_to_string(&mut text);
                text
            })
        };
        let stdout = pipe(Box::new(child.stdout.take().unwrap()));
        let stderr = pipe(Box::new(child.stderr.take().unwrap()));
        Running {
            child,
            stdout,
            stderr,
            started: Instant::now(),
            timeout: self.timeout,
        }
    }

    /// Runs it to the end.
    pub fn run(self) -> Run {
        self.spawn().wait()
    }
}

/// An `xtask` running in the background.
pub struct Running {
    child: std::process::Child,
    stdout: std::thread::JoinHandle<String>,
    stderr: std::thread::JoinHandle<String>,
    started: Instant,
    timeout: Duration,
}

impl Running {
    /// Waits for it (killing it at its timeout).
    pub fn wait(mut self) -> Run {
        let mut killed = false;
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code().unwrap_or(-1);
            }
            if self.started.elapsed() > self.timeout {
                let _ = self.child.kill();
                let _ = self.child.wait();
                killed = true;
                break -1;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut stderr = self.stderr.join().unwrap_or_default();
        if killed {
            stderr.push_str(&format!(
                "\n(the test killed xtask: still running after {:?})",
                self.timeout
            ));
        }
        Run {
            code,
            stdout: self.stdout.join().unwrap_or_default(),
            stderr,
            elapsed: self.started.elapsed(),
        }
    }
}

fn aws_at(endpoint: &str, credentials: &Credentials, args: &[&str]) -> Result<Value, String> {
    let mut command = Command::new("aws");
    aws_env_at(&mut command, endpoint, credentials)
        .args(args)
        .args(["--output", "json"]);
    let output = command
        .output()
        .expect("the AWS CLI is needed as a test oracle");
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&output.stdout).unwrap_or(Value::Null))
}

/// Asks the AWS CLI (the oracle) what moto holds, and parses its JSON answer.
#[track_caller]
pub fn aws(args: &[&str]) -> Value {
    aws_at(&moto(), &Credentials::default_account(), args)
        .unwrap_or_else(|e| panic!("aws {args:?} failed: {e}"))
}

/// The AWS CLI in another account.
#[track_caller]
pub fn aws_as(credentials: &Credentials, args: &[&str]) -> Value {
    aws_at(&moto(), credentials, args).unwrap_or_else(|e| panic!("aws {args:?} failed: {e}"))
}

/// The AWS CLI in another account, through `endpoint` (a proxy's).
#[track_caller]
pub fn aws_via(endpoint: &str, credentials: &Credentials, args: &[&str]) -> Value {
    aws_at(endpoint, credentials, args).unwrap_or_else(|e| panic!("aws {args:?} failed: {e}"))
}

/// The AWS CLI, allowed to fail (its error text).
pub fn try_aws(args: &[&str]) -> Result<Value, String> {
    aws_at(&moto(), &Credentials::default_account(), args)
}

/// The AWS CLI through the proxy: CloudFormation as the tests' "AWS" reports it.
#[track_caller]
pub fn cfn_cli(endpoint: &str, args: &[&str]) -> Result<Value, String> {
    aws_at(endpoint, &Credentials::default_account(), args)
}

/// The stack as CloudFormation (the proxy) describes it, or `None`.
pub fn describe(endpoint: &str, stack: &str) -> Option<Value> {
    let all = cfn_cli(
        endpoint,
        &["cloudformation", "describe-stacks", "--stack-name", stack],
    )
    .ok()?;
    let stack = all["Stacks"][0].clone();
    (stack["StackStatus"] != "DELETE_COMPLETE").then_some(stack)
}

/// Whether moto holds a table of this name.
pub fn table_exists(name: &str) -> bool {
    try_aws(&["dynamodb", "describe-table", "--table-name", name]).is_ok()
}

/// The ids of moto's user pools called `name`.
pub fn pools_named(name: &str) -> Vec<String> {
    aws(&["cognito-idp", "list-user-pools", "--max-results", "60"])["UserPools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["Name"] == name)
        .filter_map(|p| p["Id"].as_str().map(str::to_owned))
        .collect()
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

    /// Pins `env` to `account`.
    pub fn pin(&self, env: &str, account: &str) {
        self.edit(
            env,
            "# account_id: \"123456789012\"",
            &format!("account_id: \"{account}\""),
        );
    }
}

impl Drop for ConfigRoot {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Destroys the stacks a test created, even when it fails, and deletes what they retained
/// (tables, user pools), so that moto does not fill up across runs.
pub struct Cleanup {
    endpoint: String,
    stacks: Vec<(String, String, Credentials)>,
    config_root: Option<PathBuf>,
    region: String,
}

impl Cleanup {
    /// Cleans `env`'s stack of `owner` up through `endpoint` (a proxy's).
    pub fn new(endpoint: &str, stacks: &[(&str, &str)]) -> Cleanup {
        Cleanup {
            endpoint: endpoint.to_owned(),
            stacks: stacks
                .iter()
                .map(|(e, o)| {
                    (
                        (*e).to_owned(),
                        (*o).to_owned(),
                        Credentials::default_account(),
                    )
                })
                .collect(),
            config_root: None,
            region: "us-east-1".into(),
        }
    }

    /// Reads the environments from this copy (declared before the cleanup, so it outlives
    /// it), whose stacks live in `region`.
    pub fn config(mut self, root: &ConfigRoot, region: &str) -> Self {
        self.config_root = Some(root.path.clone());
        self.region = region.to_owned();
        self
    }

    /// Also `env`'s stack of `owner` in another account.
    pub fn and_as(mut self, env: &str, owner: &str, credentials: &Credentials) -> Self {
        self.stacks
            .push((env.to_owned(), owner.to_owned(), credentials.clone()));
        self
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for (env, owner, credentials) in &self.stacks {
            let mut destroy = Xtask::new(
                &self.endpoint,
                &[
                    "destroy", "--env", env, "--owner", owner, "--yes", "--force",
                ],
            )
            .credentials(credentials)
            .timeout(Duration::from_secs(120));
            if let Some(root) = &self.config_root {
                destroy.config_root = Some(root.clone());
            }
            let _ = destroy.run();
            let stack = format!("tickets-{env}-{owner}");
            let region = ["--region", self.region.as_str()];
            let tables = aws_at(
                &moto(),
                credentials,
                &["dynamodb", "list-tables", region[0], region[1]],
            )
            .unwrap_or_default();
            for table in tables["TableNames"].as_array().into_iter().flatten() {
                let Some(table) = table.as_str().filter(|t| t.starts_with(&stack)) else {
                    continue;
                };
                let _ = aws_at(
                    &moto(),
                    credentials,
                    &[
                        "dynamodb",
                        "update-table",
                        "--table-name",
                        table,
                        "--no-deletion-protection-enabled",
                        region[0],
                        region[1],
                    ],
                );
                let _ = aws_at(
                    &moto(),
                    credentials,
                    &[
                        "dynamodb",
                        "delete-table",
                        "--table-name",
                        table,
                        region[0],
                        region[1],
                    ],
                );
            }
            let pools = aws_at(
                &moto(),
                credentials,
                &["cognito-idp", "list-user-pools", "--max-results", "60"],
            )
            .unwrap_or_default();
            for pool in pools["UserPools"].as_array().into_iter().flatten() {
                if pool["Name"].as_str().is_some_and(|n| n.starts_with(&stack))
                    && let Some(id) = pool["Id"].as_str()
                {
                    let _ = aws_at(
                        &moto(),
                        credentials,
                        &[
                            "cognito-idp",
                            "update-user-pool",
                            "--user-pool-id",
                            id,
                            "--deletion-protection",
                            "INACTIVE",
                        ],
                    );
                    let _ = aws_at(
                        &moto(),
                        credentials,
                        &["cognito-idp", "delete-user-pool", "--user-pool-id", id],
                    );
                }
            }
        }
    }
}

/// A file removed when dropped.
pub struct TempFile(pub PathBuf);

impl TempFile {
    /// A new file holding `contents`.
    pub fn new(contents: &str) -> Self {
        let path = std::env::temp_dir().join(format!("tickets-template-{}.json", owner()));
        std::fs::write(&path, contents).unwrap();
        TempFile(path)
    }

    /// Its path, as an argument.
    pub fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
