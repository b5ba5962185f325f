//! `cargo xtask local`, `token` and `smoke`, run as the real binary: each test starts its own
//! local API on a free port with its own state folder.

mod contract;
mod events;
mod hostile;
mod load;
mod logs;
mod reload;
mod support;

use support::{LocalApi, Reply, TokenOptions};

const TICKETS: &str = "/v1/tickets";

fn assert_gateway_error(reply: &Reply, status: u16, message: &str) {
    assert_eq!(reply.status, status, "body: {}", reply.body);
    assert_eq!(reply.json(), serde_json::json!({ "message": message }));
    // The template's DEFAULT_4XX gateway response carries the CORS headers, so browsers can read the error.
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("*"),
        "headers: {:?}",
        reply.headers
    );
}

fn create_ticket(api: &LocalApi, token: &str, title: &str) -> String {
    let body = serde_json::json!({ "title": title }).to_string();
    let reply = api.request(
        "POST",
        TICKETS,
        &[
            ("Authorization", token),
            ("Content-Type", "application/json"),
        ],
        Some(&body),
    );
    assert_eq!(reply.status, 201, "body: {}", reply.body);
    let id = reply.json()["id"].as_str().expect("an id").to_owned();
    assert_eq!(
        reply.header("location"),
        Some(format!("{TICKETS}/{id}").as_str())
    );
    id
}

#[test]
fn answers_unknown_routes_with_403_missing_authentication_token() {
    let api = LocalApi::start("unknown-route");
    let token = api.token("alice", TokenOptions::default());
    assert_gateway_error(
        &api.request("GET", "/v2/tickets", &[("Authorization", &token)], None),
        403,
        "Missing Authentication Token",
    );
    assert_gateway_error(
        &api.request("GET", "/", &[], None),
        403,
        "Missing Authentication Token",
    );
    // A path of the template with a method it lacks is refused the same way.
    assert_gateway_error(
        &api.request("DELETE", TICKETS, &[("Authorization", &token)], None),
        403,
        "Missing Authentication Token",
    );
}

#[test]
fn rejects_requests_without_a_token_with_401() {
    let api = LocalApi::start("no-token");
    assert_gateway_error(&api.request("GET", TICKETS, &[], None), 401, "Unauthorized");
    assert_gateway_error(
        &api.request("GET", TICKETS, &[("Authorization", "")], None),
        401,
        "Unauthorized",
    );
}

#[test]
fn rejects_tampered_tokens_with_401() {
    let api = LocalApi::start("tampered");
    let token = api.token("alice", TokenOptions::default());
    assert_eq!(
        api.request("GET", TICKETS, &[("Authorization", &token)], None)
            .status,
        200
    );
    // Promote alice to admin in the claims without re-signing them.
    let parts: Vec<&str> = token.split('.').collect();
    let admin = api.token(
        "alice",
        TokenOptions {
            admin: true,
            ..TokenOptions::default()
        },
    );
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        admin.split('.').nth(1).unwrap(),
        parts[2]
    );
    assert_gateway_error(
        &api.request("GET", TICKETS, &[("Authorization", &forged)], None),
        401,
        "Unauthorized",
    );
    assert_gateway_error(
        &api.request("GET", TICKETS, &[("Authorization", "not-a-token")], None),
        401,
        "Unauthorized",
    );
}

#[test]
fn rejects_expired_tokens_with_401() {
    let api = LocalApi::start("expired");
    let expired = api.token(
        "alice",
        TokenOptions {
            expires_in: Some(-60),
            ..TokenOptions::default()
        },
    );
    assert_gateway_error(
        &api.request("GET", TICKETS, &[("Authorization", &expired)], None),
        401,
        "Unauthorized",
    );
}

#[test]
fn rejects_tokens_for_another_audience_with_401() {
    let api = LocalApi::start("audience");
    let foreign = api.token(
        "alice",
        TokenOptions {
            audience: Some("another-app-client"),
            ..TokenOptions::default()
        },
    );
    assert_gateway_error(
        &api.request("GET", TICKETS, &[("Authorization", &foreign)], None),
        401,
        "Unauthorized",
    );
}

