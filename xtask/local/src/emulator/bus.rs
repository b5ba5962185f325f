//! The local event bus: what the pipe puts on it is archived (`events.jsonl` in the state
//! folder, which `cargo xtask events --env local` reads), printed, and delivered in order to
//! `--events-to URL` if given, with the retries of the template's rule target; an event the
//! receiver keeps refusing goes to the dead-letter file (`dead-letters.jsonl`), as a rule's
//! target sends it to the dead-letter queue.

use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tickets_domain::event::{Envelope, TicketEvent};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use xtask_core::tools::http_client::HttpClient;

/// The archive's file name in the state folder.
pub const ARCHIVE_FILE: &str = "events.jsonl";
/// The dead-letter file's name in the state folder.
pub const DEAD_LETTER_FILE: &str = "dead-letters.jsonl";

/// How a rule's target is retried (its `RetryPolicy`).
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub attempts: u32,
    /// How long an event keeps being retried.
    pub max_age: Duration,
}

/// The bus.
pub struct LocalBus {
    source: String,
    account: String,
    region: String,
    archive: Mutex<std::fs::File>,
    print: bool,
    deliver: Option<mpsc::UnboundedSender<Value>>,
    tap: Option<mpsc::UnboundedSender<Tapped>>,
}

/// An event as the bus put it, and when (for the bench's stream-to-bus lag).
#[derive(Debug, Clone)]
pub struct Tapped {
    /// When it was put.
    pub at: Instant,
    /// Its ticket.
    pub ticket_id: String,
}

/// The task delivering to `--events-to`; ends once the bus is dropped and every event
/// is delivered or dead-lettered.
pub struct Delivery(JoinHandle<()>);

impl Delivery {
    /// Waits for the last delivery.
    pub async fn finish(self) {
        let _ = self.0.await;
    }
}

impl LocalBus {
    /// A bus whose events have `source`, archived under `state`, printed if `print`, and
    /// delivered to `events_to` with `retry`.
    pub fn open(
        state: &Path,
        source: &str,
        (account, region): (&str, &str),
        print: bool,
        events_to: Option<(String, RetryPolicy)>,
    ) -> Result<(Self, Option<Delivery>)> {
        std::fs::create_dir_all(state).with_context(|| format!("creating {}", state.display()))?;
        let path = state.join(ARCHIVE_FILE);
        let archive = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        let (deliver, delivery) = match events_to {
            Some((url, retry)) => {
                let (tx, rx) = mpsc::unbounded_channel();
                let task = tokio::spawn(deliver(
                    rx,
                    url,
                    retry,
                    state.join(DEAD_LETTER_FILE),
                    HttpClient::new()?,
                ));
                (Some(tx), Some(Delivery(task)))
            }
            None => (None, None),
        };
        Ok((
            LocalBus {
                source: source.to_owned(),
                account: account.to_owned(),
                region: region.to_owned(),
                archive: Mutex::new(archive),
                print,
                deliver,
                tap: None,
            },
            delivery,
        ))
    }

    /// Every event from now on, with the instant it was put.
    pub fn tap(&mut self) -> mpsc::UnboundedReceiver<Tapped> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.tap = Some(tx);
        rx
    }

    /// `PutEvents`: each event gets its own delivery id, as EventBridge gives it.
    pub fn put(&self, events: &[TicketEvent]) -> Result<()> {
        let mut archive = self.archive.lock().expect("the archive lock");
        for event in events {
            let id = uuid::Uuid::new_v4().to_string();
            let envelope = event.in_envelope(&Envelope {
                id: &id,
                source: &self.source,
                account: &self.account,
                region: &self.region,
            });
            writeln!(archive, "{envelope}").context("appending to the local event archive")?;
            if self.print {
                println!("{}", line(&envelope));
            }
            if let Some(tap) = &self.tap {
                let _ = tap.send(Tapped {
                    at: Instant::now(),
                    ticket_id: event.ticket_id.to_string(),
                });
            }
            if let Some(deliver) = &self.deliver {
                let _ = deliver.send(envelope);
            }
        }
        archive.flush().context("writing the local event archive")?;
        Ok(())
    }
}

/// One readable line: kind, ticket, version, actor, event id.
pub fn line(envelope: &Value) -> String {
    let detail = &envelope["detail"];
    let changes = detail["changes"]
        .as_object()
        .map(|c| format!(" ({})", c.keys().cloned().collect::<Vec<_>>().join(", ")))
        .unwrap_or_default();
    format!(
        "  ⇢ {} {} v{} by {}{} [{}] {}",
        envelope["detail-type"].as_str().unwrap_or("?"),
        detail["ticketId"].as_str().unwrap_or("?"),
        detail["version"],
        detail["actor"].as_str().unwrap_or("?"),
        changes,
        detail["eventId"].as_str().unwrap_or("?"),
        envelope["time"].as_str().unwrap_or("?"),
    )
}

/// Delivers each event in turn: a refused one is retried (doubling waits from 100 ms)
/// until the policy gives up, then written to the dead-letter file.
async fn deliver(
    mut events: mpsc::UnboundedReceiver<Value>,
    url: String,
    retry: RetryPolicy,
    dead_letters: PathBuf,
    client: HttpClient,
) {
    while let Some(envelope) = events.recv().await {
        let first = Instant::now();
        let mut wait = Duration::from_millis(100);
        let mut attempt = 0;
        let failure = loop {
            let body = envelope.to_string().into_bytes();
            let problem = match client
                .send(
                    http::Method::POST,
                    &url,
                    &[("Content-Type", "application/json")],
                    Some(body),
                )
                .await
            {
                Ok(reply) if reply.status.is_success() => break None,
                Ok(reply) => format!("{url} answered {}", reply.status),
                Err(err) => format!("{err:#}"),
            };
            if attempt >= retry.attempts || first.elapsed() + wait > retry.max_age {
                break Some((problem, attempt + 1));
            }
            attempt += 1;
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        };
        if let Some((problem, attempts)) = failure {
            eprintln!(
                "warning: event {} was not delivered after {attempts} attempt(s) ({problem}); it is in {}",
                envelope["detail"]["eventId"].as_str().unwrap_or("?"),
                dead_letters.display()
            );
            let letter = json!({"reason": problem, "attempts": attempts, "event": envelope});
            let written = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&dead_letters)
                .and_then(|mut file| writeln!(file, "{letter}"));
            if let Err(err) = written {
                eprintln!(
                    "error: writing {} failed ({err}); the event is lost",
                    dead_letters.display()
                );
            }
        }
    }
}
