//! `cargo xtask import`: the table and user pool a deleted stack retained are adopted into
//! a new stack with their data, and `deploy` completes it.

use crate::proxy::{Config, Proxy};
use crate::support::{Cleanup, Xtask, aws, describe, owner, pools_named};
use crate::{deploy_run, deployed_template};

/// The table's items, as moto holds them.
fn items(table: &str) -> Vec<String> {
    let mut keys: Vec<String> = aws(&["dynamodb", "scan", "--table-name", table])["Items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|item| item["pk"]["S"].as_str().unwrap_or_default().to_owned())
        .collect();
    keys.sort();
    keys
}

#[test]
fn a_deleted_prod_stacks_retained_table_and_pool_are_imported_with_their_data_and_deploy_completes_the_stack()
 {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("prod", &owner)]);
    let stack = format!("tickets-prod-{owner}");
    let table = format!("{stack}-tickets");
    let pool = format!("{stack}-users");
    let flags = format!("--env prod --owner {owner}");

    // A production stack whose table holds tickets, deleted: its policy retains the table.
    deploy_run(&proxy, "prod", &owner, None).ok();
    let tickets = ["ticket#1", "ticket#2", "ticket#3"];
    for pk in tickets {
        aws(&[
            "dynamodb",
            "put-item",
            "--table-name",
            &table,
            "--item",
            &format!(r#"{{"pk": {{"S": "{pk}"}}}}"#),
        ]);
    }
    Xtask::new(
        &proxy.endpoint,
        &[
            "destroy", "--env", "prod", "--owner", &owner, "--yes", "--force",
        ],
    )
    .run()
    .ok();
    assert!(describe(&proxy.endpoint, &stack).is_none());
    assert_eq!(items(&table), tickets, "the table was not retained");
    // moto's CloudFormation makes no user pools: the one the stack retained, made here.
    if pools_named(&pool).is_empty() {
        aws(&["cognito-idp", "create-user-pool", "--pool-name", &pool]);
    }
    let pool_id = pools_named(&pool).pop().unwrap();

    // deploy stops before creating over them, and names the command that adopts them.
    deploy_run(&proxy, "prod", &owner, None)
        .code(3)
        .says(&[&table, &format!("cargo xtask import {flags}")]);

    // Production asks first; without a terminal, --yes is the answer.
    Xtask::new(
        &proxy.endpoint,
        &["import", "--env", "prod", "--owner", &owner],
    )
    .run()
    .code(3)
    .says(&["--yes"]);
    assert!(describe(&proxy.endpoint, &stack).is_none());

    Xtask::new(
        &proxy.endpoint,
        &["import", "--env", "prod", "--owner", &owner, "--yes"],
    )
    .run()
    .ok()
    .says(&[
        &table,
        &pool,
        "IMPORT_COMPLETE",
        &format!("cargo xtask deploy {flags}"),
    ]);
    assert_eq!(
        describe(&proxy.endpoint, &stack).unwrap()["StackStatus"],
        "IMPORT_COMPLETE"
    );
    let imported = deployed_template(&proxy, &stack);
    let mut resources: Vec<&String> = imported["Resources"].as_object().unwrap().keys().collect();
    resources.sort();
    assert_eq!(resources, ["TicketsTable", "UserPool"]);
    assert_eq!(items(&table), tickets, "the import lost tickets");
    assert_eq!(
        pools_named(&pool),
        [pool_id.as_str()],
        "the pool was not kept"
    );

    // deploy adds the rest to the imported stack, the data still there.
    let report = deploy_run(&proxy, "prod", &owner, None).ok().json();
    assert_eq!(report["result"], "updated");
    let deployed = describe(&proxy.endpoint, &stack).unwrap();
    assert_eq!(deployed["StackStatus"], "UPDATE_COMPLETE");
    let template = deployed_template(&proxy, &stack);
    assert!(
        template["Resources"]["Function"].is_object(),
        "the rest of the stack was not added"
    );
    assert_eq!(
        template["Resources"]["TicketsTable"]["DeletionPolicy"],
        "RetainExceptOnCreate"
    );
    assert_eq!(items(&table), tickets, "the deploy lost tickets");
    assert_eq!(
        pools_named(&pool),
        [pool_id],
        "the deploy made another pool"
    );
}

#[test]
fn importing_where_nothing_was_left_says_so_and_changes_nothing() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    Xtask::new(
        &proxy.endpoint,
        &["import", "--env", "dev", "--owner", &owner],
    )
    .run()
    .ok()
    .says(&[
        "nothing to import",
        &format!("cargo xtask deploy --env dev --owner {owner}"),
    ]);
    assert_eq!(proxy.calls("CreateChangeSet"), 0);
    assert!(describe(&proxy.endpoint, &format!("tickets-dev-{owner}")).is_none());
}
