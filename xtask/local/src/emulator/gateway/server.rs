//! The local API's HTTP server: one connection task per client, each request through
//! [`Api::handle`], one log line per request, and a graceful stop.

use super::api::Api;
use super::handle::Backend;
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// Where the requests' log lines go.
#[derive(Debug, Clone, Default)]
pub struct AccessLog {
    /// One line per request on stdout (method, path, status, ms).
    pub print: bool,
    /// One JSON line per request appended here, in the stage's access log format (what
    /// `cargo xtask logs --env local --access` reads).
    pub keep: Option<Arc<Mutex<std::fs::File>>>,
}

impl AccessLog {
    /// Prints and keeps in `path` (created with its folder).
    pub fn printed_and_kept(path: &std::path::Path) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(AccessLog {
            print: true,
            keep: Some(Arc::new(Mutex::new(file))),
        })
    }
}

/// Serves the latest `api` on `listener` until `shutdown` turns true, then lets running
/// requests finish (at most `drain`). Logs each request as `log` says.
pub async fn serve<B: Backend>(
    api: watch::Receiver<Arc<Api>>,
    backend: Arc<B>,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
    log: AccessLog,
    drain: Duration,
) {
    let (alive, mut all_done) = mpsc::channel::<()>(1);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stopping(&mut shutdown) => break,
        };
        let Ok((stream, client)) = accepted else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (api, backend, alive, mut shutdown, log) = (
            api.clone(),
            backend.clone(),
            alive.clone(),
            shutdown.clone(),
            log.clone(),
        );
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let (backend, log) = (backend.clone(), log.clone());
                // A reload may have replaced the API since the last request.
                let api = api.borrow().clone();
                async move {
                    let started = Instant::now();
                    let (method, path) =
                        (request.method().clone(), request.uri().path().to_owned());
                    let response = api.handle(backend.as_ref(), request, client).await;
                    if log.print {
                        log_line(&method, &path, response.status(), started.elapsed());
                    }
                    if let Some(file) = &log.keep {
                        let line = access_line(&method, &path, &response, client, started);
                        if let Ok(mut file) = file.lock() {
                            let _ = writeln!(file, "{line}");
                        }
                    }
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stopping(&mut shutdown) => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(alive);
        });
    }
    drop(alive);
    let _ = tokio::time::timeout(drain, all_done.recv()).await;
}

/// Resolves once `shutdown` turns true (or its sender is gone).
async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// The stage's access log fields this emulation knows (no authorizer claims or WAF here).
fn access_line<T>(
    method: &Method,
    path: &str,
    response: &http::Response<T>,
    client: std::net::SocketAddr,
    started: Instant,
) -> String {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned()
    };
    let started_ms = std::time::SystemTime::now()
        .checked_sub(started.elapsed())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis());
    serde_json::json!({
        "requestId": header("x-amzn-requestid"),
        "requestTime": started_ms.to_string(),
        "sourceIp": client.ip().to_string(),
        "method": method.as_str(),
        "resourcePath": path,
        "status": response.status().as_u16().to_string(),
        "latency": started.elapsed().as_millis().to_string(),
        "errorType": header("x-amzn-errortype"),
    })
    .to_string()
}

fn log_line(method: &Method, path: &str, status: StatusCode, elapsed: Duration) {
    println!(
        "{method} {path} {} {:.1} ms",
        status.as_u16(),
        elapsed.as_secs_f64() * 1000.0
    );
}