#[test]
fn lets_only_admins_delete_tickets() {
    let api = LocalApi::start("delete");
    let user = api.token("bob", TokenOptions::default());
    let admin = api.token(
        "carol",
        TokenOptions {
            admin: true,
            ..TokenOptions::default()
        },
    );
    let id = create_ticket(&api, &user, "Printer on fire");
    let path = format!("{TICKETS}/{id}");

    let refused = api.request("DELETE", &path, &[("Authorization", &user)], None);
    assert_eq!(refused.status, 403, "body: {}", refused.body);
    assert_eq!(
        refused.header("content-type"),
        Some("application/problem+json")
    );

    let deleted = api.request("DELETE", &path, &[("Authorization", &admin)], None);
    assert_eq!(deleted.status, 204, "body: {}", deleted.body);
    assert_eq!(
        api.request("GET", &path, &[("Authorization", &user)], None)
            .status,
        404
    );
}

#[test]
fn passes_claims_to_the_function_as_api_gateway_does() {
    let api = LocalApi::start("claims");
    let token = api.token("dave", TokenOptions::default());
    let id = create_ticket(&api, &token, "Whose is it?");
    let ticket = api
        .request(
            "GET",
            &format!("{TICKETS}/{id}"),
            &[("Authorization", &token)],
            None,
        )
        .json();
    // The same user always has the same sub, run after run.
    assert_eq!(ticket["createdBy"], api.token_claims(&token)["sub"]);
    assert_eq!(
        api.token_claims(&api.token("dave", TokenOptions::default()))["sub"],
        ticket["createdBy"]
    );
}

#[test]
fn keeps_tickets_across_restarts_unless_fresh() {
    let api = LocalApi::start("restart");
    let token = api.token("erin", TokenOptions::default());
    let id = create_ticket(&api, &token, "Survives a restart");
    let state = api.stop();

    let api = LocalApi::restart(state, false);
    let reply = api.request(
        "GET",
        &format!("{TICKETS}/{id}"),
        &[("Authorization", &token)],
        None,
    );
    assert_eq!(reply.status, 200, "body: {}", reply.body);
    assert_eq!(reply.json()["title"], "Survives a restart");
    let state = api.stop();

    let api = LocalApi::restart(state, true);
    assert_eq!(
        api.request(
            "GET",
            &format!("{TICKETS}/{id}"),
            &[("Authorization", &token)],
            None
        )
        .status,
        404
    );
}

#[test]
fn refuses_payloads_over_api_gateway_limits() {
    let api = LocalApi::start("limits");
    let token = api.token("frank", TokenOptions::default());
    // Announcing more than 10 MiB is enough: API Gateway answers before reading the body.
    let too_long = (10 * 1024 * 1024 + 1).to_string();
    let headers = [
        ("Authorization", token.as_str()),
        ("Content-Type", "application/json"),
        ("Content-Length", too_long.as_str()),
    ];
    assert_gateway_error(
        &api.request("POST", TICKETS, &headers, None),
        413,
        "Request Too Long",
    );
    let long_header = "y".repeat(11 * 1024);
    let reply = api.request(
        "GET",
        TICKETS,
        &[("Authorization", &token), ("X-Padding", &long_header)],
        None,
    );
    assert!(
        (400..500).contains(&reply.status),
        "status {}",
        reply.status
    );
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn smoke_test_passes_against_the_local_api() {
    let api = LocalApi::start("smoke");
    let output = api.xtask(&["smoke", "--env", "local", "--url", &api.url]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "smoke failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("✓ delete as admin"), "{stdout}");
    assert!(!stdout.contains('✗'), "{stdout}");
}

#[test]
fn the_printed_curl_line_creates_a_ticket() {
    let api = LocalApi::start("curl");
    let line = api
        .banner
        .iter()
        .map(|line| line.trim())
        .find(|line| line.starts_with("curl "))
        .unwrap_or_else(|| panic!("no curl line in the banner:\n{}", api.banner.join("\n")));
    let output = std::process::Command::new("sh")
        .args(["-c", line])
        .output()
        .expect("run sh");
    assert!(
        output.status.success(),
        "the printed line failed (curl must be installed): {line}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let ticket: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("the line prints the ticket as JSON");
    assert_eq!(ticket["title"], "My first ticket", "{ticket}");
    let id = ticket["id"].as_str().expect("the ticket has an id");
    let token = api.token("alice", TokenOptions::default());
    let reply = api.request(
        "GET",
        &format!("{TICKETS}/{id}"),
        &[("Authorization", &token)],
        None,
    );
    assert_eq!(reply.status, 200, "body: {}", reply.body);
}
