//! A hand-written corpus of hostile requests through the local API: each gets the right
//! `4xx` (a problem from the function, or API Gateway's own message), never a `5xx`, and the
//! table is exactly as it was afterwards.

use crate::support::{LocalApi, Reply, TokenOptions};
use serde_json::Value;

const TICKETS: &str = "/v1/tickets";

/// Who answers a hostile request.
#[derive(Debug, Clone, Copy)]
enum By {
    /// The function, with an RFC 9457 problem.
    Function,
    /// API Gateway, with `{"message": ...}`, before the function runs.
    Gateway,
}

/// One hostile request and the answer it must get.
struct Case {
    name: &'static str,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
    status: u16,
    by: By,
}

fn case(name: &'static str, method: &'static str, path: impl Into<String>, status: u16) -> Case {
    Case {
        name,
        method,
        path: path.into(),
        headers: Vec::new(),
        body: None,
        status,
        by: By::Function,
    }
}

impl Case {
    fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    fn json(self, body: impl Into<Vec<u8>>) -> Self {
        self.header("Content-Type", "application/json").body(body)
    }

    fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    fn by_gateway(mut self) -> Self {
        self.by = By::Gateway;
        self
    }
}

fn corpus(id: &str, next_token: &str) -> Vec<Case> {
    let one = format!("{TICKETS}/{id}");
    let title = |value: &str| format!(r#"{{"title":{value}}}"#);
    let nested = format!(
        r#"{{"title":"t","description":{}{}}}"#,
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let nested_objects = format!(r#"{}"t"{}"#, r#"{"title":"#.repeat(300), "}".repeat(300));
    vec![
        // Malformed and truncated JSON.
        case("truncated JSON", "POST", TICKETS, 400).json(r#"{"title":"#),
        case("unterminated string", "POST", TICKETS, 400).json(r#"{"title":"abc"#),
        case("trailing garbage", "POST", TICKETS, 400).json(r#"{"title":"a"} {"#),
        case("single quotes", "POST", TICKETS, 400).json(r#"{'title':'a'}"#),
        case("JSON array", "POST", TICKETS, 400).json("[1,2,3]"),
        case("JSON string", "POST", TICKETS, 400).json(r#""title""#),
        case("empty body", "POST", TICKETS, 400).json(""),
        case("lone surrogate escape", "POST", TICKETS, 400).json(title(r#""\ud800""#)),
        case("number out of range", "POST", TICKETS, 400).json(r#"{"title":"a","priority":1e999}"#),
        case("duplicate member", "POST", TICKETS, 400).json(r#"{"title":"a","title":"b"}"#),
        // Content types.
        case("no content type", "POST", TICKETS, 415).body(title(r#""a""#)),
        case("text/plain", "POST", TICKETS, 415)
            .header("Content-Type", "text/plain")
            .body(title(r#""a""#)),
        case("form encoded", "POST", TICKETS, 415)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("title=a"),
        case("latin-1 charset", "PUT", one.clone(), 415)
            .header("Content-Type", "application/json; charset=iso-8859-1")
            .body(title(r#""a""#)),
        case("merge patch on POST", "POST", TICKETS, 415)
            .header("Content-Type", "application/merge-patch+json")
            .body(title(r#""a""#)),
        // Sizes and shapes.
        case("body of 64 KiB + 1", "POST", TICKETS, 413).json(format!(
            r#"{{"title":"t"{}}}"#,
            " ".repeat(64 * 1024 + 1 - 13)
        )),
        case("body of 10 MiB", "POST", TICKETS, 413)
            .json(format!(r#"{{"title":"{}"}}"#, "x".repeat(10 * 1024 * 1024)))
            .by_gateway(),
        case("deeply nested arrays", "POST", TICKETS, 400).json(nested),
        case("deeply nested objects", "POST", TICKETS, 400).json(nested_objects),
        case("invalid UTF-8", "POST", TICKETS, 400).json(b"{\"title\":\"\xff\xfe\xfd\"}".to_vec()),
        case("headers of 16 KiB", "GET", TICKETS, 431)
            .header("X-Padding", "p".repeat(16 * 1024))
            .by_gateway(),
        // Fields: control characters, lengths, types, unknown values.
        case("bell in title", "POST", TICKETS, 400).json(title(r#""ring\u0007""#)),
        case("escape in assignee", "POST", TICKETS, 400)
            .json(r#"{"title":"a","assignee":"\u001b[31mred"}"#),
        case("NUL in description", "POST", TICKETS, 400)
            .json(r#"{"title":"a","description":"nul\u0000"}"#),
        case("line break inside title", "PUT", one.clone(), 400).json(title(r#""two\nlines""#)),
        case("title of 201 characters", "POST", TICKETS, 400)
            .json(title(&format!("\"{}\"", "é".repeat(201)))),
        case("title of 60 000 characters", "POST", TICKETS, 400)
            .json(title(&format!("\"{}\"", "x".repeat(60_000)))),
        case("description of 10 001 characters", "POST", TICKETS, 400).json(format!(
            r#"{{"title":"a","description":"{}"}}"#,
            "d".repeat(10_001)
        )),
        case("assignee of 129 characters", "PATCH", one.clone(), 400)
            .json(format!(r#"{{"assignee":"{}"}}"#, "a".repeat(129))),
        case("number as title", "POST", TICKETS, 400).json(title("42")),
        case("boolean as status", "PATCH", one.clone(), 400).json(r#"{"status":true}"#),
        case("object as priority", "POST", TICKETS, 400)
            .json(r#"{"title":"a","priority":{"$ne":null}}"#),
        case("null title", "PUT", one.clone(), 400).json(title("null")),
        case("unknown status", "POST", TICKETS, 400).json(r#"{"title":"a","status":"DONE"}"#),
        case("lower-case status", "PATCH", one.clone(), 400).json(r#"{"status":"open"}"#),
        case("unknown priority", "POST", TICKETS, 400)
            .json(r#"{"title":"a","priority":"CRITICAL"}"#),
        case("unknown field", "POST", TICKETS, 400).json(r#"{"title":"a","colour":"red"}"#),
        case("server-managed field", "PATCH", one.clone(), 400).json(r#"{"version":99}"#),
        case("empty patch", "PATCH", one.clone(), 400).json("{}"),
        // Ids.
        case("numeric id", "GET", format!("{TICKETS}/42"), 400),
        case(
            "SQL injection id",
            "GET",
            format!("{TICKETS}/%27%20OR%20%271%27%3D%271"),
            400,
        ),
        case(
            "NoSQL injection id",
            "DELETE",
            format!("{TICKETS}/%7B%22%24ne%22%3Anull%7D"),
            403,
        ),
        case(
            "NoSQL injection id by admin",
            "PUT",
            format!("{TICKETS}/%7B%22%24ne%22%3Anull%7D"),
            400,
        )
        .json(title(r#""a""#)),
        case(
            "encoded traversal id",
            "GET",
            format!("{TICKETS}/..%2F..%2Fetc%2Fpasswd"),
            400,
        ),
        case(
            "uuid without hyphens",
            "GET",
            format!("{TICKETS}/{}", id.replace('-', "")),
            400,
        ),
        // Query parameters.
        case("negative limit", "GET", format!("{TICKETS}?limit=-1"), 400),
        case("zero limit", "GET", format!("{TICKETS}?limit=0"), 400),
        case(
            "huge limit",
            "GET",
            format!("{TICKETS}?limit=100000000000000000000"),
            400,
        ),
        case(
            "limit that is not a number",
            "GET",
            format!("{TICKETS}?limit=ten"),
            400,
        ),
        case(
            "duplicate limit",
            "GET",
            format!("{TICKETS}?limit=1&limit=2"),
            400,
        ),
        case(
            "injection in status",
            "GET",
            format!("{TICKETS}?status=OPEN%27%3B%20DROP%20TABLE%20t%3B--"),
            400,
        ),
        case(
            "unknown parameter",
            "GET",
            format!("{TICKETS}?sort=asc"),
            400,
        ),
        case(
            "forged nextToken",
            "GET",
            format!("{TICKETS}?nextToken=eyJpIjoiMSJ9.AAAAAAAAAAAAAAAAAAAAAA"),
            400,
        ),
        case(
            "truncated nextToken",
            "GET",
            format!(
                "{TICKETS}?nextToken={}",
                &next_token[..next_token.len() - 3]
            ),
            400,
        ),
        case(
            "nextToken of another filter",
            "GET",
            format!("{TICKETS}?nextToken={next_token}&status=CLOSED"),
            400,
        ),
        // Headers.
        case("idempotency key of 300 characters", "POST", TICKETS, 400)
            .header("Idempotency-Key", "k".repeat(300))
            .json(title(r#""a""#)),
        case("idempotency key with a space", "POST", TICKETS, 400)
            .header("Idempotency-Key", "two words")
            .json(title(r#""a""#)),
        case("stale If-Match", "PATCH", one.clone(), 412)
            .header("If-Match", "\"999\"")
            .json(title(r#""a""#)),
        case("weak If-Match", "DELETE", one.clone(), 403).header("If-Match", "W/\"1\""),
        // Writes that must not create or delete anything.
        case(
            "PUT to an absent id",
            "PUT",
            format!("{TICKETS}/0b6f2b0e-1c1a-4d7e-9a35-2f1d7f3c9b10"),
            404,
        )
        .json(title(r#""a""#)),
        case("DELETE by a non-admin", "DELETE", one, 403),
    ]
}

/// Every ticket, following `nextToken`.
fn snapshot(api: &LocalApi, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut path = format!("{TICKETS}?limit=100");
    loop {
        let reply = api.request("GET", &path, &[("Authorization", token)], None);
        assert_eq!(reply.status, 200, "{}", reply.body);
        let page = reply.json();
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["nextToken"].as_str() {
            Some(next) => path = format!("{TICKETS}?limit=100&nextToken={next}"),
            None => return all,
        }
    }
}

fn check(case: &Case, reply: &Reply) {
    assert_eq!(
        reply.status, case.status,
        "{}: body {}",
        case.name, reply.body
    );
    match case.by {
        By::Function => {
            assert_eq!(
                reply.header("content-type"),
                Some("application/problem+json"),
                "{}",
                case.name
            );
            let problem = reply.json();
            assert_eq!(problem["status"], case.status, "{}", case.name);
            for member in ["type", "title", "detail"] {
                assert!(
                    problem[member].is_string(),
                    "{}: problem without {member}",
                    case.name
                );
            }
        }
        By::Gateway => {
            assert!(
                reply.json()["message"].is_string(),
                "{}: {}",
                case.name,
                reply.body
            );
        }
    }
}

#[test]
fn hostile_requests_get_the_right_4xx_and_change_nothing() {
    let api = LocalApi::start("hostile");
    let user = api.token("mallory", TokenOptions::default());
    let admin = api.token(
        "root",
        TokenOptions {
            admin: true,
            ..Default::default()
        },
    );
    for title in ["one", "two", "three"] {
        let body = format!(r#"{{"title":"{title}","status":"OPEN"}}"#);
        let reply = api.request(
            "POST",
            TICKETS,
            &[
                ("Authorization", &user),
                ("Content-Type", "application/json"),
            ],
            Some(&body),
        );
        assert_eq!(reply.status, 201);
    }
    let before = snapshot(&api, &user);
    let id = before[0]["id"].as_str().unwrap().to_owned();
    let page = api.request(
        "GET",
        &format!("{TICKETS}?limit=1&status=OPEN"),
        &[("Authorization", &user)],
        None,
    );
    let next_token = page.json()["nextToken"].as_str().unwrap().to_owned();

    let cases = corpus(&id, &next_token);
    assert!(
        cases.len() >= 40,
        "the corpus has only {} requests",
        cases.len()
    );
    for case in &cases {
        let token = if case.name.ends_with("by admin") {
            &admin
        } else {
            &user
        };
        let mut headers: Vec<(&str, &str)> = vec![("Authorization", token.as_str())];
        headers.extend(case.headers.iter().map(|(n, v)| (*n, v.as_str())));
        let reply = api.request_bytes(case.method, &case.path, &headers, case.body.as_deref());
        check(case, &reply);
    }
    assert_eq!(
        snapshot(&api, &user),
        before,
        "a hostile request changed the table"
    );
    eprintln!(
        "{} hostile requests, each answered with its 4xx; table unchanged",
        cases.len()
    );
}
