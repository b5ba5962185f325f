//! Create, read, replace, patch and delete, with their validation.

use crate::support::event::USER;
use crate::support::{Event, TestApi};
use serde_json::{Value, json};

async fn create(api: &TestApi, body: Value) -> Value {
    let response = api.call(Event::post("/v1/tickets", body)).await;
    response.assert_status(201);
    response.json()
}

#[tokio::test]
async fn creates_a_ticket_with_defaults_location_and_etag() {
    let api = TestApi::start().await;
    let response = api
        .call(Event::post(
            "/v1/tickets",
            json!({"title": "  Printer on fire  "}),
        ))
        .await;
    response.assert_status(201);
    let ticket = response.json();
    let id = ticket["id"].as_str().unwrap();
    assert_eq!(uuid_version(id), '4');
    assert_eq!(ticket["title"], "Printer on fire");
    assert_eq!(ticket["priority"], "MEDIUM");
    assert_eq!(ticket["status"], "NEW");
    assert_eq!(ticket["version"], 1);
    assert_eq!(ticket["createdBy"], USER);
    assert_eq!(ticket["updatedBy"], USER);
    assert_eq!(ticket["createdAt"], ticket["updatedAt"]);
    assert!(ticket.get("description").is_none() && ticket.get("assignee").is_none());
    assert_eq!(response.header("etag"), Some("\"1\""));
    // The stage stays in Location, so it resolves against the execute-api URL.
    assert_eq!(
        response.header("location"),
        Some(format!("/dev/v1/tickets/{id}").as_str())
    );
    assert_eq!(response.header("content-type"), Some("application/json"));
}

fn uuid_version(id: &str) -> char {
    id.chars().nth(14).unwrap()
}

#[tokio::test]
async fn creates_a_ticket_with_every_field() {
    let api = TestApi::start().await;
    let ticket = create(
        &api,
        json!({"title": "VPN down", "description": "Since 9am\n\tall sites", "priority": "URGENT",
               "status": "OPEN", "assignee": "ops-team"}),
    )
    .await;
    assert_eq!(ticket["description"], "Since 9am\n\tall sites");
    assert_eq!(ticket["priority"], "URGENT");
    assert_eq!(ticket["status"], "OPEN");
    assert_eq!(ticket["assignee"], "ops-team");
}

#[tokio::test]
async fn rejects_invalid_fields_with_one_error_each() {
    let api = TestApi::start().await;
    let problem = api
        .call(Event::post(
            "/v1/tickets",
            json!({"title": "", "description": "x".repeat(10_001), "priority": "CRITICAL",
                   "status": "DONE", "assignee": 42, "colour": "red", "version": 7}),
        ))
        .await
        .problem(400);
    let mut fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        vec![
            "assignee",
            "colour",
            "description",
            "priority",
            "status",
            "title",
            "version"
        ]
    );
    assert!(problem["type"].as_str().unwrap().ends_with("/validation"));
}

#[tokio::test]
async fn rejects_unknown_status() {
    let api = TestApi::start().await;
    let problem = api
        .call(Event::post(
            "/v1/tickets",
            json!({"title": "t", "status": "WONTFIX"}),
        ))
        .await
        .problem(400);
    assert_eq!(problem["errors"][0]["field"], "status");
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("IN_PROGRESS")
    );
}

#[tokio::test]
async fn rejects_malformed_json() {
    let api = TestApi::start().await;
    for body in ["{\"title\": ", "not json", "[1,2]", ""] {
        let problem = api
            .call(
                Event::new("POST", "/v1/tickets")
                    .header("Content-Type", "application/json")
                    .raw_body(body),
            )
            .await
            .problem(400);
        assert!(
            problem["detail"].as_str().unwrap().contains("JSON"),
            "{body}: {problem}"
        );
    }
}

