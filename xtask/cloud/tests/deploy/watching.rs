//! Following a rollout as CloudFormation runs it: long histories, throttling, operations
//! that take their time or never end, and a status left by the previous operation.

use crate::proxy::{Config, Proxy};
use crate::support::{Cleanup, ConfigRoot, Xtask, owner};
use crate::{deploy, deploy_run};
use std::time::Duration;

#[test]
fn watching_reads_one_page_of_a_long_history() {
    let proxy = Proxy::start(Config {
        events_page: 10,
        ..Config::default()
    });
    let owner = owner();
    let config = ConfigRoot::new();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    deploy(&proxy, "dev", &owner, Some(&config));
    // A stack CI has updated for a year: 400 events, 40 pages.
    proxy.add_history(&format!("tickets-dev-{owner}"), 400);
    config.edit("dev", "memory_mb: 256", "memory_mb: 512");
    let before = proxy.calls("DescribeStackEvents");
    deploy_run(&proxy, "dev", &owner, Some(&config)).ok();
    let pages = proxy.calls("DescribeStackEvents") - before;
    assert!(
        pages <= 6,
        "one update read {pages} pages of events (the history is 40)"
    );
}

#[test]
fn throttled_polls_back_off_and_the_deploy_carries_on() {
    // While the creation runs, every second answer starts a burst of three throttles: the
    // SDK's own three attempts give up on each burst.
    let proxy = Proxy::start(Config {
        in_progress_polls: 4,
        throttle: Some((1, 3)),
        ..Config::default()
    });
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    let run = deploy_run(&proxy, "dev", &owner, None).ok();
    assert_eq!(run.json()["result"], "created");
    assert!(run.text().contains("throttl"), "{}", run.text());
}

#[test]
fn a_terminal_status_left_by_the_previous_operation_is_not_taken_for_this_ones() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let config = ConfigRoot::new();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    deploy(&proxy, "dev", &owner, Some(&config));
    config.edit("dev", "memory_mb: 256", "memory_mb: 512");
    deploy(&proxy, "dev", &owner, Some(&config));
    // The next update fails, and its first polls still read the last one's UPDATE_COMPLETE.
    proxy.configure(|c| {
        c.stale_polls = 2;
        c.in_progress_polls = 1;
        c.fail_update = Some("Function".into());
    });
    config.edit("dev", "memory_mb: 512", "memory_mb: 1024");
    deploy_run(&proxy, "dev", &owner, Some(&config))
        .code(4)
        .says(&["UPDATE_ROLLBACK_COMPLETE", "✗ Function"]);
}

#[test]
fn a_change_set_that_never_completes_ends_at_its_deadline() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let config = ConfigRoot::new();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    deploy(&proxy, "dev", &owner, Some(&config));
    proxy.configure(|c| c.change_set_polls = u32::MAX);
    config.edit("dev", "memory_mb: 256", "memory_mb: 512");
    let run = Xtask::new(
        &proxy.endpoint,
        &["deploy", "--env", "dev", "--owner", &owner],
    )
    .config(&config)
    .env("TICKETS_CHANGE_SET_TIMEOUT", "3s")
    .timeout(Duration::from_secs(60))
    .run()
    .code(1)
    .says(&["change set", "3s"]);
    assert!(run.elapsed < Duration::from_secs(45), "{:?}", run.elapsed);
    proxy.settle_all();
}

#[test]
fn an_operation_that_never_settles_ends_at_its_deadline_with_the_command_that_follows_it() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let config = ConfigRoot::new();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    deploy(&proxy, "dev", &owner, Some(&config));
    proxy.configure(|c| c.in_progress_polls = u32::MAX);
    config.edit("dev", "memory_mb: 256", "memory_mb: 512");
    let run = Xtask::new(
        &proxy.endpoint,
        &["deploy", "--env", "dev", "--owner", &owner],
    )
    .config(&config)
    .env("TICKETS_OPERATION_TIMEOUT", "5s")
    .timeout(Duration::from_secs(60))
    .run()
    .code(1)
    .says(&[
        "UPDATE_IN_PROGRESS",
        &format!("cargo xtask watch --env dev --owner {owner}"),
    ]);
    assert!(run.elapsed < Duration::from_secs(45), "{:?}", run.elapsed);
    proxy.settle_all();
}
