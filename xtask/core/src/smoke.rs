//! The smoke scenario: every route once, against a running API (local or deployed), each
//! step checked and timed. The `smoke` commands of the local and the cloud tools give it
//! its callers.

use crate::tools::http_client::{HttpClient, Reply};
use anyhow::{Context, Result, anyhow, ensure};
use http::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// The two callers of the scenario: an ordinary user and a member of the admins group.
pub struct Callers {
    /// An ID token of a user outside the admins group.
    pub user: String,
    /// An ID token of a member of the admins group.
    pub admin: String,
}

/// An origin the environment's CORS policy allows, for the preflight step.
pub fn allowed_origin(root: &Path, env: &str) -> Result<String> {
    let environment = tickets_infra::Environment::load(root, env)?;
    Ok(environment
        .allowed_origins
        .into_iter()
        .find_map(|origin| match origin {
            tickets_manifest::cors::Origin::Exact(origin) => Some(origin),
            tickets_manifest::cors::Origin::Any => None,
        })
        .unwrap_or_else(|| "https://smoke.example.com".into()))
}

/// Prints one line per step and returns how many failed.
pub async fn scenario(client: &HttpClient, base: &str, callers: &Callers, origin: &str) -> usize {
    let base = base.trim_end_matches('/');
    let collection = format!("{base}{}", tickets_manifest::routes::TICKETS.path);
    let mut report = Report::default();

    report.step(
        "CORS preflight",
        preflight(client, &collection, origin).await,
    );
    let created = create(client, &collection, &callers.user).await;
    let Some(ticket) = report.step("create", created) else {
        for name in [
            "get",
            "list with status filter",
            "patch with If-Match",
            "stale If-Match",
            "put",
            "delete as non-admin",
            "delete as admin",
            "get after delete",
        ] {
            report.skip(name);
        }
        return report.failed;
    };
    let id = ticket.id.clone();
    let item = format!("{collection}/{id}");
    report.step("get", get(client, base, &ticket, &callers.user).await);
    report.step(
        "list with status filter",
        list(client, &collection, &id, &callers.user).await,
    );
    let patched = report.step(
        "patch with If-Match",
        patch(client, &item, &ticket.etag, &callers.user).await,
    );
    report.step(
        "stale If-Match",
        stale(client, &item, &ticket.etag, &callers.user).await,
    );
    let current = patched.unwrap_or_else(|| ticket.etag.clone());
    report.step("put", put(client, &item, &current, &callers.user).await);
    report.step(
        "delete as non-admin",
        expect(
            client,
            Method::DELETE,
            &item,
            &callers.user,
            StatusCode::FORBIDDEN,
        )
        .await,
    );
    report.step(
        "delete as admin",
        expect(
            client,
            Method::DELETE,
            &item,
            &callers.admin,
            StatusCode::NO_CONTENT,
        )
        .await,
    );
    report.step(
        "get after delete",
        expect(
            client,
            Method::GET,
            &item,
            &callers.user,
            StatusCode::NOT_FOUND,
        )
        .await,
    );
    report.failed
}

/// The checks that change nothing, for production: the API answers the CORS preflight and
/// refuses a listing without a token (the authorizer is in front of the function). No user
/// is created and no ticket written. Returns how many failed.
pub async fn read_only_scenario(client: &HttpClient, base: &str, origin: &str) -> usize {
    let base = base.trim_end_matches('/');
    let collection = format!("{base}{}", tickets_manifest::routes::TICKETS.path);
    let mut report = Report::default();
    report.step(
        "CORS preflight",
        preflight(client, &collection, origin).await,
    );
    let unauthenticated = async {
        let reply = client.send(Method::GET, &collection, &[], None).await?;
        check_status(&reply, StatusCode::UNAUTHORIZED)?;
        Ok((reply, ()))
    };
    report.step("list without a token", unauthenticated.await);
    report.failed
}

#[derive(Default)]
struct Report {
    failed: usize,
}

