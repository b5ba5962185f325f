//! Gradual rollouts against moto: which of the stack's resource types moto creates (the
//! others are checked through the template, in `infra`), and the emergency path
//! `--skip-canary` (its tag and the rollback trigger, which moto ignores, are checked
//! through the CloudFormation proxy in `deploy/`).

#[allow(dead_code)]
#[path = "deploy/proxy/mod.rs"]
mod proxy;
#[allow(dead_code)]
#[path = "deploy/support.rs"]
mod support;

use serde_json::Value;
use std::collections::BTreeSet;
use support::{Cleanup, ConfigRoot, Xtask, aws, owner, shared_endpoint, xtask};

fn describe(stack: &str) -> Option<Value> {
    support::describe(&shared_endpoint(), stack)
}

/// Resource types moto's CloudFormation accepts without creating anything: the tests of
/// `infra` (unit tests, cfn-lint, the guard rules) check them in the rendered templates.
const SKIPPED_BY_MOTO: &[&str] = &[
    "AWS::ApiGateway::Authorizer",
    "AWS::ApiGateway::GatewayResponse",
    "AWS::ApiGateway::Stage",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::CompositeAlarm",
    "AWS::CodeDeploy::Application",
    "AWS::CodeDeploy::DeploymentGroup",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    "AWS::Lambda::Alias",
    "AWS::Logs::MetricFilter",
    // The event path: moto stores pipes through its own API but not through CloudFormation,
    // and has no CloudFormation model of topic and queue policies.
    "AWS::Pipes::Pipe",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::WAFv2::WebACL",
    "AWS::WAFv2::WebACLAssociation",
];

fn template_types(env: &str) -> BTreeSet<String> {
    let template = tickets_infra::synth(&xtask_core::tools::workspace::root(), env).unwrap();
    let template: Value = serde_json::from_str(&template.to_json()).unwrap();
    template["Resources"]
        .as_object()
        .unwrap()
        .values()
        .map(|r| r["Type"].as_str().unwrap().to_owned())
        .collect()
}

/// The types of the resources moto created: it lists the ones it skipped without a type.
fn created_types(stack: &str) -> BTreeSet<String> {
    aws(&[
        "cloudformation",
        "describe-stack-resources",
        "--stack-name",
        stack,
    ])["StackResources"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["ResourceType"].as_str().map(str::to_owned))
        .collect()
}

fn parameter(stack: &Value, name: &str) -> Option<String> {
    stack["Parameters"]
        .as_array()?
        .iter()
        .find(|p| p["ParameterKey"] == name)
        .and_then(|p| p["ParameterValue"].as_str().map(str::to_owned))
}

#[test]
fn moto_creates_every_type_it_models_and_the_tests_name_those_it_skips() {
    let owner = owner();
    let _cleanup = Cleanup::new(&shared_endpoint(), &[("staging", &owner), ("prod", &owner)]);
    for env in ["staging", "prod"] {
        xtask(&["deploy", "--env", env, "--owner", &owner, "--yes"], None).ok();
        let stack = format!("tickets-{env}-{owner}");
        let declared = template_types(env);
        let created = created_types(&stack);
        let skipped: BTreeSet<&str> = declared
            .iter()
            .filter(|t| !created.contains(*t))
            .map(String::as_str)
            .collect();
        let expected: BTreeSet<&str> = SKIPPED_BY_MOTO
            .iter()
            .copied()
            .filter(|t| declared.contains(*t))
            .collect();
        assert_eq!(
            skipped, expected,
            "{env}: moto now creates (or newly skips) a type: update SKIPPED_BY_MOTO"
        );
        assert!(
            created.contains("AWS::Lambda::Version"),
            "{env}: {created:?}"
        );
    }
}

/// The `CreateChangeSet` parameter `key` (`Tags.member.1.Key`, ...) of `request`, by member.
fn members(request: &proxy::query::Params, prefix: &str) -> Vec<(String, String)> {
    (1..)
        .map_while(|n| {
            let key = request.get(&format!("{prefix}.member.{n}.Key"))?;
            let value = request
                .get(&format!("{prefix}.member.{n}.Value"))
                .cloned()
                .unwrap_or_default();
            Some((key.clone(), value))
        })
        .collect()
}

