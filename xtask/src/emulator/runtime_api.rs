//! A Lambda Runtime API emulator: runs the real `bootstrap` as a child process that pulls
//! invocations from us over HTTP exactly as it does in Lambda, and a small pool of such
//! instances that grows on demand like Lambda scaling out.
//!
//! Per invocation there is no process, thread or connection set-up: the function keeps one
//! keep-alive connection to its instance's server, and an invocation is a message on a
//! channel to the request handler that is waiting in `/next`.

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::{Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinHandle;

const API_PREFIX: &str = "/2018-06-01/runtime/";

/// Where the function's stdout and stderr go.
#[derive(Debug, Clone)]
pub enum Logs {
    /// To our stderr, each line after `prefix`, dimmed when `dim` is set and stderr is a terminal.
    Stderr {
        /// Put before each line.
        prefix: String,
        /// Dim the lines so that other output stands out.
        dim: bool,
    },
    /// Straight to our stdout and stderr.
    Inherit,
    /// Nowhere (benchmarks).
    Discard,
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
    fn keeps_instance(&self) -> bool {
        matches!(self, InvokeError::Function(_))
    }
}

enum Outcome {
    Response(Bytes),
    Error(Bytes),
}

struct Pending {
    id: String,
    event: Bytes,
    deadline_ms: u128,
    reply: oneshot::Sender<Outcome>,
}

/// State shared by an instance's Runtime API server and its handle.
struct Shared {
    arn: String,
    queue: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    spawned_at: Instant,
    /// Set on the first `/next`: the init duration.
    ready: watch::Sender<Option<Duration>>,
    init_error: Mutex<Option<String>>,
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
            Logs::Stderr { .. } => command.stdout(Stdio::piped()).stderr(Stdio::piped()),
            Logs::Inherit => command.stdout(Stdio::inherit()).stderr(Stdio::inherit()),
            Logs::Discard => command.stdout(Stdio::null()).stderr(Stdio::null()),
        };
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(err) => {
                server.abort();
                return Err(err).with_context(|| format!("starting {}", config.binary.display()));
            }
        };
        if let Logs::Stderr { prefix, dim } = &config.logs {
            use std::io::IsTerminal;
            let (before, after) = if *dim && std::io::stderr().is_terminal() {
                (format!("\u{1b}[2m{prefix}"), "\u{1b}[0m")
            } else {
                (prefix.clone(), "")
            };
            if let Some(out) = child.stdout.take() {
                tokio::spawn(forward_lines(out, before.clone(), after));
            }
            if let Some(err) = child.stderr.take() {
                tokio::spawn(forward_lines(err, before, after));
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

async fn forward_lines(stream: impl AsyncRead + Unpin, before: String, after: &'static str) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        eprintln!("{before}{line}{after}");
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(shared.clone(), request));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

type Body = Full<Bytes>;

async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Body>, hyper::Error> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let Some(route) = path.strip_prefix(API_PREFIX) else {
        return Ok(status(StatusCode::NOT_FOUND));
    };
    if method == Method::GET && route == "invocation/next" {
        return Ok(next(&shared).await);
    }
    if method != Method::POST {
        return Ok(status(StatusCode::METHOD_NOT_ALLOWED));
    }
    let body = request.into_body().collect().await?.to_bytes();
    if route == "init/error" {
        if let Ok(mut error) = shared.init_error.lock() {
            *error = Some(String::from_utf8_lossy(&body).into_owned());
        }
        return Ok(status(StatusCode::ACCEPTED));
    }
    let Some((id, verb)) = route
        .strip_prefix("invocation/")
        .and_then(|r| r.split_once('/'))
    else {
        return Ok(status(StatusCode::NOT_FOUND));
    };
    let outcome = match verb {
        "response" => Outcome::Response(body),
        "error" => Outcome::Error(body),
        _ => return Ok(status(StatusCode::NOT_FOUND)),
    };
    let reply = shared.in_flight.lock().ok().and_then(|mut m| m.remove(id));
    match reply {
        Some(reply) => {
            let _ = reply.send(outcome);
            Ok(status(StatusCode::ACCEPTED))
        }
        // Lambda answers a second response, or one for an unknown id, with 400.
        None => Ok(status(StatusCode::BAD_REQUEST)),
    }
}

/// `GET /invocation/next`: blocks until there is an invocation for this instance.
async fn next(shared: &Shared) -> Response<Body> {
    shared.ready.send_if_modified(|ready| {
        if ready.is_none() {
            *ready = Some(shared.spawned_at.elapsed());
            true
        } else {
            false
        }
    });
    let pending = shared.queue.lock().await.recv().await;
    let Some(pending) = pending else {
        return status(StatusCode::GONE);
    };
    if let Ok(mut in_flight) = shared.in_flight.lock() {
        in_flight.insert(pending.id.clone(), pending.reply);
    }
    let trace = format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs(),
        &uuid::Uuid::new_v4().simple().to_string()[..24],
        &uuid::Uuid::new_v4().simple().to_string()[..16]
    );
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", &pending.id)
        .header(
            "lambda-runtime-deadline-ms",
            pending.deadline_ms.to_string(),
        )
        .header("lambda-runtime-invoked-function-arn", &shared.arn)
        .header("lambda-runtime-trace-id", trace)
        .body(Full::new(pending.event))
        .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
}

