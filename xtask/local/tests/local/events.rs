//! The local event path through the real binaries: `xtask local` reads the embedded
//! engine's stream, runs the enrichment binary, and its bus POSTs every event to
//! `--events-to` (a receiver in the test), in order, valid against the catalogue.

use crate::support::{LocalApi, TokenOptions};
use crate::{TICKETS, create_ticket};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An HTTP receiver on a free port: keeps every JSON body POSTed to it and answers `status`.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    fn start(status: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/events", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let kept = bodies.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let kept = kept.clone();
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    // Keep-alive: one request after another on the connection.
                    loop {
                        let mut length = None;
                        let mut line = String::new();
                        loop {
                            line.clear();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            if line == "\r\n" {
                                break;
                            }
                            if let Some((name, value)) = line.split_once(':')
                                && name.eq_ignore_ascii_case("content-length")
                            {
                                length = value.trim().parse::<usize>().ok();
                            }
                        }
                        let mut body = vec![0; length.unwrap_or(0)];
                        if reader.read_exact(&mut body).is_err() {
                            return;
                        }
                        kept.lock()
                            .unwrap()
                            .push(serde_json::from_slice(&body).expect("a JSON event"));
                        let answer = format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n");
                        if stream.write_all(answer.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Receiver { url, bodies }
    }

    /// What was received, once `done` holds for it (or after `patience`).
    fn wait(&self, patience: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + patience;
        loop {
            let bodies = self.bodies.lock().unwrap().clone();
            if done(&bodies) || Instant::now() > deadline {
                return bodies;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn catalogue() -> jsonschema::Validator {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../openapi/events.yaml");
    let schema: Value = serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the catalogue compiles")
}

fn assert_valid(validator: &jsonschema::Validator, event: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(event)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{event:#}");
}

fn write(api: &LocalApi, token: &str, method: &str, path: &str, body: Value) {
    let body = body.to_string();
    let reply = api.request(
        method,
        path,
        &[
            ("Authorization", token),
            ("Content-Type", "application/json"),
        ],
        Some(&body),
    );
    assert_eq!(reply.status, 200, "{method} {path}: {}", reply.body);
}

#[test]
fn each_kind_of_write_yields_its_event_in_order() {
    let receiver = Receiver::start(200);
    let api = LocalApi::start_with(
        "events-kinds",
        &["--function-logs", "off", "--events-to", &receiver.url],
    );
    assert!(
        api.banner.iter().any(|l| l.contains("Events: stream of")),
        "{:?}",
        api.banner
    );
    let alice = api.token("alice", TokenOptions::default());
    let admin = api.token(
        "root",
        TokenOptions {
            admin: true,
            ..TokenOptions::default()
        },
    );
    let id = create_ticket(&api, &alice, "Printer on fire");
    let path = format!("{TICKETS}/{id}");
    write(&api, &alice, "PATCH", &path, json!({"assignee": "carol"}));
    write(
        &api,
        &alice,
        "PATCH",
        &path,
        json!({"status": "IN_PROGRESS"}),
    );
    write(
        &api,
        &alice,
        "PATCH",
        &path,
        json!({"title": "Printer smoking", "priority": "HIGH"}),
    );
    write(
        &api,
        &alice,
        "PUT",
        &path,
        json!({"title": "Printer fixed", "status": "RESOLVED"}),
    );
    let deleted = api.request("DELETE", &path, &[("Authorization", &admin)], None);
    assert_eq!(deleted.status, 204, "{}", deleted.body);

    receiver.wait(Duration::from_secs(60), |e| e.len() >= 6);
    // Nothing more arrives: exactly one event per write (the delete's marker is none).
    std::thread::sleep(Duration::from_millis(500));
    let events = receiver.bodies.lock().unwrap().clone();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["detail-type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "TicketCreated",
            "TicketAssigned",
            "TicketStatusChanged",
            "TicketUpdated",
            "TicketUpdated",
            "TicketDeleted"
        ],
        "{events:#?}"
    );
    let validator = catalogue();
    let alice_sub = api.token_claims(&alice)["sub"].clone();
    let admin_sub = api.token_claims(&admin)["sub"].clone();
    for (i, event) in events.iter().enumerate() {
        assert_valid(&validator, event);
        let detail = &event["detail"];
        assert_eq!(detail["ticketId"], id.as_str());
        assert_eq!(event["source"], "tickets.tickets-local");
        assert_eq!(detail["version"], json!(if i == 5 { 5 } else { i + 1 }));
        assert_eq!(
            &detail["actor"],
            if i == 5 { &admin_sub } else { &alice_sub }
        );
    }
    assert_eq!(
        events[1]["detail"]["changes"],
        json!({"assignee": {"before": null, "after": "carol"}})
    );
    assert_eq!(
        events[3]["detail"]["changes"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["priority", "title"]
    );
    assert_eq!(events[5]["detail"]["ticket"]["title"], "Printer fixed");
    let ids: HashSet<&str> = events
        .iter()
        .map(|e| e["detail"]["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 6);

    // `xtask events --env local` shows the same events, in the same order, from the archive.
    let shown = api.xtask(&["events", "--env", "local", "--json", "--ticket", &id]);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
    let archived: Vec<Value> = String::from_utf8(shown.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(archived, events);
}

#[test]
fn a_thousand_concurrent_writes_yield_a_thousand_events() {
    let receiver = Receiver::start(200);
    let api = Arc::new(LocalApi::start_with(
        "events-load",
        &["--function-logs", "off", "--events-to", &receiver.url],
    ));
    let token = api.token("loader", TokenOptions::default());
    let threads: Vec<_> = (0..20)
        .map(|t| {
            let (api, token) = (api.clone(), token.clone());
            std::thread::spawn(move || {
                (0..50)
                    .map(|i| create_ticket(&api, &token, &format!("Load {t}-{i}")))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let created: HashSet<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(created.len(), 1000);

    receiver.wait(Duration::from_secs(120), |e| e.len() >= 1000);
    std::thread::sleep(Duration::from_millis(500));
    let events = receiver.bodies.lock().unwrap().clone();
    assert_eq!(events.len(), 1000, "lost or duplicated events");
    let ids: HashSet<&str> = events
        .iter()
        .map(|e| e["detail"]["eventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 1000, "duplicated event ids");
    let tickets: HashSet<String> = events
        .iter()
        .map(|e| e["detail"]["ticketId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(tickets, created);
    assert!(events.iter().all(|e| e["detail-type"] == "TicketCreated"));
}

#[test]
fn an_event_the_receiver_keeps_refusing_ends_in_the_dead_letter_file() {
    let receiver = Receiver::start(500);
    let api = LocalApi::start_with(
        "events-dead",
        &["--function-logs", "off", "--events-to", &receiver.url],
    );
    let token = api.token("erin", TokenOptions::default());
    let id = create_ticket(&api, &token, "Nobody listens");
    let dead_letters = api.state_path().join("dead-letters.jsonl");
    let deadline = Instant::now() + Duration::from_secs(60);
    let letters = loop {
        let text = std::fs::read_to_string(&dead_letters).unwrap_or_default();
        if !text.is_empty() || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let letters: Vec<Value> = letters
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(letters.len(), 1, "{letters:#?}");
    assert_eq!(letters[0]["event"]["detail"]["ticketId"], id.as_str());
    // environments/local.yaml: two retries after the first attempt.
    assert_eq!(letters[0]["attempts"], 3);
    let attempts = receiver.bodies.lock().unwrap().clone();
    assert_eq!(attempts.len(), 3);
    assert!(attempts.iter().all(|a| a == &letters[0]["event"]));
}

/// Restarting keeps the stream's position: no event is handed over twice, none is lost.
#[test]
fn a_restart_neither_repeats_nor_loses_events() {
    let api = LocalApi::start("events-restart");
    let token = api.token("frank", TokenOptions::default());
    let first = create_ticket(&api, &token, "Before the restart");
    let state = api.stop();
    let api = LocalApi::restart(state, false);
    let token = api.token("frank", TokenOptions::default());
    let second = create_ticket(&api, &token, "After the restart");
    let deadline = Instant::now() + Duration::from_secs(30);
    let tickets = loop {
        let shown = api.xtask(&["events", "--env", "local", "--json"]);
        assert!(
            shown.status.success(),
            "{}",
            String::from_utf8_lossy(&shown.stderr)
        );
        let tickets: Vec<String> = String::from_utf8(shown.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["detail"]["ticketId"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        if tickets.len() >= 2 || Instant::now() > deadline {
            break tickets;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(tickets, [first, second]);
}

#[test]
fn events_follow_shows_new_events_as_they_come() {
    let api = LocalApi::start("events-follow");
    let mut follow = std::process::Command::new(env!("CARGO_BIN_EXE_xtask-local"))
        .args(["events", "--env", "local", "--follow", "--state-dir"])
        .arg(api.state_path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start xtask events --follow");
    let stdout = follow.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let token = api.token("gina", TokenOptions::default());
    let id = create_ticket(&api, &token, "Followed");
    let line = rx.recv_timeout(Duration::from_secs(30));
    let _ = follow.kill();
    let _ = follow.wait();
    let line = line.expect("events --follow showed nothing within 30 s");
    assert!(
        line.starts_with("⇢ TicketCreated ") && line.contains(&id),
        "{line}"
    );
}

/// A record the enrichment keeps refusing (an item under a ticket's key that is no ticket,
/// written behind the API's back) is retried as the pipe's MaximumRetryAttempts says, then
/// written to the dead-letter file; the writes after it still become events.
#[test]
fn a_record_the_enrichment_keeps_refusing_ends_in_the_dead_letter_file() {
    let api = LocalApi::start("events-pipe-dead");
    let endpoint = api
        .banner
        .iter()
        .find_map(|l| {
            l.split_once("served at ")
                .map(|(_, url)| url.trim().to_owned())
        })
        .expect("the banner names the DynamoDB endpoint");
    let table = "tickets-local-tickets";
    let status = std::process::Command::new("aws")
        .args([
            "dynamodb",
            "put-item",
            "--table-name",
            table,
            "--endpoint-url",
            &endpoint,
        ])
        .args([
            "--item",
            r#"{"pk": {"S": "TICKET#not-a-ticket"}, "title": {"N": "3"}}"#,
        ])
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .status()
        .expect("the AWS CLI is needed as a test oracle");
    assert!(status.success());
    let token = api.token("hana", TokenOptions::default());
    let id = create_ticket(&api, &token, "After the bad record");

    let dead_letters = api.state_path().join("dead-letters.jsonl");
    let archive = api.state_path().join("events.jsonl");
    let deadline = Instant::now() + Duration::from_secs(60);
    let (letters, events) = loop {
        let letters = std::fs::read_to_string(&dead_letters).unwrap_or_default();
        let events = std::fs::read_to_string(&archive).unwrap_or_default();
        if (!letters.is_empty() && !events.is_empty()) || Instant::now() > deadline {
            break (letters, events);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let letters: Vec<Value> = letters
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(letters.len(), 1, "{letters:#?}");
    // environments/local.yaml: retry_attempts 2, so three attempts in all.
    assert_eq!(letters[0]["attempts"], 3);
    let records = letters[0]["records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0]["dynamodb"]["Keys"]["pk"]["S"],
        "TICKET#not-a-ticket"
    );
    assert!(
        letters[0]["reason"]
            .as_str()
            .unwrap()
            .contains("NotATicketWrite"),
        "{letters:#?}"
    );
    let events: Vec<Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0]["detail"]["ticketId"], id.as_str());
}
