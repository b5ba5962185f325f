//! The requests the benchmark replays: each one sent once through the local API Gateway
//! emulation (`gateway::Api`, Cognito token and all) to capture the REST proxy event it
//! makes, then replayed byte for byte straight into the Runtime API. Events are thus
//! exactly what `cargo xtask local` sends the function, without the gateway's JWT check
//! and throttling in the timed path.

use crate::emulator::auth::{SigningKey, TokenRequest, UserPool};
use crate::emulator::gateway::api::Api;
use crate::emulator::gateway::handle::Backend;
use crate::emulator::instance::InvokeError;
use crate::emulator::instance_pool::Pool;
use crate::emulator::template::LocalTemplate;
use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tickets_manifest::routes::TICKETS;

/// How many tickets the table holds before anything is timed.
pub const SEED_TICKETS: usize = 100;
/// The page size of the list request.
pub const LIST_LIMIT: u16 = 20;

/// The three captured events and the ticket the read fetches.
pub struct Workload {
    /// `POST /v1/tickets` with a JSON body (no `Idempotency-Key`: every replay creates one).
    pub create: Bytes,
    /// `GET /v1/tickets/{id}` of [`Workload::ticket_id`].
    pub get: Bytes,
    /// `GET /v1/tickets?limit=20`.
    pub list: Bytes,
    /// `OPTIONS /v1/tickets/{id}`, a CORS preflight: answered without calling DynamoDB.
    pub preflight: Bytes,
    /// The ticket read by `get`.
    pub ticket_id: String,
}

/// The body of every create: a typical ticket, every writable field set.
pub fn ticket_body() -> Value {
    json!({
        "title": "Printer on fire",
        "description": "Third floor, next to the kitchen, since 9am. Smoke but no flames yet.",
        "priority": "HIGH",
        "status": "OPEN",
        "assignee": "facilities"
    })
}

/// Forwards invocations to the pool and keeps the last event the gateway built.
struct Recorder {
    pool: Arc<Pool>,
    event: Mutex<Option<Bytes>>,
}

impl Backend for Recorder {
    fn invoke(
        &self,
        _logical_id: &str,
        event: Bytes,
    ) -> Pin<Box<dyn Future<Output = Result<Bytes, InvokeError>> + Send + '_>> {
        if let Ok(mut last) = self.event.lock() {
            *last = Some(event.clone());
        }
        Box::pin(self.pool.invoke(event))
    }
}

/// Captures the events through the template's API (with a token from a signing key kept in
/// `state`), checks each answer, and seeds the table with [`SEED_TICKETS`] tickets.
pub async fn prepare(template: &LocalTemplate, state: &Path, pool: Arc<Pool>) -> Result<Workload> {
    let key = SigningKey::load_or_create(state)?;
    let api = Api::from_template(template, key.jwks())?;
    let user_pool = UserPool::of_template(template)?;
    let token = key.issue(
        &user_pool,
        &TokenRequest {
            user: "bench".into(),
            groups: Vec::new(),
            expires_in: 3600,
            audience: None,
        },
    )?;
    let recorder = Recorder {
        pool: pool.clone(),
        event: Mutex::new(None),
    };
    let capture = Capture {
        api: &api,
        recorder: &recorder,
        token: &token,
    };
    let (create, created) = capture
        .send(
            capture.signed(Method::POST, TICKETS.path),
            Some(ticket_body()),
            201,
        )
        .await?;
    let ticket_id = created["id"]
        .as_str()
        .context("the create response has no id")?
        .to_owned();
    let path = format!("{}/{ticket_id}", TICKETS.path);
    let (get, _) = capture
        .send(capture.signed(Method::GET, &path), None, 200)
        .await?;
    let origin = template_origin(template)?;
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri(&path)
        .header("origin", origin)
        .header("access-control-request-method", "PUT")
        .header(
            "access-control-request-headers",
            "authorization,content-type,if-match",
        );
    let (preflight, _) = capture.send(preflight, None, 200).await?;
    for _ in 1..SEED_TICKETS {
        expect_status(&pool.invoke(create.clone()).await?, 201)?;
    }
    let (list, page) = capture
        .send(
            capture.signed(Method::GET, &format!("{}?limit={LIST_LIMIT}", TICKETS.path)),
            None,
            200,
        )
        .await?;
    let listed = page["items"].as_array().map_or(0, Vec::len);
    if listed != usize::from(LIST_LIMIT) {
        bail!("the list request returned {listed} tickets instead of {LIST_LIMIT}");
    }
    Ok(Workload {
        create,
        get,
        list,
        preflight,
        ticket_id,
    })
}

struct Capture<'a> {
    api: &'a Api,
    recorder: &'a Recorder,
    token: &'a str,
}

impl Capture<'_> {
    /// A request with the token, as a signed-in client sends it.
    fn signed(&self, method: Method, path: &str) -> http::request::Builder {
        Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", self.token)
    }

    /// Sends `request` through the gateway; returns the event it built and the JSON body
    /// of the answer (`null` if none), which must have status `expected`.
    async fn send(
        &self,
        request: http::request::Builder,
        body: Option<Value>,
        expected: u16,
    ) -> Result<(Bytes, Value)> {
        let mut request = request
            .header("host", "127.0.0.1:3000")
            .header("user-agent", "xtask-bench")
            .header("accept", "application/json");
        let body = match body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                Bytes::from(json.to_string())
            }
            None => Bytes::new(),
        };
        let request = request.body(Full::new(body))?;
        let what = format!("{} {}", request.method(), request.uri());
        let client = SocketAddr::from(([127, 0, 0, 1], 50000));
        let response = self.api.handle(self.recorder, request, client).await;
        let status = response.status().as_u16();
        let text = response.into_body().collect().await?.to_bytes();
        if status != expected {
            bail!(
                "{what} answered {status} instead of {expected}: {}",
                String::from_utf8_lossy(&text)
            );
        }
        let event = self
            .recorder
            .event
            .lock()
            .map_err(|_| anyhow!("the event recorder is poisoned"))?
            .take()
            .with_context(|| format!("{what} did not reach the function"))?;
        let json = serde_json::from_slice(&text).unwrap_or(Value::Null);
        Ok((event, json))
    }
}

/// An origin the function's CORS policy allows: the first of `ALLOWED_ORIGINS`, or any
/// for `*`.
fn template_origin(template: &LocalTemplate) -> Result<String> {
    let (function, properties) = template.api_function()?;
    let origins = template.resolve_string(
        &properties["Environment"]["Variables"][tickets_manifest::config::ALLOWED_ORIGINS],
    );
    let origins = origins.with_context(|| format!("{function} has no ALLOWED_ORIGINS"))?;
    Ok(match origins.split(',').next().map(str::trim) {
        Some(origin) if !origin.is_empty() && origin != "*" => origin.to_owned(),
        _ => "https://app.example.com".into(),
    })
}

/// Fails unless the function's proxy response has status `expected`: a benchmark of
/// errors is worthless.
pub fn expect_status(answer: &[u8], expected: u16) -> Result<()> {
    #[derive(serde::Deserialize)]
    struct Proxy {
        #[serde(rename = "statusCode")]
        status: u16,
    }
    let proxy: Proxy = serde_json::from_slice(answer).with_context(|| {
        format!(
            "the function's answer is not a proxy response: {}",
            String::from_utf8_lossy(answer)
        )
    })?;
    if proxy.status != expected {
        bail!(
            "the function answered {} instead of {expected}: {}",
            proxy.status,
            String::from_utf8_lossy(answer)
        );
    }
    Ok(())
}
