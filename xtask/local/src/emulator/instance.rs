//! One instance of a function: the real `bootstrap` as a child process with the environment
//! Lambda gives it, pulling invocations from its own Runtime API server
//! ([`super::runtime_api`]) exactly as it does in Lambda.

use super::runtime_api::{Outcome, Pending, Shared, serve};
use anyhow::{Context, Result, bail};
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use xtask_core::function_logs::format::readable;

/// Where the function's stdout and stderr go.
#[derive(Debug, Clone)]
pub enum Logs {
    /// To our stderr, each line after `prefix` and made readable (one line per JSON log
    /// line: time, level, message, fields, metrics), dimmed when stderr is a terminal so that
    /// other output stands out.
    Readable {
        /// Put before each line.
        prefix: String,
        /// Also appended to this file as they are (what `cargo xtask logs --env local` reads).
        keep: Option<PathBuf>,
    },
    /// To our stdout (the function's stdout) and stderr (its stderr) as they are.
    Raw {
        /// Also appended to this file as they are.
        keep: Option<PathBuf>,
    },
    /// Nowhere (benchmarks).
    Discard,
}

/// How one of the function's streams is shown.
#[derive(Clone)]
struct Forward {
    /// Readable lines on stderr, between these two (prefix and colour), or raw ones.
    readable: Option<(String, &'static str)>,
    /// Raw lines to stdout instead of stderr.
    to_stdout: bool,
    /// Where lines are kept.
    keep: Option<Arc<tokio::sync::Mutex<tokio::fs::File>>>,
}

/// What Lambda knows about a function, plus where its binary is.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// The `bootstrap` executable.
    pub binary: PathBuf,
    /// Function name (`AWS_LAMBDA_FUNCTION_NAME`).
    pub name: String,
    /// `MemorySize` in MB.
    pub memory_mb: u32,
    /// `Timeout`: an invocation that runs longer fails and its instance is discarded.
    pub timeout: Duration,
    /// `AWS_REGION`.
    pub region: String,
    /// Account in the function's ARN.
    pub account: String,
    /// The function's own variables (`Environment.Variables`, `AWS_ENDPOINT_URL`, ...).
    pub env: BTreeMap<String, String>,
    /// Where its logs go.
    pub logs: Logs,
}

impl FunctionConfig {
    /// The function's ARN, as the Runtime API reports it.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account, self.name
        )
    }
}

/// Why an invocation has no response.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The function reported an error (`/invocation/{id}/error`); the body is its error JSON.
    #[error("the function returned an error: {}", String::from_utf8_lossy(.0))]
    Function(Bytes),
    /// The invocation ran past the function's timeout.
    #[error("the function timed out after {0:.1?}")]
    Timeout(Duration),
    /// The process exited (or failed to start) before answering.
    #[error("the function process died: {0}")]
    Crashed(String),
}

impl InvokeError {
    /// Whether the instance can serve again (Lambda keeps an instance after a handled error).
    pub(super) fn keeps_instance(&self) -> bool {
        matches!(self, InvokeError::Function(_))
    }
}

/// One running `bootstrap` and the Runtime API it talks to. Dropping it kills the process.
pub struct Instance {
    shared: Arc<Shared>,
    queue: mpsc::Sender<Pending>,
    timeout: Duration,
    pid: Option<u32>,
    exited: watch::Receiver<Option<String>>,
    kill: Option<oneshot::Sender<()>>,
    server: JoinHandle<()>,
}

