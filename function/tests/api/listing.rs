//! Listing: newest first, cursor pagination, status filter, strict parameters.

use crate::support::{Event, TestApi};
use serde_json::{Value, json};
use std::collections::HashSet;

async fn seed(
    api: &TestApi,
    count: usize,
    status_of: impl Fn(usize) -> &'static str,
) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let response = api
            .call(Event::post(
                "/v1/tickets",
                json!({"title": format!("ticket {n}"), "status": status_of(n)}),
            ))
            .await;
        response.assert_status(201);
        ids.push(response.json()["id"].as_str().unwrap().to_owned());
    }
    ids
}

async fn list(api: &TestApi, query: &[(&str, &str)]) -> Value {
    let mut event = Event::get("/v1/tickets");
    for (name, value) in query {
        event = event.query(name, value);
    }
    let response = api.call(event).await;
    response.assert_status(200);
    response.json()
}

/// Every page of a listing, following `nextToken` to the end.
async fn all_pages(api: &TestApi, limit: &str, status: Option<&str>) -> Vec<Vec<Value>> {
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut query = vec![("limit", limit)];
        if let Some(status) = status {
            query.push(("status", status));
        }
        if let Some(token) = &token {
            query.push(("nextToken", token));
        }
        let page = list(api, &query).await;
        pages.push(page["items"].as_array().unwrap().clone());
        match page["nextToken"].as_str() {
            Some(next) => token = Some(next.to_owned()),
            None => {
                assert!(
                    page["nextToken"].is_null(),
                    "nextToken is present but not a string"
                );
                return pages;
            }
        }
        assert!(pages.len() < 100, "pagination does not end");
    }
}

#[tokio::test]
async fn pages_through_250_tickets_to_the_end_newest_first() {
    let api = TestApi::start().await;
    let ids = seed(&api, 250, |_| "NEW").await;
    let pages = all_pages(&api, "100", None).await;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![100, 100, 50]
    );
    let listed: Vec<&str> = pages
        .iter()
        .flatten()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
    assert_eq!(listed, expected, "not every ticket once, newest first");
    let created: Vec<&str> = pages
        .iter()
        .flatten()
        .map(|t| t["createdAt"].as_str().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]));
}

#[tokio::test]
async fn defaults_to_pages_of_20_and_ends_without_an_empty_page() {
    let api = TestApi::start().await;
    seed(&api, 40, |_| "NEW").await;
    let first = list(&api, &[]).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 20);
    let pages = all_pages(&api, "20", None).await;
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), vec![20, 20]);
    let empty = TestApi::start().await;
    assert_eq!(
        list(&empty, &[]).await,
        json!({"items": [], "nextToken": null})
    );
}

#[tokio::test]
async fn filters_by_status_across_pages() {
    let api = TestApi::start().await;
    let statuses = ["NEW", "OPEN", "IN_PROGRESS", "RESOLVED", "CLOSED"];
    seed(&api, 60, |n| statuses[n % 5]).await;
    for status in statuses {
        let pages = all_pages(&api, "5", Some(status)).await;
        let items: Vec<&Value> = pages.iter().flatten().collect();
        assert_eq!(items.len(), 12, "{status}");
        assert!(items.iter().all(|t| t["status"] == status));
        let unique: HashSet<&str> = items.iter().map(|t| t["id"].as_str().unwrap()).collect();
        assert_eq!(unique.len(), 12);
    }
}

#[tokio::test]
async fn a_status_change_moves_a_ticket_between_filters() {
    let api = TestApi::start().await;
    let ids = seed(&api, 3, |_| "OPEN").await;
    api.call(Event::patch(
        &format!("/v1/tickets/{}", ids[1]),
        json!({"status": "CLOSED"}),
    ))
    .await
    .assert_status(200);
    let open = list(&api, &[("status", "OPEN")]).await;
    assert_eq!(open["items"].as_array().unwrap().len(), 2);
    let closed = list(&api, &[("status", "CLOSED")]).await;
    assert_eq!(closed["items"][0]["id"], ids[1].as_str());
}

#[tokio::test]
async fn rejects_tampered_foreign_and_cross_filter_tokens() {
    let api = TestApi::start().await;
    seed(&api, 6, |n| if n % 2 == 0 { "OPEN" } else { "NEW" }).await;
    let page = list(&api, &[("limit", "1"), ("status", "OPEN")]).await;
    let token = page["nextToken"].as_str().unwrap().to_owned();

    let mut tampered = token.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    // A token issued by another stack's table.
    let foreign = {
        let other = TestApi::start_with_table("tickets-other").await;
        seed(&other, 2, |_| "OPEN").await;
        list(&other, &[("limit", "1"), ("status", "OPEN")]).await["nextToken"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    for (bad, status) in [
        (tampered.as_str(), Some("OPEN")),
        (&token[..token.len() / 2], Some("OPEN")),
        ("", Some("OPEN")),
        ("eyJpIjoiMyJ9.AAAAAAAAAAAAAAAAAAAAAA", Some("OPEN")),
        ("%%%", Some("OPEN")),
        (foreign.as_str(), Some("OPEN")),
        (token.as_str(), None),
        (token.as_str(), Some("NEW")),
    ] {
        let mut event = Event::get("/v1/tickets")
            .query("nextToken", bad)
            .query("limit", "1");
        if let Some(status) = status {
            event = event.query("status", status);
        }
        let problem = api.call(event).await.problem(400);
        assert_eq!(problem["errors"][0]["field"], "nextToken", "{bad}");
    }
}

#[tokio::test]
async fn rejects_bad_limits_and_unknown_or_repeated_parameters() {
    let api = TestApi::start().await;
    for query in [
        vec![("limit", "0")],
        vec![("limit", "-1")],
        vec![("limit", "101")],
        vec![("limit", "99999999999999999999")],
        vec![("limit", "1.5")],
        vec![("limit", "")],
        vec![("limit", "5"), ("limit", "6")],
        vec![("status", "open")],
        vec![("sort", "asc")],
    ] {
        let mut event = Event::get("/v1/tickets");
        for (name, value) in &query {
            event = event.query(name, value);
        }
        let problem = api.call(event).await.problem(400);
        assert!(
            !problem["errors"].as_array().unwrap().is_empty(),
            "{query:?}"
        );
    }
}
