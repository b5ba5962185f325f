//! The function's log lines: one per request, in CloudWatch's embedded metric format,
//! and never a body or a token, even at its most verbose level.

use crate::support::{Event, TestApi, emf};
use manage_tickets::telemetry::LogSettings;
use manage_tickets::telemetry::json::JsonLines;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, Once};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;

/// Collects the JSON lines the function writes on this thread while the guard lives.
struct Captured {
    lines: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

impl Captured {
    fn start() -> Self {
        // Tests on other threads log nowhere; a global subscriber that decides per event
        // keeps tracing from caching a callsite as never enabled while they run first.
        static UNDECIDED: Once = Once::new();
        UNDECIDED.call_once(|| {
            let nowhere = tracing_subscriber::registry().with(filter_fn(|_| false));
            tracing::subscriber::set_global_default(nowhere).expect("the first global subscriber");
        });
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = {
            let lines = lines.clone();
            move |line: &[u8]| lines.lock().unwrap().extend_from_slice(line)
        };
        // The function's own filter, at its most verbose: dependencies stay at warn.
        let settings = LogSettings {
            level: tracing::Level::TRACE,
            ..LogSettings::default()
        };
        let subscriber = tracing_subscriber::registry()
            .with(settings.filter())
            .with(JsonLines::to_sink(sink));
        Captured {
            lines,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    fn text(&self) -> String {
        String::from_utf8(self.lines.lock().unwrap().clone()).unwrap()
    }

    fn requests(&self) -> Vec<Value> {
        self.text()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|l| l["message"] == "request")
            .collect()
    }
}

#[tokio::test]
async fn every_request_line_is_valid_emf_with_every_declared_metric() {
    let api = TestApi::start().await;
    let captured = Captured::start();
    let created = api
        .call(Event::post("/v1/tickets", json!({"title": "t"})).header("Idempotency-Key", "k1"))
        .await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let one = format!("/v1/tickets/{id}");
    let steps = [
        (
            Event::post("/v1/tickets", json!({"title": "t"})).header("Idempotency-Key", "k1"),
            201,
        ),
        (Event::patch(&one, json!({"status": "OPEN"})), 200),
        (
            Event::patch(&one, json!({"status": "OPEN"})).header("If-Match", "\"1\""),
            412,
        ),
        (Event::post("/v1/tickets", json!({"title": ""})), 400),
        (Event::get("/v1/tickets"), 200),
        (Event::delete(&one).admin(), 204),
    ];
    for (event, status) in steps {
        api.call(event).await.assert_status(status);
    }
    let lines = captured.requests();
    assert_eq!(lines.len(), 7, "one line per request");
    let declared: Vec<&str> = tickets_manifest::metrics::METRICS
        .iter()
        .map(|m| m.name)
        .collect();
    for line in &lines {
        assert_eq!(emf::check(line), declared, "{line}");
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "Tickets");
        assert_eq!(line["Requests"], 1);
    }
    let total = |metric: &str| -> u64 { lines.iter().map(|l| l[metric].as_u64().unwrap()).sum() };
    assert_eq!(total("TicketsCreated"), 1);
    assert_eq!(total("IdempotentReplays"), 1);
    assert_eq!(total("TicketsUpdated"), 1);
    assert_eq!(total("Conflicts"), 1);
    assert_eq!(total("ValidationFailures"), 1);
    assert_eq!(total("TicketsDeleted"), 1);
    assert_eq!(lines[3]["Route"], "PATCH /v1/tickets/{id}");
    assert_eq!(lines[3]["StatusClass"], "4xx");
    assert_eq!(lines[3]["ticketId"], id.as_str());
    assert_eq!(lines[3]["problem"], "precondition-failed");
    assert_eq!(
        lines[0]["ticketId"],
        id.as_str(),
        "a create logs the new id"
    );
    assert!(lines.iter().all(|l| l["sub"].is_string()));
    assert!(lines[2]["DynamoDbLatency"].as_f64().unwrap() > 0.0);
}

#[tokio::test]
async fn never_logs_a_token_or_a_body() {
    let api = TestApi::start().await;
    let captured = Captured::start();
    let token = "eyJ-RECOGNISABLE-TOKEN-7f3a";
    let secret = "RECOGNISABLE-BODY-91c2";
    let created = api
        .call(
            Event::post(
                "/v1/tickets",
                json!({"title": secret, "description": secret}),
            )
            .header("Authorization", token),
        )
        .await;
    let path = format!("/v1/tickets/{}", created.json()["id"].as_str().unwrap());
    api.call(Event::put(&path, json!({"title": secret})).header("Authorization", token))
        .await
        .assert_status(200);
    api.call(Event::post(
        "/v1/tickets",
        json!({"title": secret, "colour": secret}),
    ))
    .await
    .assert_status(400);
    let text = captured.text();
    assert!(!text.is_empty());
    assert!(!text.contains(token), "a token was logged:\n{text}");
    assert!(!text.contains(secret), "a body was logged:\n{text}");
}
