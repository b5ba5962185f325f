//! A stand-in for a deployed ticket API, for the `smoke` tests (moto runs no API Gateway or
//! Lambda): the routes the smoke scenario calls, answered from memory, with a status index
//! that lags behind writes as a DynamoDB global secondary index does.

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct State {
    tickets: BTreeMap<String, (Value, u64)>,
    /// Listings that must still miss a ticket after it is created.
    lag: u32,
    /// Listings since the last create.
    listings: u32,
    writes: usize,
    requests: usize,
}

/// A running fake API, stopped when dropped.
pub struct FakeApi {
    /// Its base URL, stage included (`http://127.0.0.1:<port>/<stage>`).
    pub url: String,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeApi {
    /// Serves under `/<stage>`; a new ticket shows in `?status=` listings only from the
    /// `lag`+1-th listing on.
    pub fn start(stage: &str, lag: u32) -> FakeApi {
        let state = Arc::new(Mutex::new(State {
            lag,
            ..State::default()
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}/{stage}", listener.local_addr().unwrap());
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = state.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    tokio::select! {
                        _ = &mut stopped => break,
                        accepted = listener.accept() => {
                            let Ok((stream, _)) = accepted else { continue };
                            let state = serving.clone();
                            tokio::spawn(async move {
                                let service = service_fn(move |request| {
                                    let state = state.clone();
                                    async move { Ok::<_, std::convert::Infallible>(answer(&state, request).await) }
                                });
                                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                            });
                        }
                    }
                }
            });
        });
        FakeApi {
            url,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Requests that changed data (POST, PUT, PATCH, DELETE).
    pub fn writes(&self) -> usize {
        self.state.lock().unwrap().writes
    }

    /// Every request.
    pub fn requests(&self) -> usize {
        self.state.lock().unwrap().requests
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn reply(
    status: StatusCode,
    body: Option<&Value>,
    headers: &[(&str, String)],
) -> Response<Full<Bytes>> {
    let mut response = Response::builder().status(status);
    for (name, value) in headers {
        response = response.header(*name, value);
    }
    let body = match body {
        Some(body) => {
            response = response.header("content-type", "application/json");
            Bytes::from(body.to_string())
        }
        None => Bytes::new(),
    };
    response.body(Full::new(body)).unwrap()
}

fn claims(token: &str) -> Value {
    token
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null)
}

async fn answer(state: &Mutex<State>, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body: Value = body
        .collect()
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b.to_bytes()).ok())
        .unwrap_or(Value::Null);
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut state = state.lock().unwrap();
    state.requests += 1;
    let path = parts.uri.path().to_owned();
    let stage = path.split('/').nth(1).unwrap_or_default().to_owned();
    let rest = path
        .strip_prefix(&format!("/{stage}/v1/tickets"))
        .map(str::to_owned);
    let Some(rest) = rest else {
        return reply(
            StatusCode::NOT_FOUND,
            Some(&json!({"message": "Missing Authentication Token"})),
            &[],
        );
    };
    if parts.method == Method::OPTIONS {
        return reply(
            StatusCode::NO_CONTENT,
            None,
            &[
                (
                    "access-control-allow-origin",
                    header("origin").unwrap_or_else(|| "*".into()),
                ),
                (
                    "access-control-allow-methods",
                    "GET,POST,PUT,PATCH,DELETE,OPTIONS".into(),
                ),
                (
                    "access-control-allow-headers",
                    "authorization,content-type,if-match,idempotency-key".into(),
                ),
            ],
        );
    }
    let Some(token) = header("authorization") else {
        return reply(
            StatusCode::UNAUTHORIZED,
            Some(&json!({"message": "Unauthorized"})),
            &[],
        );
    };
    if parts.method != Method::GET {
        state.writes += 1;
    }
    let etag = |version: u64| format!("\"{version}\"");
    let id = rest.trim_start_matches('/').to_owned();
    match (parts.method.clone(), id.is_empty()) {
        (Method::POST, true) => {
            let id = uuid::Uuid::new_v4().to_string();
            let mut ticket = body.clone();
            ticket["id"] = json!(id);
            state.tickets.insert(id.clone(), (ticket.clone(), 1));
            state.listings = 0;
            reply(
                StatusCode::CREATED,
                Some(&ticket),
                &[
                    ("location", format!("/{stage}/v1/tickets/{id}")),
                    ("etag", etag(1)),
                ],
            )
        }
        (Method::GET, true) => {
            let visible = state.listings >= state.lag;
            state.listings += 1;
            let wanted = parts
                .uri
                .query()
                .unwrap_or_default()
                .split('&')
                .find_map(|p| p.strip_prefix("status="))
                .map(str::to_owned);
            let items: Vec<Value> = state
                .tickets
                .values()
                .filter(|(t, _)| wanted.as_deref().is_none_or(|s| t["status"] == s))
                .filter(|_| visible)
                .map(|(t, _)| t.clone())
                .collect();
            reply(StatusCode::OK, Some(&json!({"items": items})), &[])
        }
        (method, false) => {
            let Some((ticket, version)) = state.tickets.get(&id).cloned() else {
                return reply(
                    StatusCode::NOT_FOUND,
                    Some(&json!({"title": "Not Found"})),
                    &[],
                );
            };
            match method {
                Method::GET => reply(StatusCode::OK, Some(&ticket), &[("etag", etag(version))]),
                Method::PATCH | Method::PUT => {
                    if header("if-match").as_deref() != Some(etag(version).as_str()) {
                        return reply(
                            StatusCode::PRECONDITION_FAILED,
                            Some(&json!({"title": "Precondition Failed"})),
                            &[],
                        );
                    }
                    let mut updated = ticket.clone();
                    if method == Method::PUT {
                        updated = body.clone();
                        updated["id"] = json!(id);
                    } else if let Some(changes) = body.as_object() {
                        for (k, v) in changes {
                            updated[k] = v.clone();
                        }
                    }
                    state
                        .tickets
                        .insert(id.clone(), (updated.clone(), version + 1));
                    reply(
                        StatusCode::OK,
                        Some(&updated),
                        &[("etag", etag(version + 1))],
                    )
                }
                Method::DELETE => {
                    let admin = claims(&token)["cognito:groups"]
                        .as_array()
                        .is_some_and(|g| g.iter().any(|g| g == "admins"));
                    if !admin {
                        return reply(
                            StatusCode::FORBIDDEN,
                            Some(&json!({"title": "Forbidden"})),
                            &[],
                        );
                    }
                    state.tickets.remove(&id);
                    reply(StatusCode::NO_CONTENT, None, &[])
                }
                _ => reply(StatusCode::METHOD_NOT_ALLOWED, None, &[]),
            }
        }
        _ => reply(StatusCode::METHOD_NOT_ALLOWED, None, &[]),
    }
}
