//! The Lambda Runtime API an instance's `bootstrap` talks to: `GET /invocation/next` hands
//! it the next event, `POST /invocation/{id}/response` and `/error` answer it, and
//! `POST /init/error` reports a failed start.
//!
//! Per invocation there is no process, thread or connection set-up: the function keeps one
//! keep-alive connection to its instance's server, and an invocation is a message on a
//! channel to the request handler that is waiting in `/next`.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

const API_PREFIX: &str = "/2018-06-01/runtime/";

/// How the function answered an invocation.
pub(super) enum Outcome {
    Response(Bytes),
    Error(Bytes),
}

/// An invocation waiting for the function to take it.
pub(super) struct Pending {
    pub(super) id: String,
    pub(super) event: Bytes,
    pub(super) deadline_ms: u128,
    pub(super) reply: oneshot::Sender<Outcome>,
}

/// State shared by an instance's Runtime API server and its handle.
pub(super) struct Shared {
    pub(super) arn: String,
    pub(super) queue: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    pub(super) in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    pub(super) spawned_at: Instant,
    /// Set on the first `/next`: the init duration.
    pub(super) ready: watch::Sender<Option<Duration>>,
    pub(super) init_error: Mutex<Option<String>>,
}

/// Serves the Runtime API of one instance.
pub(super) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
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