fn status(code: StatusCode) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}

/// Instances of one function: an idle one serves each invocation, and a new one starts
/// (a cold start) when all are busy, up to a limit.
pub struct Pool {
    config: FunctionConfig,
    idle: Mutex<Vec<Instance>>,
    permits: Semaphore,
    cold_starts: std::sync::atomic::AtomicUsize,
}

impl Pool {
    /// A pool of at most `max` concurrent instances of `config`; none start until needed.
    pub fn new(config: FunctionConfig, max: usize) -> Self {
        Pool {
            config,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(max.max(1)),
            cold_starts: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The function this pool runs.
    pub fn config(&self) -> &FunctionConfig {
        &self.config
    }

    /// Starts one instance ahead of the first request; returns its init duration and pid.
    pub async fn warm(&self) -> Result<(Duration, Option<u32>)> {
        let instance = self.start().await?;
        let init = instance.ready().await?;
        let pid = instance.pid();
        self.park(instance);
        Ok((init, pid))
    }

    /// How many instances were started so far.
    pub fn cold_starts(&self) -> usize {
        self.cold_starts.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Invokes the function on an idle instance, or a new one if none is idle. Dropping the
    /// future before it ends discards (kills) the instance it was using.
    pub async fn invoke(&self, event: Bytes) -> Result<Bytes, InvokeError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| InvokeError::Crashed("the pool is closed".into()))?;
        let instance = match self.take_idle() {
            Some(instance) => instance,
            None => {
                let instance = self
                    .start()
                    .await
                    .map_err(|e| InvokeError::Crashed(format!("{e:#}")))?;
                instance
                    .ready()
                    .await
                    .map_err(|e| InvokeError::Crashed(format!("{e:#}")))?;
                instance
            }
        };
        let result = instance.invoke(event).await;
        // A timed-out or dead instance is discarded (and killed); the next call starts a new one.
        if result
            .as_ref()
            .err()
            .is_none_or(InvokeError::keeps_instance)
            && instance.is_alive()
        {
            self.park(instance);
        }
        result
    }

    async fn start(&self) -> Result<Instance> {
        self.cold_starts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Instance::spawn(&self.config).await
    }

    fn take_idle(&self) -> Option<Instance> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(instance) = idle.pop() {
            if instance.is_alive() {
                return Some(instance);
            }
        }
        None
    }