impl Instance {
    /// Starts a Runtime API server on a free loopback port and `bootstrap` against it.
    pub async fn spawn(config: &FunctionConfig) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the Runtime API port")?;
        let address = listener.local_addr()?;
        let (queue, queued) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            arn: config.arn(),
            queue: tokio::sync::Mutex::new(queued),
            in_flight: Mutex::new(HashMap::new()),
            spawned_at: Instant::now(),
            ready: watch::Sender::new(None),
            init_error: Mutex::new(None),
        });
        let server = tokio::spawn(serve(listener, shared.clone()));

        let mut command = Command::new(&config.binary);
        // Lambda gives a function a clean environment: nothing of ours leaks in.
        command
            .env_clear()
            .envs(lambda_environment(config, &address.to_string()))
            .envs(&config.env)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        match config.logs {
            Logs::Readable { .. } | Logs::Raw { .. } => {
                command.stdout(Stdio::piped()).stderr(Stdio::piped())
            }
            Logs::Discard => command.stdout(Stdio::null()).stderr(Stdio::null()),
        };
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(err) => {
                server.abort();
                return Err(err).with_context(|| format!("starting {}", config.binary.display()));
            }
        };
        if let Some(forward) = Forward::of(&config.logs).await? {
            if let Some(out) = child.stdout.take() {
                tokio::spawn(forward_lines(out, forward.clone()));
            }
            if let Some(err) = child.stderr.take() {
                tokio::spawn(forward_lines(
                    err,
                    Forward {
                        to_stdout: false,
                        ..forward
                    },
                ));
            }
        }
        let pid = child.id();
        let (exited_tx, exited) = watch::channel(None);
        let (kill, killed) = oneshot::channel();
        tokio::spawn(supervise(child, killed, exited_tx));
        Ok(Instance {
            shared,
            queue,
            timeout: config.timeout,
            pid,
            exited,
            kill: Some(kill),
            server,
        })
    }

    /// Waits until the function asks for its first invocation; returns the init duration
    /// (spawn to first `/next`).
    pub async fn ready(&self) -> Result<Duration> {
        let mut ready = self.shared.ready.subscribe();
        let mut exited = self.exited.clone();
        tokio::select! {
            init = ready.wait_for(Option::is_some) => {
                Ok(init.ok().and_then(|d| *d).unwrap_or_default())
            }
            status = exited.wait_for(Option::is_some) => {
                let status = status.ok().and_then(|s| s.clone()).unwrap_or_default();
                let reason = self.shared.init_error.lock().map(|e| e.clone()).ok().flatten();
                match reason {
                    Some(reason) => bail!("the function failed to initialise ({status}): {reason}"),
                    None => bail!("the function exited during initialisation ({status}); its log above says why"),
                }
            }
        }
    }

    /// Invokes the function with `event` (JSON bytes) and returns its response (JSON bytes).
    pub async fn invoke(&self, event: Bytes) -> Result<Bytes, InvokeError> {
        let (reply, answer) = oneshot::channel();
        let deadline = SystemTime::now() + self.timeout;
        let pending = Pending {
            id: uuid::Uuid::new_v4().to_string(),
            event,
            deadline_ms: deadline
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis(),
            reply,
        };
        let mut exited = self.exited.clone();
        let died = |status: Option<String>| {
            InvokeError::Crashed(status.unwrap_or_else(|| "it exited".into()))
        };
        let run = async {
            if self.queue.send(pending).await.is_err() {
                return Err(died(None));
            }
            match answer.await {
                Ok(Outcome::Response(body)) => Ok(body),
                Ok(Outcome::Error(body)) => Err(InvokeError::Function(body)),
                Err(_) => Err(died(None)),
            }
        };
        tokio::select! {
            result = run => result,
            status = exited.wait_for(Option::is_some) => Err(died(status.ok().and_then(|s| s.clone()))),
            () = tokio::time::sleep(self.timeout) => Err(InvokeError::Timeout(self.timeout)),
        }
    }

    /// Kills the process and waits until it has exited.
    pub async fn stop(mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        let _ = self.exited.wait_for(Option::is_some).await;
    }

    /// The process id of `bootstrap`, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Whether the process is still running.
    pub fn is_alive(&self) -> bool {
        self.exited.borrow().is_none()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        self.server.abort();
    }
}

/// The variables Lambda sets for a `provided.al2023` function.
fn lambda_environment(config: &FunctionConfig, runtime_api: &str) -> Vec<(String, String)> {
    let vars = [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", config.name.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            config.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", config.name),
        ),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            format!("local/[$LATEST]{}", uuid::Uuid::new_v4().simple()),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
        ("AWS_REGION", config.region.clone()),
        ("AWS_DEFAULT_REGION", config.region.clone()),
        // Dummy credentials: the local engines accept any, and real ones must never be used.
        ("AWS_ACCESS_KEY_ID", "local".into()),
        ("AWS_SECRET_ACCESS_KEY", "local".into()),
        ("AWS_SESSION_TOKEN", "local".into()),
        ("_HANDLER", "bootstrap".into()),
        ("TZ", ":UTC".into()),
        ("LANG", "en_US.UTF-8".into()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin".into()),
    ];
    vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// Owns the child: reports its exit, and kills it when asked or when the handle is gone.
async fn supervise(
    mut child: Child,
    killed: oneshot::Receiver<()>,
    exited: watch::Sender<Option<String>>,
) {
    let status = tokio::select! {
        status = child.wait() => status,
        _ = killed => {
            let _ = child.start_kill();
            child.wait().await
        }
    };
    let text = match status {
        Ok(status) => status.to_string(),
        Err(err) => format!("waiting for it failed: {err}"),
    };
    let _ = exited.send(Some(text));
}

impl Forward {
    /// How `logs` shows the function's stdout; `None` when nothing is shown or kept.
    async fn of(logs: &Logs) -> Result<Option<Self>> {
        let (readable, keep) = match logs {
            Logs::Readable { prefix, keep } => {
                use std::io::IsTerminal;
                let frame = if std::io::stderr().is_terminal() {
                    (format!("\u{1b}[2m{prefix}"), "\u{1b}[0m")
                } else {
                    (prefix.clone(), "")
                };
                (Some(frame), keep)
            }
            Logs::Raw { keep } => (None, keep),
            Logs::Discard => return Ok(None),
        };
        let keep = match keep {
            Some(path) => {
                if let Some(dir) = path.parent() {
                    tokio::fs::create_dir_all(dir).await?;
                }
                let file = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await
                    .with_context(|| format!("opening {}", path.display()))?;
                Some(Arc::new(tokio::sync::Mutex::new(file)))
            }
            None => None,
        };
        Ok(Some(Forward {
            readable,
            to_stdout: true,
            keep,
        }))
    }
}

async fn forward_lines(stream: impl AsyncRead + Unpin, forward: Forward) {
    use tokio::io::AsyncWriteExt;
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(file) = &forward.keep {
            let _ = file
                .lock()
                .await
                .write_all(format!("{line}\n").as_bytes())
                .await;
        }
        match &forward.readable {
            Some((before, after)) => eprintln!("{before}{}{after}", readable(&line)),
            None if forward.to_stdout => println!("{line}"),
            None => eprintln!("{line}"),
        }
    }
}
