//! What the function asks of DynamoDB, and what it answers when DynamoDB fails.

use crate::support::{Event, TestApi, config};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Drives every route once and compares the operations sent with the manifest's list,
/// from which infra derives the IAM policy.
#[tokio::test]
async fn calls_exactly_the_declared_dynamodb_operations() {
    let api = TestApi::start().await;
    let id = api
        .call(Event::post("/v1/tickets", json!({"title": "a"})))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/tickets/{id}");
    let steps = [
        (
            Event::post("/v1/tickets", json!({"title": "b"})).header("Idempotency-Key", "k"),
            201,
        ),
        (
            Event::post("/v1/tickets", json!({"title": "b"})).header("Idempotency-Key", "k"),
            201,
        ),
        (Event::get("/v1/tickets").query("limit", "1"), 200),
        (Event::get("/v1/tickets").query("status", "NEW"), 200),
        (Event::get(&path), 200),
        (Event::put(&path, json!({"title": "c"})), 200),
        (
            Event::patch(&path, json!({"status": "OPEN"})).header("If-Match", "\"2\""),
            200,
        ),
        (
            Event::patch(&path, json!({"status": "OPEN"})).header("If-Match", "\"2\""),
            412,
        ),
        (Event::delete(&path).admin(), 204),
    ];
    for (event, status) in steps {
        api.call(event).await.assert_status(status);
    }
    let sent = api.recorder.operations();
    let declared: BTreeSet<String> = tickets_manifest::dynamodb::api_names()
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(sent, declared);
}

#[tokio::test]
async fn answers_503_with_retry_after_when_dynamodb_is_unreachable() {
    // A port that was free a moment ago: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let api = TestApi::against(&format!("http://127.0.0.1:{port}"), config("tickets")).await;
    let started = Instant::now();
    let problem_response = api.call(Event::get("/v1/tickets")).await;
    let elapsed = started.elapsed();
    let problem = problem_response.problem(503);
    assert_eq!(problem_response.header("retry-after"), Some("1"));
    assert!(
        !problem["detail"].as_str().unwrap().contains("127.0.0.1"),
        "internals leaked: {problem}"
    );
    // Timeouts and retries are bounded on purpose (store::CALL_TIMEOUT); this is a bound,
    // not a benchmark.
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
}

#[tokio::test]
async fn a_missing_table_is_a_500_that_leaks_nothing() {
    let api = TestApi::start_with_table("tickets").await;
    let wrong = TestApi::against(&api.endpoint, config("no-such-table")).await;
    let response = wrong.call(Event::get("/v1/tickets")).await;
    let problem = response.problem(500);
    let text = problem.to_string();
    assert!(
        !text.contains("no-such-table") && !text.contains("ResourceNotFound"),
        "{text}"
    );
}
