//! Concurrent writers: conditional writes lose nothing and duplicate nothing.

use crate::support::{Event, TestApi};
use serde_json::json;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_patches_with_one_etag_yield_one_success() {
    let api = Arc::new(TestApi::start().await);
    let id = api
        .call(Event::post("/v1/tickets", json!({"title": "t"})))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/tickets/{id}");
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let api = api.clone();
            let event = Event::patch(&path, json!({"title": format!("writer {n}")}))
                .header("If-Match", "\"1\"");
            tokio::spawn(async move { api.call(event).await.status })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    statuses.sort_unstable();
    let mut expected = vec![200];
    expected.extend([412; 19]);
    assert_eq!(statuses, expected);
    let ticket = api.call(Event::get(&path)).await.json();
    assert_eq!(ticket["version"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_creates_with_one_idempotency_key_make_one_ticket() {
    let api = Arc::new(TestApi::start().await);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let api = api.clone();
            let event = Event::post("/v1/tickets", json!({"title": "once"}))
                .header("Idempotency-Key", "race");
            tokio::spawn(async move {
                let response = api.call(event).await;
                (
                    response.status,
                    response.json()["id"].as_str().map(str::to_owned),
                )
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        let (status, id) = task.await.unwrap();
        assert_eq!(status, 201);
        ids.push(id.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every retry must see the same ticket");
    let listed = api.call(Event::get("/v1/tickets")).await.json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_without_etag_lose_no_update() {
    let api = Arc::new(TestApi::start().await);
    let id = api
        .call(Event::post("/v1/tickets", json!({"title": "t"})))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/tickets/{id}");
    let tasks: Vec<_> = (0..20)
        .map(|n| {
            let api = api.clone();
            let event = Event::patch(&path, json!({"assignee": format!("agent-{n}")}));
            tokio::spawn(async move { api.call(event).await.status })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    assert_eq!(api.call(Event::get(&path)).await.json()["version"], 21);
}
