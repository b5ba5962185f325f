//! Updates CloudFormation judges differently from a template diff: custom names, what the
//! stage serves, conditional replacements, long change sets, one index at a time.

use crate::proxy::{Config, Proxy};
use crate::support::{Cleanup, ConfigRoot, owner};
use crate::{deploy, deploy_run, deploy_template, deployed_template, dev_template};
use serde_json::{Value, json};

#[test]
fn allowing_a_table_replacement_renames_it_and_says_where_the_data_goes() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    deploy(&proxy, "dev", &owner, None);
    let stack = format!("tickets-dev-{owner}");
    let mut template = dev_template();
    let table = &mut template["Resources"]["TicketsTable"]["Properties"];
    table["KeySchema"][0]["AttributeName"] = "ticketId".into();
    table["AttributeDefinitions"][0]["AttributeName"] = "ticketId".into();

    // CloudFormation cannot replace a table under its name; the tool gives it a new one.
    let run = deploy_template(&proxy, &owner, &template, &["--allow-replace"]).ok();
    run.says(&[
        &format!("{stack}-tickets-g2"),
        "starts empty",
        &format!("{stack}-tickets is deleted"),
    ]);
    let deployed = deployed_template(&proxy, &stack);
    assert_eq!(
        deployed["Resources"]["TicketsTable"]["Properties"]["TableName"],
        json!({"Fn::Sub": "${AWS::StackName}-tickets-g2"})
    );
    // The new name sticks: the same template again changes nothing.
    let again = deploy_template(&proxy, &owner, &template, &["--allow-replace"]).ok();
    assert_eq!(again.json()["result"], "unchanged", "{}", again.text());
}

/// The ids of the template's API deployment, and the one its stage serves.
fn deployment(template: &Value) -> (String, String) {
    let resources = template["Resources"].as_object().unwrap();
    let id = resources
        .iter()
        .find(|(_, r)| r["Type"] == "AWS::ApiGateway::Deployment")
        .map(|(id, _)| id.clone())
        .unwrap();
    let served = resources["ApiStage"]["Properties"]["DeploymentId"]["Ref"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, served)
}

#[test]
fn a_replaced_resource_the_stage_serves_redeploys_the_stage() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    deploy(&proxy, "dev", &owner, None);
    let stack = format!("tickets-dev-{owner}");
    let (before, _) = deployment(&deployed_template(&proxy, &stack));
    // A new role behind the methods' unchanged `Fn::GetAtt ApiInvokeRole.Arn`, as a
    // replaced user pool is behind the authorizer's `Fn::GetAtt UserPool.Arn`.
    let mut template = dev_template();
    template["Resources"]["ApiInvokeRole"]["Properties"]["Path"] = json!("/tickets/");
    deploy_template(&proxy, &owner, &template, &[]).ok();
    let (after, served) = deployment(&deployed_template(&proxy, &stack));
    assert_ne!(after, before, "the stage still serves the old snapshot");
    assert_eq!(served, after);
}

#[test]
fn a_conditional_replacement_is_judged_by_what_requires_recreation() {
    let proxy = Proxy::start(Config {
        conditional_replacement: true,
        ..Config::default()
    });
    let owner = owner();
    let config = ConfigRoot::new();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    deploy(&proxy, "dev", &owner, Some(&config));
    // Point-in-time recovery is changed in place; CloudFormation may still say
    // "Conditional" (RequiresRecreation: Conditionally).
    config.edit(
        "dev",
        "point_in_time_recovery: false",
        "point_in_time_recovery: true",
    );
    let run = deploy_run(&proxy, "dev", &owner, Some(&config)).ok();
    assert_eq!(run.json()["result"], "updated");
}

#[test]
fn every_page_of_the_change_set_is_read() {
    let proxy = Proxy::start(Config {
        change_set_page: 1,
        ..Config::default()
    });
    let owner = owner();
    let config = ConfigRoot::new();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    deploy(&proxy, "dev", &owner, Some(&config));
    config.edit("dev", "memory_mb: 256", "memory_mb: 512");
    config.edit("dev", "log_retention_days: 14", "log_retention_days: 30");
    let run = deploy_run(&proxy, "dev", &owner, Some(&config)).ok();
    let changed = run.json()["diff"]["resources"].as_array().unwrap().len();
    assert!(changed >= 2, "{}", run.text());
    assert!(
        run.text()
            .contains(&format!("({changed} resource changes)")),
        "{}",
        run.text()
    );
}

#[test]
fn two_index_changes_in_one_update_are_refused_before_a_change_set() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    deploy(&proxy, "dev", &owner, None);
    let mut template = dev_template();
    let indexes = template["Resources"]["TicketsTable"]["Properties"]["GlobalSecondaryIndexes"]
        .as_array_mut()
        .unwrap();
    let mut second = indexes[0].clone();
    second["IndexName"] = json!("bySecond");
    let mut third = indexes[0].clone();
    third["IndexName"] = json!("byThird");
    indexes.push(second);
    indexes.push(third);
    deploy_template(&proxy, &owner, &template, &[])
        .code(3)
        .says(&["bySecond", "byThird", "one index"]);
    assert_eq!(proxy.calls("CreateChangeSet"), 0, "a change set was made");
}