#[test]
fn skip_canary_shifts_at_once_and_sets_alarms_aside_for_one_deploy() {
    let proxy = proxy::Proxy::start(proxy::Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("staging", &owner)]);
    let stack = format!("tickets-staging-{owner}");
    let deploy = |extra: &[&str], config: Option<&ConfigRoot>| {
        let mut args = vec!["deploy", "--env", "staging", "--owner", &owner];
        args.extend_from_slice(extra);
        let mut run = Xtask::new(&proxy.endpoint, &args);
        if let Some(config) = config {
            run = run.config(config);
        }
        run.run().ok()
    };
    let first = deploy(&["--skip-canary"], None);
    assert!(
        first.stderr.contains("--skip-canary changes nothing"),
        "a first creation shifts nothing: {}",
        first.text()
    );
    let watched = deploy(&["--skip-canary"], None);
    assert!(
        watched
            .stderr
            .contains("no alarm stops or rolls back this update"),
        "{}",
        watched.text()
    );
    let emergency = support::describe(&proxy.endpoint, &stack).unwrap();
    assert_eq!(
        parameter(&emergency, "DeploymentConfig").as_deref(),
        Some("CodeDeployDefault.LambdaAllAtOnce")
    );
    assert_eq!(
        parameter(&emergency, "RollbackOnAlarms").as_deref(),
        Some("false")
    );
    let sent = proxy.requests("CreateChangeSet");
    let skipped = sent.last().expect("the emergency update's change set");
    let tags = members(skipped, "Tags");
    let record = tags
        .iter()
        .find(|(k, _)| k == "tickets:last-skip-canary")
        .map(|(_, v)| v.clone())
        .expect("the skip is recorded in the stack's tags");
    assert!(record.contains(" by arn:aws:"), "{record}");
    assert!(
        tags.contains(&("environment".into(), "staging".into())),
        "the stack's other tags are kept: {tags:?}"
    );
    assert!(
        !skipped
            .keys()
            .any(|k| k.starts_with("RollbackConfiguration.RollbackTriggers")),
        "no rollback trigger in an emergency: {skipped:?}"
    );

    // The next deploy (here with a memory change) watches the rollback trigger again.
    let config = ConfigRoot::new();
    config.edit("staging", "memory_mb: 256", "memory_mb: 320");
    let normal = deploy(&[], Some(&config));
    assert!(
        normal.stderr.contains("rolls this update back if"),
        "{}",
        normal.text()
    );
    let sent = proxy.requests("CreateChangeSet");
    let watched = sent.last().unwrap();
    assert!(
        !watched.keys().any(|k| k.starts_with("DeploymentConfig")),
        "staging, even a personal staging stack, waits for its resources: {watched:?}"
    );
    assert_eq!(
        watched
            .get("RollbackConfiguration.RollbackTriggers.member.1.Type")
            .map(String::as_str),
        Some("AWS::CloudWatch::CompositeAlarm")
    );
    assert!(
        watched["RollbackConfiguration.RollbackTriggers.member.1.Arn"].contains(":alarm:"),
        "{watched:?}"
    );
    assert_eq!(
        watched
            .get("RollbackConfiguration.MonitoringTimeInMinutes")
            .map(String::as_str),
        Some("5"),
        "staging's rollout.monitoring_minutes"
    );
    assert!(
        !watched.keys().any(|k| k.starts_with("Tags.")),
        "the tags, record included, are left as they are"
    );
    let back = support::describe(&proxy.endpoint, &stack).unwrap();
    assert_eq!(
        parameter(&back, "DeploymentConfig").as_deref(),
        Some("CodeDeployDefault.LambdaLinear10PercentEvery1Minute")
    );
    assert_eq!(
        parameter(&back, "RollbackOnAlarms").as_deref(),
        Some("true")
    );
}

#[test]
fn production_refuses_to_skip_the_canary_without_confirmation() {
    let owner = owner();
    let refused = xtask(
        &[
            "deploy",
            "--env",
            "prod",
            "--owner",
            &owner,
            "--skip-canary",
        ],
        None,
    );
    assert_eq!(refused.code, 3, "{}", refused.text());
    assert!(refused.stderr.contains("pass --yes"), "{}", refused.text());
    assert!(describe(&format!("tickets-prod-{owner}")).is_none());
}