    fn park(&self, instance: Instance) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(instance);
        }
    }

    /// Refuses new invocations and stops every idle instance, waiting until each has exited
    /// (busy ones are killed when their invocation ends and the pool is dropped).
    pub async fn shutdown(&self) {
        self.permits.close();
        let idle = self
            .idle
            .lock()
            .map(|mut idle| std::mem::take(&mut *idle))
            .unwrap_or_default();
        for instance in idle {
            instance.stop().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for `bootstrap` speaking the Runtime API: echoes events, and obeys
    /// `{"crash": true}`, `{"sleep": seconds}` and `{"fail": true}`.
    const FAKE_RUNTIME: &str = r#"#!/usr/bin/env python3
import json, os, sys, time, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
if os.environ.get("FAIL_INIT"):
    urllib.request.urlopen(urllib.request.Request(api + "/init/error", data=b'{"errorMessage":"no config"}', method="POST"))
    sys.exit(3)
while True:
    with urllib.request.urlopen(api + "/invocation/next") as r:
        request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    if event.get("crash"):
        os._exit(1)
    time.sleep(event.get("sleep", 0))
    verb = "error" if event.get("fail") else "response"
    body = json.dumps({"echo": event, "pid": os.getpid(), "fn": os.environ["AWS_LAMBDA_FUNCTION_NAME"]}).encode()
    urllib.request.urlopen(urllib.request.Request(api + "/invocation/" + request_id + "/" + verb, data=body, method="POST")).read()
"#;

    /// The fake function's configuration; its folder is removed when dropped.
    struct Fake {
        config: FunctionConfig,
        dir: std::path::PathBuf,
    }

    impl Drop for Fake {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn fake(name: &str, timeout: Duration, env: &[(&str, &str)]) -> Fake {
        let dir = std::env::temp_dir().join(format!("xtask-runtime-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let binary = dir.join("bootstrap");
        std::fs::write(&binary, FAKE_RUNTIME).unwrap();
        #[cfg(unix)]
        std::fs::set_permissions(&binary, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let config = FunctionConfig {
            binary,
            name: format!("fake-{name}"),
            memory_mb: 128,
            timeout,
            region: "us-east-1".into(),
            account: "123456789012".into(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            logs: Logs::Discard,
        };
        Fake { config, dir }
    }

    async fn call(pool: &Pool, event: serde_json::Value) -> Result<serde_json::Value, InvokeError> {
        let answer = pool.invoke(Bytes::from(event.to_string())).await?;
        Ok(serde_json::from_slice(&answer).unwrap())
    }

    #[tokio::test]
    async fn answers_invocations_and_reuses_the_warm_instance() {
        let fake = fake("reuse", Duration::from_secs(5), &[]);
        let pool = Pool::new(fake.config.clone(), 4);
        let (_, pid) = pool.warm().await.unwrap();
        let first = call(&pool, serde_json::json!({"n": 1})).await.unwrap();
        let second = call(&pool, serde_json::json!({"n": 2})).await.unwrap();
        assert_eq!(first["echo"]["n"], 1);
        assert_eq!(second["echo"]["n"], 2);
        assert_eq!(first["fn"], "fake-reuse");
        assert_eq!(first["pid"], pid.unwrap());
        assert_eq!(second["pid"], pid.unwrap());
        assert_eq!(pool.cold_starts(), 1);
        pool.shutdown().await;
    }

    #[tokio::test]
    async fn fails_an_invocation_whose_process_dies_and_starts_a_new_instance() {
        let fake = fake("crash", Duration::from_secs(5), &[]);
        let pool = Pool::new(fake.config.clone(), 1);
        let before = call(&pool, serde_json::json!({})).await.unwrap()["pid"].clone();
        let crashed = call(&pool, serde_json::json!({"crash": true})).await;
        assert!(
            matches!(crashed, Err(InvokeError::Crashed(_))),
            "{crashed:?}"
        );
        let after = call(&pool, serde_json::json!({})).await.unwrap()["pid"].clone();
        assert_ne!(before, after);
        assert_eq!(pool.cold_starts(), 2);
        pool.shutdown().await;
    }

    #[tokio::test]
    async fn times_out_invocations_that_run_past_the_function_timeout() {
        let fake = fake("timeout", Duration::from_millis(500), &[]);
        let pool = Pool::new(fake.config.clone(), 1);
        pool.warm().await.unwrap();
        let started = Instant::now();
        let slow = call(&pool, serde_json::json!({"sleep": 5})).await;
        assert!(matches!(slow, Err(InvokeError::Timeout(_))), "{slow:?}");
        assert!(started.elapsed() < Duration::from_secs(3));
        // The timed-out instance is discarded: the next call gets a new one.
        assert!(call(&pool, serde_json::json!({})).await.is_ok());
        assert_eq!(pool.cold_starts(), 2);
        pool.shutdown().await;
    }

    #[tokio::test]
    async fn reports_function_errors_and_keeps_the_instance() {
        let fake = fake("error", Duration::from_secs(5), &[]);
        let pool = Pool::new(fake.config.clone(), 1);
        let failed = call(&pool, serde_json::json!({"fail": true})).await;
        assert!(
            matches!(failed, Err(InvokeError::Function(_))),
            "{failed:?}"
        );
        assert!(call(&pool, serde_json::json!({})).await.is_ok());
        assert_eq!(pool.cold_starts(), 1);
        pool.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serves_concurrent_invocations_on_separate_instances() {
        let fake = fake("parallel", Duration::from_secs(10), &[]);
        let pool = Arc::new(Pool::new(fake.config.clone(), 3));
        let calls: Vec<_> = (0..3)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move {
                    call(&pool, serde_json::json!({"sleep": 0.5}))
                        .await
                        .unwrap()["pid"]
                        .clone()
                })
            })
            .collect();
        let mut pids = Vec::new();
        for call in calls {
            pids.push(call.await.unwrap());
        }
        pids.sort_by_key(|p| p.as_u64());
        pids.dedup();
        assert_eq!(pids.len(), 3);
        assert_eq!(pool.cold_starts(), 3);
        pool.shutdown().await;
    }

    #[tokio::test]
    async fn reports_init_errors() {
        let fake = fake("init", Duration::from_secs(5), &[("FAIL_INIT", "1")]);
        let pool = Pool::new(fake.config.clone(), 1);
        let err = pool.warm().await.unwrap_err().to_string();
        assert!(err.contains("no config"), "{err}");
    }
}
