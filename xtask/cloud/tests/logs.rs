//! `cargo xtask logs` against moto's CloudWatch Logs: lines the test writes into a deployed
//! stack's log group are read back, made readable, filtered by text and by request id, and
//! followed as new ones arrive.

#[allow(dead_code)]
#[path = "deploy/proxy/mod.rs"]
mod proxy;
#[allow(dead_code)]
#[path = "deploy/support.rs"]
mod support;

use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::{Cleanup, aws, owner, xtask};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A request line as the function writes it.
fn request_line(request_id: &str, route: &str, status: u16) -> String {
    json!({
        "timestamp": time_text(now_ms()),
        "level": "INFO",
        "target": "manage_tickets::telemetry",
        "message": "request",
        "requestId": request_id,
        "method": "GET",
        "route": route,
        "status": status,
        "latencyMs": 2.5,
    })
    .to_string()
}

fn time_text(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn put(group: &str, stream: &str, messages: &[String]) {
    let events: Vec<_> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| json!({"timestamp": now_ms() + i as i64, "message": m}))
        .collect();
    aws(&[
        "logs",
        "put-log-events",
        "--log-group-name",
        group,
        "--log-stream-name",
        stream,
        "--log-events",
        &serde_json::to_string(&events).unwrap(),
    ]);
}

#[test]
fn reads_filters_and_follows_a_deployed_functions_lines() {
    let owner = owner();
    let stack = format!("tickets-dev-{owner}");
    let _cleanup = Cleanup::new(&support::shared_endpoint(), &[("dev", &owner)]);
    let deployed = xtask(
        &["deploy", "--env", "dev", "--owner", &owner, "--json"],
        None,
    )
    .ok()
    .json();
    let function = deployed["outputs"]["FunctionName"].as_str().unwrap();
    let group = format!("/aws/lambda/{function}");
    assert_eq!(function, format!("{stack}-manage-tickets"));
    let stream = "2026/11/30/[$LATEST]test";
    aws(&[
        "logs",
        "create-log-stream",
        "--log-group-name",
        &group,
        "--log-stream-name",
        stream,
    ]);
    put(
        &group,
        stream,
        &[
            request_line("req-one-1111", "/v1/tickets", 200),
            request_line("req-two-2222", "/v1/tickets/{id}", 404),
        ],
    );

    let logs = |extra: &[&str]| {
        let mut args = vec!["logs", "--env", "dev", "--owner", &owner, "--since", "1h"];
        args.extend_from_slice(extra);
        xtask(&args, None).ok().stdout
    };
    let all = logs(&[]);
    assert!(
        all.contains("INFO  req-one- GET /v1/tickets → 200 in 2.5 ms"),
        "{all}"
    );
    assert!(all.contains("GET /v1/tickets/{id} → 404"), "{all}");
    assert_eq!(all.lines().count(), 2, "{all}");

    let by_text = logs(&["--filter", "{id}"]);
    assert_eq!(by_text.lines().count(), 1, "{by_text}");
    assert!(by_text.contains("404"));

    let by_request = logs(&["--request-id", "req-one-1111", "--json"]);
    assert_eq!(by_request.lines().count(), 1, "{by_request}");
    let line: serde_json::Value = serde_json::from_str(by_request.trim()).unwrap();
    assert_eq!(line["requestId"], "req-one-1111");

    // Follow: a line written after the command started shows up.
    let mut follow = Command::new(env!("CARGO_BIN_EXE_xtask-cloud"));
    support::aws_env(&mut follow)
        .current_dir(xtask_core::tools::workspace::root())
        .args([
            "logs", "--env", "dev", "--owner", &owner, "--since", "1h", "--follow",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = follow.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    // The history first, then the new line.
    for _ in 0..2 {
        received.recv_timeout(Duration::from_secs(30)).unwrap();
    }
    put(
        &group,
        stream,
        &[request_line("req-new-3333", "/v1/tickets", 201)],
    );
    let new = received.recv_timeout(Duration::from_secs(30));
    let _ = child.kill();
    let _ = child.wait();
    let new = new.expect("the followed line");
    assert!(new.contains("req-new-") && new.contains("→ 201"), "{new}");
}