/// A CodeDeploy application and deployment group in moto, with one finished shift.
fn codedeploy_group_with_an_old_shift(name: &str) {
    aws(&[
        "deploy",
        "create-application",
        "--application-name",
        name,
        "--compute-platform",
        "Lambda",
    ]);
    aws(&[
        "deploy",
        "create-deployment-group",
        "--application-name",
        name,
        "--deployment-group-name",
        name,
        "--service-role-arn",
        "arn:aws:iam::123456789012:role/codedeploy",
        "--deployment-config-name",
        "CodeDeployDefault.LambdaAllAtOnce",
        "--deployment-style",
        "deploymentType=BLUE_GREEN,deploymentOption=WITH_TRAFFIC_CONTROL",
    ]);
    aws(&[
        "deploy",
        "create-deployment",
        "--application-name",
        name,
        "--deployment-group-name",
        name,
        "--revision",
        r#"{"revisionType":"AppSpecContent","appSpecContent":{"content":"{\"version\":0.0,\"Resources\":[{\"F\":{\"Type\":\"AWS::Lambda::Function\",\"Properties\":{\"Name\":\"f\",\"Alias\":\"live\",\"CurrentVersion\":\"1\",\"TargetVersion\":\"2\"}}}]}"}}"#,
    ]);
}

/// moto's CloudFormation does not create CodeDeploy resources, so the stack's outputs name
/// a group the test makes in moto's CodeDeploy (as CloudFormation would have).
#[test]
fn an_update_reports_its_own_traffic_shift_and_no_earlier_one() {
    let owner = owner();
    let _cleanup = Cleanup::new(&shared_endpoint(), &[("dev", &owner)]);
    let name = format!("tickets-{owner}");
    codedeploy_group_with_an_old_shift(&name);
    let template = tickets_infra::synth(&xtask_core::tools::workspace::root(), "dev").unwrap();
    let mut template: Value = serde_json::from_str(&template.to_json()).unwrap();
    for output in ["DeploymentApplication", "DeploymentGroup"] {
        template["Outputs"][output] = serde_json::json!({"Value": name});
    }
    let file = std::env::temp_dir().join(format!("tickets-traffic-{owner}.json"));
    std::fs::write(&file, template.to_string()).unwrap();
    let deploy = |template: &str| {
        xtask(
            &[
                "deploy",
                "--env",
                "dev",
                "--owner",
                &owner,
                "--template",
                template,
            ],
            None,
        )
        .ok()
    };
    deploy(file.to_str().unwrap());
    template["Resources"]["Function"]["Properties"]["MemorySize"] = serde_json::json!(320);
    std::fs::write(&file, template.to_string()).unwrap();
    let updated = deploy(file.to_str().unwrap());
    let _ = std::fs::remove_file(&file);
    assert!(
        updated
            .stderr
            .contains("traffic: no shift (the function's code and configuration did not change)"),
        "the shift made before this update is not reported as its own: {}",
        updated.text()
    );
    assert!(!updated.stderr.contains("warning"), "{}", updated.text());
}

#[test]
fn personal_dev_stacks_deploy_in_express_mode_with_rollback_on() {
    let proxy = proxy::Proxy::start(proxy::Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    let deploy = |config: Option<&ConfigRoot>| {
        let args = ["deploy", "--env", "dev", "--owner", &owner];
        let mut run = Xtask::new(&proxy.endpoint, &args);
        if let Some(config) = config {
            run = run.config(config);
        }
        run.run().ok()
    };
    let express = |request: &proxy::query::Params| {
        (
            request.get("DeploymentConfig.Mode").cloned(),
            request.get("DeploymentConfig.DisableRollback").cloned(),
        )
    };
    let created = deploy(None);
    assert!(
        created.stderr.contains("Express mode"),
        "{}",
        created.text()
    );
    let create = proxy.requests("CreateStack");
    assert_eq!(
        express(create.last().expect("the creation")),
        (Some("EXPRESS".into()), Some("false".into()))
    );
    let config = ConfigRoot::new();
    config.edit("dev", "memory_mb: 256", "memory_mb: 320");
    deploy(Some(&config));
    let update = proxy.requests("CreateChangeSet");
    assert_eq!(
        express(update.last().expect("the update's change set")),
        (Some("EXPRESS".into()), Some("false".into()))
    );
}