impl Report {
    fn step<T>(&mut self, name: &str, result: Result<(Reply, T)>) -> Option<T> {
        match result {
            Ok((reply, value)) => {
                println!(
                    "  ✓ {name:<24} {}  {}",
                    reply.status.as_u16(),
                    ms(reply.elapsed)
                );
                Some(value)
            }
            Err(err) => {
                self.failed += 1;
                println!("  ✗ {name:<24} {err:#}");
                None
            }
        }
    }

    fn skip(&mut self, name: &str) {
        self.failed += 1;
        println!("  ✗ {name:<24} skipped: no ticket was created");
    }
}

fn ms(elapsed: Duration) -> String {
    format!("{:>6.1} ms", elapsed.as_secs_f64() * 1000.0)
}

/// A created ticket and what the steps after need of it.
struct Created {
    id: String,
    etag: String,
    location: String,
    body: Value,
}

fn check_status(reply: &Reply, expected: StatusCode) -> Result<()> {
    ensure!(
        reply.status == expected,
        "expected {}, got {}: {}",
        expected.as_u16(),
        reply.status.as_u16(),
        reply.text().chars().take(300).collect::<String>()
    );
    Ok(())
}

fn etag_of(reply: &Reply, version: u64) -> Result<String> {
    let etag = reply.header("etag").context("no ETag header")?.to_owned();
    ensure!(
        etag == format!("\"{version}\""),
        "ETag is {etag}, expected \"{version}\" (the ticket's version)"
    );
    Ok(etag)
}

async fn preflight(client: &HttpClient, url: &str, origin: &str) -> Result<(Reply, ())> {
    let headers = [
        ("origin", origin),
        ("access-control-request-method", "POST"),
        (
            "access-control-request-headers",
            "authorization,content-type,if-match,idempotency-key",
        ),
    ];
    let reply = client.send(Method::OPTIONS, url, &headers, None).await?;
    ensure!(
        reply.status.is_success(),
        "expected 200 or 204, got {}: {}",
        reply.status.as_u16(),
        reply.text()
    );
    let allowed = reply
        .header("access-control-allow-origin")
        .context("no Access-Control-Allow-Origin")?;
    ensure!(
        allowed == origin || allowed == "*",
        "Access-Control-Allow-Origin is {allowed}, expected {origin}"
    );
    let methods = reply
        .header("access-control-allow-methods")
        .unwrap_or_default()
        .to_ascii_uppercase();
    ensure!(
        methods.contains("POST"),
        "Access-Control-Allow-Methods ({methods}) does not allow POST"
    );
    Ok((reply, ()))
}

async fn create(client: &HttpClient, url: &str, token: &str) -> Result<(Reply, Created)> {
    let key = uuid::Uuid::new_v4().to_string();
    let body = json!({
        "title": format!("Smoke test {}", &key[..8]),
        "description": "Created by cargo xtask smoke; deleted at its end.",
        "priority": "HIGH",
        "status": "OPEN",
    });
    let headers = [
        ("authorization", token),
        ("content-type", "application/json"),
        ("idempotency-key", key.as_str()),
    ];
    let reply = client
        .send(
            Method::POST,
            url,
            &headers,
            Some(body.to_string().into_bytes()),
        )
        .await?;
    check_status(&reply, StatusCode::CREATED)?;
    let ticket = reply.json();
    let id = ticket["id"]
        .as_str()
        .context("the created ticket has no id")?
        .to_owned();
    ensure!(
        ticket["title"] == body["title"] && ticket["status"] == "OPEN",
        "the created ticket differs from the request: {ticket}"
    );
    let location = reply
        .header("location")
        .context("no Location header")?
        .to_owned();
    ensure!(
        location.ends_with(&format!("/v1/tickets/{id}")),
        "Location {location} does not name ticket {id}"
    );
    let etag = etag_of(&reply, 1)?;
    Ok((
        reply,
        Created {
            id,
            etag,
            location,
            body: ticket,
        },
    ))
}

