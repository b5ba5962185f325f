//! Under throttling the run slows down instead of failing: the writes DynamoDB refuses are
//! retried, fewer are kept in flight, nothing is lost; the progress line shows the rate and
//! the time left all along.

use crate::assert_migrated;
use crate::support::{Engine, Item, source_items, table};
use crate::throttling::Throttler;

#[test]
fn paces_its_writes_while_dynamodb_throttles_and_loses_nothing() {
    let engine = Engine::start();
    let (source, target) = (table("dyn-tickets"), table("tickets"));
    engine.create_source(&source);
    engine.create_target(&target);
    let (items, _) = source_items(2_000, 0);
    engine.seed(&source, items.clone());
    // 60 write requests in a row refused, from the 8th: more than the three attempts the SDK
    // makes of each of the 16 in flight, so the run's own pacing has to act.
    let proxy = Throttler::start(&engine.runtime, &engine.endpoint, 8, 60);

    let run = engine
        .migrate_at(
            &proxy.endpoint,
            &source,
            &target,
            &["--json", "--progress-every", "200"],
        )
        .code(0);
    let report = run.json();
    assert_eq!(report["outcome"], "verified", "{report:#}");
    assert_eq!(report["counts"]["copied"], 2_000);
    assert_eq!(proxy.throttled(), 60, "the proxy throttled");
    assert!(
        report["throttled"].as_u64().unwrap() > 0,
        "throttles outlasted the SDK's retries and reached the pacer: {report:#}"
    );
    let lowest = report["lowest_concurrency"].as_u64().unwrap();
    assert!(
        lowest < 16,
        "writes in flight went down from 16 to {lowest}"
    );
    let valid: Vec<&Item> = items.iter().collect();
    assert_migrated(&engine, &source, &target, &valid);

    // The progress line: done of total, rate, time left; the last one at the end.
    let lines: Vec<&str> = run
        .stderr
        .lines()
        .filter(|line| line.starts_with("migrating  ["))
        .collect();
    assert!(lines.len() >= 2, "progress lines:\n{}", run.stderr);
    for line in &lines {
        assert!(line.contains(" items/s  ETA "), "{line}");
    }
    assert!(
        lines.iter().any(|line| line
            .split("ETA ")
            .nth(1)
            .is_some_and(|eta| eta.starts_with(|c: char| c.is_ascii_digit()))),
        "no line with a time left:\n{}",
        lines.join("\n")
    );
    assert!(
        lines.last().unwrap().contains("2 000/2 000"),
        "{}",
        lines.join("\n")
    );
}
