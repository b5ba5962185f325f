//! `If-Match` and `Idempotency-Key`.

use crate::support::event::ADMIN;
use crate::support::{Event, TestApi};
use serde_json::json;

async fn created_id(api: &TestApi) -> String {
    let response = api
        .call(Event::post("/v1/tickets", json!({"title": "t"})))
        .await;
    response.assert_status(201);
    response.json()["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn writes_with_the_current_etag_succeed() {
    let api = TestApi::start().await;
    let path = format!("/v1/tickets/{}", created_id(&api).await);
    let patched = api
        .call(Event::patch(&path, json!({"status": "OPEN"})).header("If-Match", "\"1\""))
        .await;
    patched.assert_status(200);
    assert_eq!(patched.header("etag"), Some("\"2\""));
    api.call(Event::put(&path, json!({"title": "u"})).header("If-Match", "\"2\""))
        .await
        .assert_status(200);
    api.call(Event::patch(&path, json!({"title": "v"})).header("If-Match", "*"))
        .await
        .assert_status(200);
    api.call(Event::delete(&path).admin().header("If-Match", "\"4\""))
        .await
        .assert_status(204);
}

#[tokio::test]
async fn writes_with_a_stale_etag_get_412_and_change_nothing() {
    let api = TestApi::start().await;
    let path = format!("/v1/tickets/{}", created_id(&api).await);
    api.call(Event::patch(&path, json!({"status": "OPEN"})))
        .await
        .assert_status(200);
    for event in [
        Event::patch(&path, json!({"title": "lost"})).header("If-Match", "\"1\""),
        Event::put(&path, json!({"title": "lost"})).header("If-Match", "\"1\""),
        Event::delete(&path).admin().header("If-Match", "\"1\""),
        // Weak and foreign tags never match under If-Match's strong comparison.
        Event::patch(&path, json!({"title": "lost"})).header("If-Match", "W/\"2\""),
        Event::patch(&path, json!({"title": "lost"})).header("If-Match", "\"abc\""),
    ] {
        let problem = api.call(event).await.problem(412);
        assert!(
            problem["detail"].as_str().unwrap().contains("\"2\""),
            "{problem}"
        );
    }
    let current = api.call(Event::get(&path)).await.json();
    assert_eq!(
        (current["title"].as_str(), current["version"].as_u64()),
        (Some("t"), Some(2))
    );
}

#[tokio::test]
async fn an_if_match_that_names_no_issued_version_is_a_412() {
    let api = TestApi::start().await;
    let path = format!("/v1/tickets/{}", created_id(&api).await);
    for value in ["1", "\"1", "W/\"1\"", "garbage"] {
        api.call(Event::patch(&path, json!({"title": "x"})).header("If-Match", value))
            .await
            .problem(412);
    }
}

#[tokio::test]
async fn if_match_with_several_tags_matches_any_of_them() {
    let api = TestApi::start().await;
    let path = format!("/v1/tickets/{}", created_id(&api).await);
    api.call(Event::patch(&path, json!({"title": "x"})).header("If-Match", "\"7\", \"1\""))
        .await
        .assert_status(200);
    api.call(Event::patch(&path, json!({"title": "y"})).header("If-Match", "\"1\", \"3\""))
        .await
        .problem(412);
}

#[tokio::test]
async fn if_match_on_an_absent_ticket_is_a_404() {
    let api = TestApi::start().await;
    let path = "/v1/tickets/3f2a1c9e-8b7d-4e6f-a5b4-c3d2e1f0a9b8";
    api.call(Event::patch(path, json!({"title": "x"})).header("If-Match", "\"1\""))
        .await
        .problem(404);
    api.call(Event::patch(path, json!({"title": "x"})).header("If-Match", "W/\"1\""))
        .await
        .problem(404);
}

#[tokio::test]
async fn retrying_with_an_idempotency_key_returns_the_first_ticket() {
    let api = TestApi::start().await;
    let body = json!({"title": "Pay invoice", "priority": "HIGH"});
    let first = api
        .call(Event::post("/v1/tickets", body.clone()).header("Idempotency-Key", "key-0001"))
        .await;
    first.assert_status(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    // Same meaning, different bytes: still the same request.
    let retry = api
        .call(
            Event::new("POST", "/v1/tickets")
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", "key-0001")
                .raw_body(r#"{ "priority" : "HIGH", "title" : "Pay invoice" }"#),
        )
        .await;
    retry.assert_status(201);
    assert_eq!(retry.json(), first.json());
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    let listed = api.call(Event::get("/v1/tickets")).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn reusing_an_idempotency_key_for_another_body_is_a_422() {
    let api = TestApi::start().await;
    api.call(Event::post("/v1/tickets", json!({"title": "a"})).header("Idempotency-Key", "k1"))
        .await
        .assert_status(201);
    let problem = api
        .call(Event::post("/v1/tickets", json!({"title": "b"})).header("Idempotency-Key", "k1"))
        .await
        .problem(422);
    assert!(problem["detail"].as_str().unwrap().contains("new key"));
}

#[tokio::test]
async fn idempotency_keys_belong_to_their_user() {
    let api = TestApi::start().await;
    let body = json!({"title": "same"});
    let mine = api
        .call(Event::post("/v1/tickets", body.clone()).header("Idempotency-Key", "shared"))
        .await
        .json();
    let theirs = api
        .call(
            Event::post("/v1/tickets", body)
                .header("Idempotency-Key", "shared")
                .user(ADMIN, &[]),
        )
        .await;
    theirs.assert_status(201);
    assert_ne!(theirs.json()["id"], mine["id"]);
}

#[tokio::test]
async fn rejects_malformed_idempotency_keys() {
    let api = TestApi::start().await;
    for key in ["", "has space", &"k".repeat(256)] {
        api.call(Event::post("/v1/tickets", json!({"title": "a"})).header("Idempotency-Key", key))
            .await
            .problem(400);
    }
}

#[tokio::test]
async fn an_expired_idempotency_key_creates_anew() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let api = TestApi::start().await;
    let first = api
        .call(Event::post("/v1/tickets", json!({"title": "a"})).header("Idempotency-Key", "old"))
        .await
        .json();
    // Age the key's record past its window, as if DynamoDB's TTL sweep had not run yet.
    let records = api
        .admin
        .scan()
        .table_name(&api.table)
        .send()
        .await
        .unwrap();
    let record = records
        .items()
        .iter()
        .find(|item| matches!(item.get("pk"), Some(AttributeValue::S(pk)) if pk.starts_with("IDEMPOTENCY#")))
        .expect("an idempotency record");
    assert!(
        matches!(record.get("expiresAt"), Some(AttributeValue::N(_))),
        "TTL attribute missing"
    );
    api.admin
        .update_item()
        .table_name(&api.table)
        .key("pk", record["pk"].clone())
        .update_expression("SET expiresAt = :past")
        .expression_attribute_values(":past", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
    let second = api
        .call(Event::post("/v1/tickets", json!({"title": "b"})).header("Idempotency-Key", "old"))
        .await;
    second.assert_status(201);
    assert_ne!(second.json()["id"], first["id"]);
}