async fn get(
    client: &HttpClient,
    base: &str,
    ticket: &Created,
    token: &str,
) -> Result<(Reply, ())> {
    // Location is a path on the API's host (stage included when deployed).
    let url = if ticket.location.starts_with("http") {
        ticket.location.clone()
    } else {
        let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
        let host_end = base[scheme_end..]
            .find('/')
            .map(|i| scheme_end + i)
            .unwrap_or(base.len());
        format!("{}{}", &base[..host_end], ticket.location)
    };
    let reply = client
        .send(Method::GET, &url, &[("authorization", token)], None)
        .await?;
    check_status(&reply, StatusCode::OK)?;
    ensure!(
        reply.json() == ticket.body,
        "GET {url} returned {}, not the created ticket {}",
        reply.text(),
        ticket.body
    );
    etag_of(&reply, 1)?;
    Ok((reply, ()))
}

/// How long the listing may take to show a new ticket: it reads a global secondary index,
/// which DynamoDB updates after the write (usually within a second).
const INDEX_PATIENCE: Duration = Duration::from_secs(10);

async fn list(client: &HttpClient, url: &str, id: &str, token: &str) -> Result<(Reply, ())> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(200);
    loop {
        let reply = client
            .send(
                Method::GET,
                &format!("{url}?status=OPEN&limit=100"),
                &[("authorization", token)],
                None,
            )
            .await?;
        check_status(&reply, StatusCode::OK)?;
        let page = reply.json();
        let items = page["items"]
            .as_array()
            .context("the listing has no items array")?;
        ensure!(
            items.iter().all(|t| t["status"] == "OPEN"),
            "the listing filtered by status=OPEN holds other statuses"
        );
        if items.iter().any(|t| t["id"] == id) {
            return Ok((reply, ()));
        }
        ensure!(
            started.elapsed() < INDEX_PATIENCE,
            "the new ticket {id} is not in the first page of OPEN tickets after {INDEX_PATIENCE:?}"
        );
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

async fn patch(client: &HttpClient, url: &str, etag: &str, token: &str) -> Result<(Reply, String)> {
    let headers = [
        ("authorization", token),
        ("content-type", "application/merge-patch+json"),
        ("if-match", etag),
    ];
    let body = json!({"status": "IN_PROGRESS", "assignee": "smoke"});
    let reply = client
        .send(
            Method::PATCH,
            url,
            &headers,
            Some(body.to_string().into_bytes()),
        )
        .await?;
    check_status(&reply, StatusCode::OK)?;
    let ticket = reply.json();
    ensure!(
        ticket["status"] == "IN_PROGRESS" && ticket["assignee"] == "smoke",
        "the patch was not applied: {ticket}"
    );
    let etag = etag_of(&reply, 2)?;
    Ok((reply, etag))
}

async fn stale(client: &HttpClient, url: &str, etag: &str, token: &str) -> Result<(Reply, ())> {
    let headers = [
        ("authorization", token),
        ("content-type", "application/json"),
        ("if-match", etag),
    ];
    let reply = client
        .send(
            Method::PATCH,
            url,
            &headers,
            Some(br#"{"priority":"LOW"}"#.to_vec()),
        )
        .await?;
    check_status(&reply, StatusCode::PRECONDITION_FAILED)?;
    Ok((reply, ()))
}

async fn put(client: &HttpClient, url: &str, etag: &str, token: &str) -> Result<(Reply, ())> {
    let headers = [
        ("authorization", token),
        ("content-type", "application/json"),
        ("if-match", etag),
    ];
    let body = json!({"title": "Smoke test (replaced)", "priority": "LOW", "status": "RESOLVED"});
    let reply = client
        .send(
            Method::PUT,
            url,
            &headers,
            Some(body.to_string().into_bytes()),
        )
        .await?;
    check_status(&reply, StatusCode::OK)?;
    let ticket = reply.json();
    ensure!(
        ticket["title"] == body["title"]
            && ticket["status"] == "RESOLVED"
            && ticket.get("assignee").is_none_or(Value::is_null),
        "the replacement was not applied: {ticket}"
    );
    etag_of(&reply, 3)?;
    Ok((reply, ()))
}

async fn expect(
    client: &HttpClient,
    method: Method,
    url: &str,
    token: &str,
    status: StatusCode,
) -> Result<(Reply, ())> {
    let reply = client
        .send(method, url, &[("authorization", token)], None)
        .await?;
    check_status(&reply, status).map_err(|e| anyhow!("{e}"))?;
    Ok((reply, ()))
}
