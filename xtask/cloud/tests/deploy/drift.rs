//! `drift`, and `deploy` over a stack someone changed by hand.

use crate::proxy::{Config, Proxy};
use crate::support::{Cleanup, Xtask, aws, owner};
use crate::{deploy, deploy_run};

/// Changes the function's memory behind CloudFormation's back, as a console edit does;
/// returns the value the template holds and the new one.
fn change_memory_by_hand(function: &str) -> (String, String) {
    let before = aws(&[
        "lambda",
        "get-function-configuration",
        "--function-name",
        function,
    ]);
    let old = before["MemorySize"].as_u64().unwrap();
    let new = old * 2;
    aws(&[
        "lambda",
        "update-function-configuration",
        "--function-name",
        function,
        "--memory-size",
        &new.to_string(),
    ]);
    (old.to_string(), new.to_string())
}

#[test]
fn drift_shows_a_resource_changed_by_hand_like_diff() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    let report = deploy(&proxy, "dev", &owner, None);
    let drift = |proxy: &Proxy| {
        Xtask::new(
            &proxy.endpoint,
            &["drift", "--env", "dev", "--owner", &owner],
        )
        .run()
    };
    drift(&proxy).ok().says(&["in sync"]);
    let (old, new) = change_memory_by_hand(report["outputs"]["FunctionName"].as_str().unwrap());
    drift(&proxy).code(1).says(&[
        "~ Function AWS::Lambda::Function (MODIFIED)",
        "/MemorySize",
        &format!("- {old}"),
        &format!("+ {new}"),
        "has drifted",
    ]);
}

#[test]
fn a_drifted_prod_stack_is_updated_only_with_accept_drift() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("prod", &owner)]);
    let report = deploy(&proxy, "prod", &owner, None);
    change_memory_by_hand(report["outputs"]["FunctionName"].as_str().unwrap());
    deploy_run(&proxy, "prod", &owner, None).code(3).says(&[
        "has drifted",
        "MemorySize",
        "--accept-drift",
    ]);
    let run = Xtask::new(
        &proxy.endpoint,
        &[
            "deploy",
            "--env",
            "prod",
            "--owner",
            &owner,
            "--json",
            "--yes",
            "--accept-drift",
        ],
    )
    .run()
    .ok();
    assert!(run.text().contains("has drifted"), "{}", run.text());
}
