//! The function's log lines from the real binary under `xtask local`: how many a request
//! writes at each level, whose they are, and what they never contain.

use crate::support::{LocalApi, TokenOptions};
use serde_json::Value;

/// A request and the status it must get.
type Step<'a> = (
    &'a str,
    &'a str,
    &'a [(&'a str, &'a str)],
    Option<&'a str>,
    u16,
);

/// Ten requests of every kind; returns the token they were sent with.
fn ten_requests(api: &LocalApi, title: &str) -> String {
    let token = api.token("logs", TokenOptions::default());
    let admin = api.token(
        "logs-admin",
        TokenOptions {
            admin: true,
            ..Default::default()
        },
    );
    let json = [
        ("Authorization", token.as_str()),
        ("Content-Type", "application/json"),
    ];
    let body = format!(r#"{{"title":"{title}","description":"{title}"}}"#);
    let created = api.request("POST", "/v1/tickets", &json, Some(&body));
    assert_eq!(created.status, 201, "{}", created.body);
    let one = format!("/v1/tickets/{}", created.json()["id"].as_str().unwrap());
    let auth = [("Authorization", token.as_str())];
    let steps: [Step; 9] = [
        ("GET", &one, &auth, None, 200),
        ("GET", "/v1/tickets", &auth, None, 200),
        ("GET", "/v1/tickets?status=NEW", &auth, None, 200),
        ("PATCH", &one, &json, Some(r#"{"status":"OPEN"}"#), 200),
        ("PUT", &one, &json, Some(&body), 200),
        ("POST", "/v1/tickets", &json, Some(r#"{"title":""}"#), 400),
        (
            "GET",
            "/v1/tickets/3f2a1c9e-8b7d-4e6f-a5b4-c3d2e1f0a9b8",
            &auth,
            None,
            404,
        ),
        ("POST", "/v1/tickets", &json, Some(&body), 201),
        (
            "DELETE",
            &one,
            &[("Authorization", admin.as_str())],
            None,
            204,
        ),
    ];
    for (method, path, headers, body, status) in steps {
        let reply = api.request(method, path, headers, body);
        assert_eq!(reply.status, status, "{method} {path}: {}", reply.body);
    }
    token
}

fn request_lines(lines: &[Value]) -> usize {
    lines.iter().filter(|l| l["message"] == "request").count()
}

fn is_ours(line: &Value) -> bool {
    let target = line["target"].as_str().unwrap_or_default();
    target.starts_with("manage_tickets") || target.starts_with("bootstrap")
}

#[test]
fn ten_requests_write_at_most_thirty_lines_at_the_default_level_none_from_dependencies() {
    let api = LocalApi::start_with("logs-default", &["--function-logs", "raw"]);
    ten_requests(&api, "default level");
    let lines = api.function_lines(|lines| request_lines(lines) == 10);
    assert_eq!(request_lines(&lines), 10, "{}", api.output());
    println!(
        "default level (local.yaml: debug): {} function lines for 10 requests",
        lines.len()
    );
    assert!(
        lines.len() <= 30,
        "{} lines:\n{}",
        lines.len(),
        api.output()
    );
    let foreign: Vec<&Value> = lines.iter().filter(|l| !is_ours(l)).collect();
    assert!(foreign.is_empty(), "lines from dependencies: {foreign:#?}");
    assert!(
        lines.iter().any(|l| l["level"] == "DEBUG"),
        "local runs at debug"
    );
}

#[test]
fn at_info_each_request_writes_exactly_one_line() {
    let api = LocalApi::start_with(
        "logs-info",
        &["--function-logs", "raw", "--log-level", "info"],
    );
    ten_requests(&api, "info level");
    let lines = api.function_lines(|lines| request_lines(lines) == 10);
    let warnings_and_errors = lines
        .iter()
        .filter(|l| l["level"] == "WARN" || l["level"] == "ERROR")
        .count();
    assert_eq!(request_lines(&lines), 10, "{}", api.output());
    assert_eq!(lines.len() - warnings_and_errors, 10, "{}", api.output());
    for line in &lines {
        assert!(
            line["requestId"].as_str().is_some_and(|id| !id.is_empty()),
            "{line}"
        );
        assert!(
            line["route"].is_string() && line["status"].is_number(),
            "{line}"
        );
        assert!(
            line["latencyMs"].is_number() && line["sub"].is_string(),
            "{line}"
        );
    }
}

#[test]
fn no_line_holds_the_token_or_the_body_at_any_level() {
    for level in ["trace", "debug", "info"] {
        let api = LocalApi::start_with(
            &format!("logs-secret-{level}"),
            &["--function-logs", "raw", "--log-level", level],
        );
        let secret = format!("RECOGNISABLE-BODY-{level}-5d1e");
        let token = ten_requests(&api, &secret);
        let lines = api.function_lines(|lines| request_lines(lines) == 10);
        assert_eq!(request_lines(&lines), 10, "{}", api.output());
        let signature = token.rsplit('.').next().unwrap();
        for line in &lines {
            let text = line.to_string();
            assert!(!text.contains(&secret), "a body at {level}: {text}");
            assert!(!text.contains(signature), "a token at {level}: {text}");
            assert!(!text.to_ascii_lowercase().contains("bearer"), "{text}");
        }
    }
}
