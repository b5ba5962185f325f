//! `cargo xtask events replay` against moto's EventBridge: events put on a deployed
//! stack's bus reach a consumer, land in the stack's archive, and a replay delivers them to
//! the consumer again with the same `detail.eventId`. moto runs buses, rules, archives and
//! replays, but not Pipes (it stores a pipe and never runs it), so the test puts the events
//! the pipe would put; the pipe itself runs in `cargo xtask local` and its tests.

use crate::support::{Cleanup, moto, owner, xtask};
use crate::{deploy, outputs_of};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// The AWS CLI against moto, with the endpoint named: CLI v1 sends SQS calls to
/// queue.amazonaws.com whatever AWS_ENDPOINT_URL says.
fn aws(args: &[&str]) -> Value {
    let endpoint = moto();
    let mut all = args.to_vec();
    all.extend(["--endpoint-url", &endpoint]);
    crate::support::aws(&all)
}

/// The test's consumer: a queue behind a rule on the bus, removed when dropped (before the
/// stack, so that the bus has no foreign rule left when it is deleted).
struct Consumer {
    bus: String,
    rule: String,
    queue_url: String,
}

impl Consumer {
    fn subscribe(bus: &str, source: &str, name: &str) -> Self {
        let queue_url = aws(&["sqs", "create-queue", "--queue-name", name])["QueueUrl"]
            .as_str()
            .unwrap()
            .to_owned();
        let queue_arn = aws(&[
            "sqs",
            "get-queue-attributes",
            "--queue-url",
            &queue_url,
            "--attribute-names",
            "QueueArn",
        ])["Attributes"]["QueueArn"]
            .as_str()
            .unwrap()
            .to_owned();
        let pattern = json!({"source": [source]}).to_string();
        aws(&[
            "events",
            "put-rule",
            "--name",
            name,
            "--event-bus-name",
            bus,
            "--event-pattern",
            &pattern,
        ]);
        aws(&[
            "events",
            "put-targets",
            "--rule",
            name,
            "--event-bus-name",
            bus,
            "--targets",
            &format!("Id=queue,Arn={queue_arn}"),
        ]);
        Consumer {
            bus: bus.to_owned(),
            rule: name.to_owned(),
            queue_url,
        }
    }

    /// The events received until `count` arrived (or 20 s passed), each deleted once read.
    fn receive(&self, count: usize) -> Vec<Value> {
        let mut events = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while events.len() < count && Instant::now() < deadline {
            let answer = aws(&[
                "sqs",
                "receive-message",
                "--queue-url",
                &self.queue_url,
                "--max-number-of-messages",
                "10",
                "--wait-time-seconds",
                "1",
            ]);
            for message in answer["Messages"].as_array().into_iter().flatten() {
                events.push(serde_json::from_str(message["Body"].as_str().unwrap()).unwrap());
                aws(&[
                    "sqs",
                    "delete-message",
                    "--queue-url",
                    &self.queue_url,
                    "--receipt-handle",
                    message["ReceiptHandle"].as_str().unwrap(),
                ]);
            }
        }
        events
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| {
            aws(&[
                "events",
                "remove-targets",
                "--rule",
                &self.rule,
                "--event-bus-name",
                &self.bus,
                "--ids",
                "queue",
            ]);
            aws(&[
                "events",
                "delete-rule",
                "--name",
                &self.rule,
                "--event-bus-name",
                &self.bus,
            ]);
            aws(&["sqs", "delete-queue", "--queue-url", &self.queue_url]);
        });
    }
}

fn event_ids(events: &[Value]) -> BTreeSet<String> {
    events
        .iter()
        .map(|e| e["detail"]["eventId"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn replay_delivers_the_archived_events_again() {
    let owner = owner();
    let proxy = crate::proxy::Proxy::start(crate::proxy::Config::default());
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    deploy(&proxy, "dev", &owner, None);
    let stack = crate::support::describe(&proxy.endpoint, &format!("tickets-dev-{owner}")).unwrap();
    let outputs = outputs_of(&stack);
    let (bus, source) = (&outputs["EventBusName"], &outputs["EventSource"]);
    let consumer = Consumer::subscribe(bus, source, &format!("replay-{owner}"));
    let since = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);

    // What the pipe puts: one entry per ticket event, `detail-type` its kind.
    let entries: Vec<Value> = ["e-1", "e-2"]
        .iter()
        .map(|id| {
            json!({
                "Source": source,
                "DetailType": "TicketCreated",
                "Detail": json!({"eventId": id, "ticketId": "t-1"}).to_string(),
                "EventBusName": bus,
            })
        })
        .collect();
    let put = aws(&[
        "events",
        "put-events",
        "--entries",
        &Value::from(entries).to_string(),
    ]);
    assert_eq!(put["FailedEntryCount"], 0, "{put}");
    let delivered = consumer.receive(2);
    assert_eq!(
        event_ids(&delivered),
        BTreeSet::from(["e-1".into(), "e-2".into()])
    );

    let since = since
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let run = crate::support::Xtask::new(
        &proxy.endpoint,
        &[
            "events", "replay", "--env", "dev", "--owner", &owner, "--since", &since,
        ],
    )
    .run()
    .ok();
    assert!(run.stdout.contains("completed"), "{}", run.text());
    let replayed = consumer.receive(2);
    assert_eq!(event_ids(&replayed), event_ids(&delivered), "{replayed:#?}");
    // New deliveries (EventBridge's ids differ), the same events (consumers de-duplicate).
    assert!(
        replayed.iter().all(|e| e["replay-name"].is_string()),
        "{replayed:#?}"
    );
    assert!(
        replayed
            .iter()
            .all(|r| delivered.iter().all(|d| d["id"] != r["id"]))
    );
}

#[test]
fn replay_refuses_a_since_in_the_future() {
    let run = xtask(
        &[
            "events",
            "replay",
            "--env",
            "dev",
            "--owner",
            "nobody",
            "--since",
            "2999-01-01T00:00:00Z",
        ],
        None,
    );
    assert_ne!(run.code, 0);
    assert!(
        run.text().contains("give an earlier --since"),
        "{}",
        run.text()
    );
}
