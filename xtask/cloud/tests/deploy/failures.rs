//! Failed and contested creations: nothing stranded, nothing of another run deleted, and
//! the exact next step when a person must act.

use crate::proxy::{Config, Proxy};
use crate::support::{Cleanup, Xtask, aws, describe, owner, pools_named, table_exists};
use crate::{deploy_run, deployed_template, template_of};
use std::time::{Duration, Instant};

#[test]
fn a_failed_first_prod_creation_strands_nothing_and_the_next_deploy_succeeds() {
    let proxy = Proxy::start(Config {
        fail_create: Some("Function".into()),
        ..Config::default()
    });
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("prod", &owner)]);
    let stack = format!("tickets-prod-{owner}");
    let table = format!("{stack}-tickets");

    let run = deploy_run(&proxy, "prod", &owner, None)
        .code(4)
        .says(&["✗ Function (AWS::Lambda::Function)", "simulated failure"]);
    // The creation rolled back: its table is gone with it (RetainExceptOnCreate), and the
    // failed stack is all that is left, with the command that removes it.
    assert!(
        !table_exists(&table),
        "the rolled-back creation stranded {table}:\n{}",
        run.text()
    );
    assert_eq!(proxy.status(&stack).as_deref(), Some("ROLLBACK_COMPLETE"));
    assert!(
        run.text().contains(&format!(
            "cargo xtask destroy --env prod --owner {owner} --force"
        )),
        "{}",
        run.text()
    );
    Xtask::new(
        &proxy.endpoint,
        &[
            "destroy", "--env", "prod", "--owner", &owner, "--yes", "--force",
        ],
    )
    .run()
    .ok();

    // The next deploy starts clean, and protection comes on once the stack exists.
    let run = deploy_run(&proxy, "prod", &owner, None).ok();
    assert_eq!(run.json()["result"], "created");
    assert!(run.text().contains("deletion protection"), "{}", run.text());
    let deployed = deployed_template(&proxy, &stack);
    let resources = &deployed["Resources"];
    assert_eq!(
        resources["TicketsTable"]["Properties"]["DeletionProtectionEnabled"],
        true
    );
    assert_eq!(
        resources["TicketsTable"]["DeletionPolicy"],
        "RetainExceptOnCreate"
    );
    assert_eq!(
        resources["UserPool"]["Properties"]["DeletionProtection"],
        "ACTIVE"
    );
}

#[test]
fn a_table_or_pool_left_by_an_earlier_stack_stops_the_creation_with_the_next_step() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("prod", &owner)]);
    let stack = format!("tickets-prod-{owner}");
    // What a deleted stack retained: its table and its user pool.
    let template = template_of("prod");
    let properties = &template["Resources"]["TicketsTable"]["Properties"];
    // The key's attributes only: DynamoDB refuses definitions no key or index uses.
    let keys: Vec<&serde_json::Value> = properties["AttributeDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            properties["KeySchema"]
                .as_array()
                .unwrap()
                .iter()
                .any(|k| k["AttributeName"] == d["AttributeName"])
        })
        .collect();
    aws(&[
        "dynamodb",
        "create-table",
        "--table-name",
        &format!("{stack}-tickets"),
        "--attribute-definitions",
        &serde_json::to_string(&keys).unwrap(),
        "--key-schema",
        &properties["KeySchema"].to_string(),
        "--billing-mode",
        "PAY_PER_REQUEST",
    ]);
    aws(&[
        "cognito-idp",
        "create-user-pool",
        "--pool-name",
        &format!("{stack}-users"),
    ]);

    deploy_run(&proxy, "prod", &owner, None).code(3).says(&[
        &format!("{stack}-tickets"),
        &format!("{stack}-users"),
        "Nothing was created",
        &format!("cargo xtask import --env prod --owner {owner}"),
        &format!("cargo xtask deploy --env prod --owner {owner}"),
    ]);
    assert_eq!(proxy.calls("CreateStack"), 0, "a creation was attempted");
    assert_eq!(
        pools_named(&format!("{stack}-users")).len(),
        1,
        "another pool was left"
    );
    assert!(describe(&proxy.endpoint, &stack).is_none());
}

#[test]
fn two_racing_first_creations_delete_nothing_of_each_other() {
    let proxy = Proxy::start(Config {
        create_latency: Duration::from_secs(8),
        in_progress_polls: 2,
        ..Config::default()
    });
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    let args = [
        "deploy",
        "--env",
        "dev",
        "--owner",
        owner.as_str(),
        "--json",
    ];
    let first = Xtask::new(&proxy.endpoint, &args).spawn();
    let started = Instant::now();
    while proxy.calls("CreateStack") == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the first deploy never created its stack"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The second run looks while the first creation is on its way, and creates too.
    let second = Xtask::new(&proxy.endpoint, &args).run();
    let first = first.wait();
    first.ok();
    second
        .code(1)
        .says(&["already exists", "nothing was deleted"]);
    assert_eq!(proxy.calls("DeleteStack"), 0, "a stack was deleted");
    assert_eq!(
        describe(&proxy.endpoint, &format!("tickets-dev-{owner}")).unwrap()["StackStatus"],
        "CREATE_COMPLETE"
    );
}

/// A first `aws cloudformation deploy` (or CDK, SAM) that stopped at its change set.
fn leave_a_stack_in_review(stack: &str) {
    aws(&[
        "cloudformation",
        "create-change-set",
        "--stack-name",
        stack,
        "--change-set-name",
        "someone-elses",
        "--change-set-type",
        "CREATE",
        "--template-body",
        r#"{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}"#,
    ]);
}

#[test]
fn a_stack_left_in_review_without_resources_is_replaced_outside_prod() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    let stack = format!("tickets-dev-{owner}");
    leave_a_stack_in_review(&stack);
    let run = deploy_run(&proxy, "dev", &owner, None).ok();
    assert_eq!(run.json()["result"], "created");
    assert!(run.text().contains("REVIEW_IN_PROGRESS"), "{}", run.text());
    assert_eq!(
        describe(&proxy.endpoint, &stack).unwrap()["StackStatus"],
        "CREATE_COMPLETE"
    );
}

#[test]
fn a_stack_left_in_review_in_prod_is_left_with_the_command_that_removes_it() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("prod", &owner)]);
    let stack = format!("tickets-prod-{owner}");
    leave_a_stack_in_review(&stack);
    deploy_run(&proxy, "prod", &owner, None).code(3).says(&[
        "REVIEW_IN_PROGRESS",
        &format!("cargo xtask destroy --env prod --owner {owner} --force"),
    ]);
    assert_eq!(
        describe(&proxy.endpoint, &stack).unwrap()["StackStatus"],
        "REVIEW_IN_PROGRESS"
    );
}
