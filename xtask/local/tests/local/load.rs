//! Concurrency under load through the local API: 200 clients mixing reads and writes on 20
//! tickets for 30 s. No `5xx`, no lost update (each ticket's final version is its count of
//! successful writes plus one), and no duplicate from idempotent retries.

use crate::support::{LocalApi, TokenOptions};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const CLIENTS: usize = 200;
const TICKETS: usize = 20;
const DURATION: Duration = Duration::from_secs(30);

type Http = Client<HttpConnector, Full<Bytes>>;

/// What the clients saw.
#[derive(Default)]
struct Tally {
    /// Successful writes per ticket.
    writes: Vec<AtomicU64>,
    /// Responses by status.
    statuses: Mutex<BTreeMap<u16, u64>>,
    /// Statuses that the operation should never return, with what was asked.
    unexpected: Mutex<Vec<String>>,
    /// Idempotent creates (each sent twice).
    idempotent: AtomicU64,
    /// Retries that did not return the first ticket.
    duplicates: AtomicU64,
}

impl Tally {
    fn saw(&self, status: u16, allowed: &[u16], what: &str) {
        *self.statuses.lock().unwrap().entry(status).or_default() += 1;
        if !allowed.contains(&status) {
            self.unexpected
                .lock()
                .unwrap()
                .push(format!("{what} → {status}"));
        }
    }
}

struct Caller {
    http: Http,
    base: String,
    token: String,
}

impl Caller {
    async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> (u16, Value, Option<String>) {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("Authorization", &self.token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if body.is_some() {
            request = request.header("Content-Type", "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .unwrap();
        let response = self
            .http
            .request(request)
            .await
            .expect("the local API answers");
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            etag,
        )
    }
}

/// A small deterministic random sequence per client (xorshift).
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % sides
    }
}

async fn client(
    number: usize,
    caller: Arc<Caller>,
    ids: Arc<Vec<String>>,
    tally: Arc<Tally>,
    deadline: Instant,
) {
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15 ^ (number as u64 + 1));
    let mut sequence = 0;
    while Instant::now() < deadline {
        let i = dice.roll(TICKETS as u64) as usize;
        let path = format!("/v1/tickets/{}", ids[i]);
        match dice.roll(100) {
            0..40 => {
                let (status, _, _) = caller.send("GET", &path, &[], None).await;
                tally.saw(status, &[200], "GET one");
            }
            40..50 => {
                let (status, _, _) = caller.send("GET", "/v1/tickets?limit=20", &[], None).await;
                tally.saw(status, &[200], "GET list");
            }
            50..75 => {
                let body = format!(r#"{{"assignee":"client-{number}"}}"#);
                let (status, _, _) = caller.send("PATCH", &path, &[], Some(body)).await;
                tally.saw(status, &[200], "PATCH");
                if status == 200 {
                    tally.writes[i].fetch_add(1, Ordering::Relaxed);
                }
            }
            75..90 => {
                let (status, _, etag) = caller.send("GET", &path, &[], None).await;
                tally.saw(status, &[200], "GET before If-Match");
                let etag = etag.unwrap_or_default();
                let body = format!(r#"{{"description":"edited by client {number}"}}"#);
                let (status, _, _) = caller
                    .send("PATCH", &path, &[("If-Match", &etag)], Some(body))
                    .await;
                // Someone else may have written in between: that is what 412 is for.
                tally.saw(status, &[200, 412], "PATCH with If-Match");
                if status == 200 {
                    tally.writes[i].fetch_add(1, Ordering::Relaxed);
                }
            }
            _ => {
                sequence += 1;
                let key = format!("load-{number}-{sequence}");
                let body = format!(r#"{{"title":"created by client {number}, #{sequence}"}}"#);
                let first = caller
                    .send(
                        "POST",
                        "/v1/tickets",
                        &[("Idempotency-Key", &key)],
                        Some(body.clone()),
                    )
                    .await;
                // The client never saw an answer, so it retries with the same key.
                let retry = caller
                    .send(
                        "POST",
                        "/v1/tickets",
                        &[("Idempotency-Key", &key)],
                        Some(body),
                    )
                    .await;
                tally.saw(first.0, &[201], "POST");
                tally.saw(retry.0, &[201], "POST retry");
                tally.idempotent.fetch_add(1, Ordering::Relaxed);
                if first.1["id"] != retry.1["id"] {
                    tally.duplicates.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_lose_no_update_and_duplicate_nothing() {
    let api = LocalApi::start("load");
    let token = api.token("load", TokenOptions::default());
    let http: Http = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(CLIENTS)
        .build_http();
    let caller = Arc::new(Caller {
        http,
        base: api.url.clone(),
        token,
    });
    let mut ids = Vec::new();
    for n in 0..TICKETS {
        let (status, ticket, _) = caller
            .send(
                "POST",
                "/v1/tickets",
                &[],
                Some(format!(r#"{{"title":"ticket {n}"}}"#)),
            )
            .await;
        assert_eq!(status, 201);
        ids.push(ticket["id"].as_str().unwrap().to_owned());
    }
    let ids = Arc::new(ids);
    let tally = Arc::new(Tally {
        writes: (0..TICKETS).map(|_| AtomicU64::new(0)).collect(),
        ..Tally::default()
    });

    let started = Instant::now();
    let deadline = started + DURATION;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            tokio::spawn(client(
                n,
                caller.clone(),
                ids.clone(),
                tally.clone(),
                deadline,
            ))
        })
        .collect();
    for client in clients {
        client.await.unwrap();
    }
    let elapsed = started.elapsed();

    let statuses = tally.statuses.lock().unwrap().clone();
    let requests: u64 = statuses.values().sum();
    eprintln!(
        "load: {CLIENTS} clients, {requests} requests in {elapsed:.1?} ({:.0}/s), statuses {statuses:?}, {} idempotent creates",
        requests as f64 / elapsed.as_secs_f64(),
        tally.idempotent.load(Ordering::Relaxed)
    );
    assert!(
        !statuses.keys().any(|s| *s >= 500),
        "server errors: {statuses:?}"
    );
    let unexpected = tally.unexpected.lock().unwrap().clone();
    assert!(
        unexpected.is_empty(),
        "{} unexpected answers, e.g. {:?}",
        unexpected.len(),
        &unexpected[..unexpected.len().min(5)]
    );

    for (i, id) in ids.iter().enumerate() {
        let (status, ticket, _) = caller
            .send("GET", &format!("/v1/tickets/{id}"), &[], None)
            .await;
        assert_eq!(status, 200);
        let writes = tally.writes[i].load(Ordering::Relaxed);
        assert_eq!(
            ticket["version"],
            writes + 1,
            "ticket {i}: {writes} successful writes, so version {}",
            writes + 1
        );
    }
    assert_eq!(
        tally.duplicates.load(Ordering::Relaxed),
        0,
        "a retry created a second ticket"
    );
    let mut listed = 0;
    let mut path = "/v1/tickets?limit=100".to_owned();
    loop {
        let (status, page, _) = caller.send("GET", &path, &[], None).await;
        assert_eq!(status, 200);
        listed += page["items"].as_array().unwrap().len() as u64;
        match page["nextToken"].as_str() {
            Some(next) => path = format!("/v1/tickets?limit=100&nextToken={next}"),
            None => break,
        }
    }
    assert_eq!(
        listed,
        TICKETS as u64 + tally.idempotent.load(Ordering::Relaxed),
        "tickets created ≠ idempotent keys used"
    );
}
