//! The local API's HTTP server: one connection task per client, each request through
//! [`Api::handle`], one log line per request, and a graceful stop.

use super::api::Api;
use super::handle::Backend;
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// Serves `api` on `listener` until `shutdown` turns true, then lets running requests finish
/// (at most `drain`). Logs one line per request on stdout when `log` is set.
pub async fn serve<B: Backend>(
    api: Arc<Api>,
    backend: Arc<B>,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
    log: bool,
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
        let (api, backend, alive, mut shutdown) = (
            api.clone(),
            backend.clone(),
            alive.clone(),
            shutdown.clone(),
        );
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let (api, backend) = (api.clone(), backend.clone());
                async move {
                    let started = Instant::now();
                    let (method, path) =
                        (request.method().clone(), request.uri().path().to_owned());
                    let response = api.handle(backend.as_ref(), request, client).await;
                    if log {
                        log_line(&method, &path, response.status(), started.elapsed());
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

fn log_line(method: &Method, path: &str, status: StatusCode, elapsed: Duration) {
    println!(
        "{method} {path} {} {:.1} ms",
        status.as_u16(),
        elapsed.as_secs_f64() * 1000.0
    );
}
