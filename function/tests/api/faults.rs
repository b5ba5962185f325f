//! DynamoDB failing: clients get `503` with `Retry-After`, never a `500`, and the service
//! recovers by itself when DynamoDB is back.

use crate::support::{Event, TestApi, config, create_table};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::json;
use std::convert::Infallible;
use std::time::Instant;

/// Every route, once.
fn every_route() -> Vec<Event> {
    let one = "/v1/tickets/3f2a1c9e-8b7d-4e6f-a5b4-c3d2e1f0a9b8";
    vec![
        Event::get("/v1/tickets"),
        Event::get("/v1/tickets").query("status", "OPEN"),
        Event::post("/v1/tickets", json!({"title": "t"})),
        Event::post("/v1/tickets", json!({"title": "t"})).header("Idempotency-Key", "k"),
        Event::get(one),
        Event::put(one, json!({"title": "t"})),
        Event::patch(one, json!({"title": "t"})),
        Event::delete(one).admin(),
    ]
}

#[tokio::test]
async fn recovers_by_itself_when_dynamodb_comes_back() {
    // Reserve a port, and leave it closed for now: DynamoDB is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let api = TestApi::against(&endpoint, config("tickets")).await;
    for event in every_route() {
        let started = Instant::now();
        let response = api.call(event).await;
        response.problem(503);
        assert_eq!(response.header("retry-after"), Some("1"));
        eprintln!("503 after {:.0?}", started.elapsed());
    }

    // DynamoDB comes back on the same address; the same function instance serves again.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let db = dynoxide::Database::memory().unwrap();
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(dynoxide::server::serve_with_shutdown(listener, db, async {
        let _ = stopped.await;
    }));
    create_table(&api.admin, &api.table).await;
    api.call(Event::post("/v1/tickets", json!({"title": "back"})))
        .await
        .assert_status(201);
    let listed = api.call(Event::get("/v1/tickets")).await;
    listed.assert_status(200);
    assert_eq!(listed.json()["items"][0]["title"], "back");
}

/// A server that answers every DynamoDB call the way DynamoDB throttles.
async fn throttling_dynamodb() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let service = service_fn(|_request: hyper::Request<Incoming>| async {
                    let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#;
                    Ok::<_, Infallible>(
                        hyper::Response::builder()
                            .status(400)
                            .header("content-type", "application/x-amz-json-1.0")
                            .header("x-amzn-errortype", "ProvisionedThroughputExceededException")
                            .body(Full::new(Bytes::from_static(body.as_bytes())))
                            .unwrap(),
                    )
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    endpoint
}

#[tokio::test]
async fn throttling_is_a_503_never_a_500() {
    let endpoint = throttling_dynamodb().await;
    let api = TestApi::against(&endpoint, config("tickets")).await;
    for event in every_route() {
        let response = api.call(event).await;
        let problem = response.problem(503);
        assert_eq!(response.header("retry-after"), Some("1"));
        assert!(
            !problem.to_string().contains("Throughput"),
            "internals leaked: {problem}"
        );
    }
}