#[tokio::test]
async fn rejects_bodies_that_are_not_json() {
    let api = TestApi::start().await;
    let no_type = Event::new("POST", "/v1/tickets").raw_body(r#"{"title":"t"}"#);
    api.call(no_type).await.problem(415);
    let text = Event::new("POST", "/v1/tickets")
        .header("Content-Type", "text/plain")
        .raw_body(r#"{"title":"t"}"#);
    api.call(text).await.problem(415);
}

#[tokio::test]
async fn rejects_bodies_over_64_kib() {
    let api = TestApi::start().await;
    // `{"title":"t"` + spaces + `}`: valid JSON of exactly `size` bytes.
    let padded = |size: usize| format!(r#"{{"title":"t"{}}}"#, " ".repeat(size - 13));
    let at_limit = Event::new("POST", "/v1/tickets")
        .header("Content-Type", "application/json")
        .raw_body(padded(64 * 1024));
    api.call(at_limit).await.assert_status(201);
    let over = Event::new("POST", "/v1/tickets")
        .header("Content-Type", "application/json")
        .raw_body(padded(64 * 1024 + 1));
    let problem = api.call(over).await.problem(413);
    assert!(problem["detail"].as_str().unwrap().contains("65536"));
}

#[tokio::test]
async fn reads_a_ticket_with_its_etag() {
    let api = TestApi::start().await;
    let created = create(&api, json!({"title": "t"})).await;
    let id = created["id"].as_str().unwrap();
    let response = api.call(Event::get(&format!("/v1/tickets/{id}"))).await;
    response.assert_status(200);
    assert_eq!(response.json(), created);
    assert_eq!(response.header("etag"), Some("\"1\""));
}

#[tokio::test]
async fn answers_404_for_an_absent_ticket() {
    let api = TestApi::start().await;
    let absent = "3f2a1c9e-8b7d-4e6f-a5b4-c3d2e1f0a9b8";
    for event in [
        Event::get(&format!("/v1/tickets/{absent}")),
        Event::put(&format!("/v1/tickets/{absent}"), json!({"title": "t"})),
        Event::patch(&format!("/v1/tickets/{absent}"), json!({"title": "t"})),
        Event::delete(&format!("/v1/tickets/{absent}")).admin(),
    ] {
        api.call(event).await.problem(404);
    }
}

#[tokio::test]
async fn answers_400_for_an_id_that_is_not_a_uuid() {
    let api = TestApi::start().await;
    for id in [
        "42",
        "not-a-uuid",
        "%27%20OR%201%3D1",
        "3f2a1c9e8b7d4e6fa5b4c3d2e1f0a9b8",
    ] {
        let problem = api
            .call(Event::get(&format!("/v1/tickets/{id}")))
            .await
            .problem(400);
        assert_eq!(problem["errors"][0]["field"], "id", "{id}");
    }
}

#[tokio::test]
async fn replaces_every_writable_field() {
    let api = TestApi::start().await;
    let created = create(
        &api,
        json!({"title": "t", "description": "d", "assignee": "a", "priority": "HIGH", "status": "OPEN"}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let response = api
        .call(
            Event::put(&format!("/v1/tickets/{id}"), json!({"title": "new title"}))
                .user("someone-else-0001", &[]),
        )
        .await;
    response.assert_status(200);
    let replaced = response.json();
    assert_eq!(replaced["title"], "new title");
    // Total replacement: what is not sent takes its default or disappears.
    assert_eq!(replaced["priority"], "MEDIUM");
    assert_eq!(replaced["status"], "NEW");
    assert!(replaced.get("description").is_none() && replaced.get("assignee").is_none());
    assert_eq!(replaced["version"], 2);
    assert_eq!(replaced["createdBy"], created["createdBy"]);
    assert_eq!(replaced["createdAt"], created["createdAt"]);
    assert_eq!(replaced["updatedBy"], "someone-else-0001");
    assert!(replaced["updatedAt"].as_str() > created["updatedAt"].as_str());
    assert_eq!(response.header("etag"), Some("\"2\""));
}

#[tokio::test]
async fn put_validates_like_create_and_never_creates() {
    let api = TestApi::start().await;
    let id = create(&api, json!({"title": "t"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.call(Event::put(
        &format!("/v1/tickets/{id}"),
        json!({"status": "OPEN"}),
    ))
    .await
    .problem(400);
    let fresh = "0b6f2b0e-1c1a-4d7e-9a35-2f1d7f3c9b10";
    api.call(Event::put(
        &format!("/v1/tickets/{fresh}"),
        json!({"title": "t"}),
    ))
    .await
    .problem(404);
}

#[tokio::test]
async fn patches_only_the_given_fields_and_null_clears() {
    let api = TestApi::start().await;
    let created = create(
        &api,
        json!({"title": "t", "description": "d", "assignee": "a"}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let response = api
        .call(Event::patch(
            &format!("/v1/tickets/{id}"),
            json!({"status": "IN_PROGRESS", "assignee": null}),
        ))
        .await;
    response.assert_status(200);
    let patched = response.json();
    assert_eq!(patched["status"], "IN_PROGRESS");
    assert_eq!(patched["title"], "t");
    assert_eq!(patched["description"], "d");
    assert!(patched.get("assignee").is_none());
    assert_eq!(patched["version"], 2);
}

#[tokio::test]
async fn patch_accepts_merge_patch_media_type() {
    let api = TestApi::start().await;
    let id = create(&api, json!({"title": "t"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let event = Event::new("PATCH", &format!("/v1/tickets/{id}"))
        .header("Content-Type", "application/merge-patch+json")
        .raw_body(r#"{"priority":"LOW"}"#);
    api.call(event).await.assert_status(200);
}

#[tokio::test]
async fn rejects_an_empty_or_invalid_patch() {
    let api = TestApi::start().await;
    let id = create(&api, json!({"title": "t"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/tickets/{id}");
    let empty = api.call(Event::patch(&path, json!({}))).await.problem(400);
    assert!(empty["detail"].as_str().unwrap().contains("at least one"));
    let invalid = api
        .call(Event::patch(
            &path,
            json!({"title": null, "createdBy": "me"}),
        ))
        .await
        .problem(400);
    assert_eq!(invalid["errors"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn deletes_a_ticket_as_admin() {
    let api = TestApi::start().await;
    let id = create(&api, json!({"title": "t"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/tickets/{id}");
    let response = api.call(Event::delete(&path).admin()).await;
    response.assert_status(204);
    assert!(response.body.is_empty());
    api.call(Event::get(&path)).await.problem(404);
    api.call(Event::delete(&path).admin()).await.problem(404);
}
