//! The gateway read from the real `local` template, driven request by request with a fake
//! function behind it.

use super::api::Api;
use super::handle::Backend;
use super::proxy_event::{canonical, request_time};
use super::responses::proxy_response;
use super::routing::{match_segments, percent_decode, segments};
use super::throttle::throttle;
use crate::emulator::auth::{SigningKey, TokenRequest, UserPool};
use crate::emulator::instance::InvokeError;
use crate::emulator::template::LocalTemplate;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

/// Records the events it receives and answers with `answer` (or fails when `None`).
struct FakeFunction {
    events: Mutex<Vec<Value>>,
    answer: Option<Value>,
}

impl Backend for FakeFunction {
    fn invoke(
        &self,
        _: &str,
        event: Bytes,
    ) -> Pin<Box<dyn Future<Output = Result<Bytes, InvokeError>> + Send + '_>> {
        self.events
            .lock()
            .unwrap()
            .push(serde_json::from_slice(&event).unwrap());
        let answer = self.answer.clone();
        Box::pin(async move {
            answer
                .map(|a| Bytes::from(a.to_string()))
                .ok_or_else(|| InvokeError::Function(Bytes::from_static(b"{}")))
        })
    }
}

struct Fixture {
    api: Api,
    function: FakeFunction,
    user: String,
    admin: String,
    dir: std::path::PathBuf,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn fixture(name: &str, answer: Option<Value>) -> Fixture {
    let template = LocalTemplate::synthesize("local").unwrap();
    let dir = std::env::temp_dir().join(format!("xtask-gateway-{name}-{}", std::process::id()));
    let key = SigningKey::load_or_create(&dir).unwrap();
    let pool = UserPool::of_template(&template).unwrap();
    let token = |groups: Vec<String>| {
        key.issue(
            &pool,
            &TokenRequest {
                user: "alice".into(),
                groups,
                expires_in: 60,
                audience: None,
            },
        )
        .unwrap()
    };
    Fixture {
        api: Api::from_template(&template, key.jwks()).unwrap(),
        function: FakeFunction {
            events: Mutex::new(Vec::new()),
            answer,
        },
        user: token(Vec::new()),
        admin: token(vec!["admins".into(), "support".into()]),
        dir,
    }
}

async fn send(f: &Fixture, request: http::request::Builder, body: &[u8]) -> Response<Full<Bytes>> {
    let request = request
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap();
    f.api
        .handle(&f.function, request, "127.0.0.1:50000".parse().unwrap())
        .await
}

async fn body_json(response: Response<Full<Bytes>>) -> Value {
    serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

fn ok_answer() -> Option<Value> {
    Some(
        json!({"statusCode": 200, "headers": {"content-type": "application/json"}, "multiValueHeaders": {}, "body": "{}", "isBase64Encoded": false}),
    )
}

#[test]
fn serves_exactly_the_operations_the_function_declares() {
    let f = fixture("operations", None);
    let declared: Vec<(String, String)> = tickets_manifest::routes::operations()
        .into_iter()
        .map(|(method, path)| (method.as_str().to_owned(), path.to_owned()))
        .collect();
    let mut served = f.api.operations();
    served.sort();
    let mut declared = declared;
    declared.sort();
    assert_eq!(served, declared);
    assert_eq!(f.api.stage, "local");
}

#[tokio::test]
async fn builds_rest_proxy_events_like_api_gateway() {
    let f = fixture("event", ok_answer());
    let request = Request::builder()
        .method("PUT")
        .uri("/v1/tickets/abc%20d?x=1&x=2&q=a+b")
        .header("host", "127.0.0.1:3000")
        .header("authorization", &f.admin)
        .header("x-multi", "a")
        .header("x-multi", "b")
        .header("content-type", "application/octet-stream");
    let response = send(&f, request, &[0xff, 0x00, 0x01]).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-amzn-requestid"));
    let event = f.function.events.lock().unwrap().pop().unwrap();
    assert_eq!(event["resource"], "/v1/tickets/{id}");
    assert_eq!(event["path"], "/v1/tickets/abc%20d");
    assert_eq!(event["httpMethod"], "PUT");
    assert_eq!(event["pathParameters"], json!({"id": "abc d"}));
    assert_eq!(
        event["queryStringParameters"],
        json!({"x": "2", "q": "a b"})
    );
    assert_eq!(
        event["multiValueQueryStringParameters"]["x"],
        json!(["1", "2"])
    );
    assert_eq!(event["multiValueHeaders"]["X-Multi"], json!(["a", "b"]));
    assert_eq!(event["headers"]["X-Multi"], "b");
    assert_eq!(event["isBase64Encoded"], true);
    assert_eq!(event["body"], BASE64.encode([0xff, 0x00, 0x01]));
    let context = &event["requestContext"];
    assert_eq!(context["stage"], "local");
    assert_eq!(context["path"], "/v1/tickets/abc%20d");
    assert_eq!(context["resourcePath"], "/v1/tickets/{id}");
    assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
    assert!(
        context["requestId"]
            .as_str()
            .is_some_and(|id| id.len() == 36)
    );
    let claims = context["authorizer"]["claims"].as_object().unwrap();
    assert!(claims.values().all(Value::is_string), "{claims:?}");
    assert_eq!(claims["cognito:groups"], "admins,support");
    assert_eq!(claims["cognito:username"], "alice");
    assert_eq!(claims["token_use"], "id");
}

#[tokio::test]
async fn lets_preflight_through_without_a_token() {
    let f = fixture("preflight", ok_answer());
    let request = Request::builder()
        .method("OPTIONS")
        .uri("/v1/tickets")
        .header("origin", "http://localhost:3000");
    assert_eq!(send(&f, request, b"").await.status(), 200);
    let event = f.function.events.lock().unwrap().pop().unwrap();
    assert_eq!(event["requestContext"]["authorizer"], Value::Null);
}

#[tokio::test]
async fn answers_502_with_cors_headers_when_the_function_fails() {
    let f = fixture("failure", None);
    let request = Request::builder()
        .uri("/v1/tickets")
        .header("authorization", &f.user);
    let response = send(&f, request, b"").await;
    assert_eq!(response.status(), 502);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert_eq!(
        body_json(response).await,
        json!({"message": "Internal server error"})
    );
}

#[tokio::test]
async fn throttles_beyond_the_stage_burst() {
    let mut f = fixture("throttle", ok_answer());
    // The stage's own limits, with a refill too slow to matter however slowly requests go
    // (local's 2000 per second refills faster than a busy machine sends).
    let burst = 20;
    let settings = json!([{
        "HttpMethod": "*",
        "ResourcePath": "/*",
        "ThrottlingRateLimit": 0.01,
        "ThrottlingBurstLimit": burst,
    }]);
    f.api.throttle = throttle(&settings).map(std::sync::Mutex::new);
    let mut statuses = Vec::new();
    while !statuses.contains(&429) && statuses.len() < burst * 10 {
        let request = Request::builder()
            .uri("/v1/tickets")
            .header("authorization", &f.user);
        statuses.push(send(&f, request, b"").await.status().as_u16());
    }
    assert!(statuses.iter().take(burst).all(|s| *s == 200));
    assert_eq!(statuses.last(), Some(&429), "never throttled");
}

#[test]
fn matches_literals_before_parameters() {
    let routes = [
        segments("/v1/tickets/{id}"),
        segments("/v1/tickets/search"),
        segments("/files/{key+}"),
    ];
    let parts = |p: &str| p[1..].split('/').map(str::to_owned).collect::<Vec<_>>();
    let matched = |path: &str| {
        let p = parts(path);
        let p: Vec<&str> = p.iter().map(String::as_str).collect();
        routes
            .iter()
            .filter_map(|r| match_segments(r, &p).map(|m| (r.clone(), m)))
            .min_by(|a, b| a.0.cmp(&b.0))
    };
    assert_eq!(matched("/v1/tickets/search").unwrap().1, BTreeMap::new());
    assert_eq!(matched("/v1/tickets/a%20b").unwrap().1["id"], "a b");
    assert_eq!(matched("/files/a/b/c").unwrap().1["key"], "a/b/c");
    assert!(matched("/v1/tickets").is_none());
    assert!(matched("/v1/tickets/x/y").is_none());
}

#[test]
fn reads_lambda_proxy_responses() {
    let answer = json!({
        "statusCode": 201, "headers": {"content-type": "application/json", "etag": "\"1\""},
        "multiValueHeaders": {"vary": ["origin", "access-control-request-method"]},
        "body": "{}", "isBase64Encoded": false
    });
    let response = proxy_response(answer.to_string().as_bytes()).unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers().get_all("vary").iter().count(), 2);
    assert_eq!(response.headers()["etag"], "\"1\"");
    assert!(proxy_response(b"{\"body\":\"x\"}").is_err());
    assert!(proxy_response(b"not json").is_err());
}

#[test]
fn formats_times_like_api_gateway() {
    assert_eq!(request_time(1_764_392_574), "29/Nov/2025:05:02:54 +0000");
    assert_eq!(canonical("content-type"), "Content-Type");
    assert_eq!(percent_decode("a%2Fb%zz%4"), "a/b%zz%4");
}
