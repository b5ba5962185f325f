//! `cargo xtask deploy`, `promote`, `destroy`, `drift`, `import`, `token` and `smoke` end
//! to end: the real binary against moto's CloudFormation, S3, STS, Lambda, IAM, DynamoDB
//! and Cognito, through a proxy that behaves like CloudFormation where moto does not
//! ([`proxy`]), checked with the AWS CLI.

mod bucket;
mod changes;
mod drift;
mod events;
mod failures;
mod fake_api;
mod import;
mod promotion;
mod proxy;
mod smoke;
mod support;
mod watching;

use base64::Engine;
use proxy::{Config, Proxy};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::Instant;
use support::{Cleanup, ConfigRoot, Run, TempFile, Xtask, aws, describe, owner};
use xtask_core::tools::digest;
use xtask_core::tools::workspace::{self, root};

fn outputs_of(stack: &Value) -> BTreeMap<String, String> {
    stack["Outputs"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            (
                o["OutputKey"].as_str().unwrap().to_owned(),
                o["OutputValue"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn parameter(stack: &Value, name: &str) -> String {
    stack["Parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["ParameterKey"] == name)
        .and_then(|p| p["ParameterValue"].as_str())
        .unwrap_or_else(|| panic!("no parameter {name}"))
        .to_owned()
}

/// `deploy --env <env> --owner <owner> --json` through `proxy`, which must succeed.
fn deploy(proxy: &Proxy, env: &str, owner: &str, config: Option<&ConfigRoot>) -> Value {
    deploy_run(proxy, env, owner, config).ok().json()
}

/// `deploy --env <env> --owner <owner> --json --yes` through `proxy`.
fn deploy_run(proxy: &Proxy, env: &str, owner: &str, config: Option<&ConfigRoot>) -> Run {
    let mut run = Xtask::new(
        &proxy.endpoint,
        &["deploy", "--env", env, "--owner", owner, "--json", "--yes"],
    );
    if let Some(config) = config {
        run = run.config(config);
    }
    run.run()
}

/// The template of an environment as `synth` renders it, for tests that deploy an edited copy.
fn template_of(env: &str) -> Value {
    let template = tickets_infra::synth(&root(), env).expect("the template");
    serde_json::from_str(&template.to_json()).expect("JSON")
}

/// The dev template as `synth` renders it.
fn dev_template() -> Value {
    template_of("dev")
}

/// Deploys an edited template to the owner's dev stack, as `deploy --template` does.
fn deploy_template(proxy: &Proxy, owner: &str, template: &Value, extra: &[&str]) -> Run {
    let file = TempFile::new(&serde_json::to_string(template).unwrap());
    let mut args = vec![
        "deploy",
        "--env",
        "dev",
        "--owner",
        owner,
        "--json",
        "--template",
        file.arg(),
    ];
    args.extend_from_slice(extra);
    Xtask::new(&proxy.endpoint, &args).run()
}

/// The template CloudFormation holds for a stack.
fn deployed_template(proxy: &Proxy, stack: &str) -> Value {
    let answer = support::cfn_cli(
        &proxy.endpoint,
        &["cloudformation", "get-template", "--stack-name", stack],
    )
    .unwrap();
    match &answer["TemplateBody"] {
        Value::String(text) => serde_json::from_str(text).unwrap(),
        other => other.clone(),
    }
}

#[test]
fn first_deploy_creates_the_stack_with_its_outputs_and_the_built_code() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    let report = deploy(&proxy, "dev", &owner, None);
    assert_eq!(report["result"], "created");
    let stack_name = format!("tickets-dev-{owner}");
    let stack = describe(&proxy.endpoint, &stack_name).expect("the stack exists");
    assert_eq!(stack["StackStatus"], "CREATE_COMPLETE");

    // The outputs file holds exactly what the stack reports.
    let file = std::fs::read_to_string(
        workspace::state_dir()
            .join("stacks")
            .join(format!("{stack_name}.json")),
    )
    .unwrap();
    let recorded: BTreeMap<String, String> = serde_json::from_str(&file).unwrap();
    let reported = outputs_of(&stack);
    assert_eq!(recorded, reported);
    for key in ["ApiUrl", "FunctionName", "TableName", "Region"] {
        assert!(
            reported.contains_key(key),
            "output {key} missing: {reported:?}"
        );
    }
    // moto's CloudFormation does not model Cognito, so the user pool's outputs are the
    // ones it leaves out; real CloudFormation reports them too.
    for key in ["UserPoolId", "UserPoolClientId"] {
        assert!(
            !reported.contains_key(key),
            "moto now reports {key}: update this test"
        );
    }
    assert_eq!(
        reported["TableName"],
        format!("tickets-dev-{owner}-tickets")
    );

    // Lambda runs exactly the zip that was built.
    let zip = std::fs::read(
        workspace::target_dir()
            .unwrap()
            .join("lambda/manage-tickets/bootstrap.zip"),
    )
    .unwrap();
    let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&zip));
    let function = aws(&[
        "lambda",
        "get-function",
        "--function-name",
        &reported["FunctionName"],
    ]);
    assert_eq!(function["Configuration"]["CodeSha256"], expected.as_str());
    assert_eq!(function["Configuration"]["Runtime"], "provided.al2023");
    let key = parameter(&stack, "ArtifactKey");
    assert_eq!(report["artifact"]["key"], key.as_str());
    assert_eq!(
        key,
        format!("manage-tickets/{}.zip", digest::sha256_hex(&zip)),
        "the artifact key derives from the zip's SHA-256"
    );
}

#[test]
fn an_unchanged_second_deploy_changes_nothing() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    deploy(&proxy, "dev", &owner, None);
    let stack_name = format!("tickets-dev-{owner}");
    let before = describe(&proxy.endpoint, &stack_name).unwrap();
    let events = |s: &str| {
        aws(&["cloudformation", "describe-stack-events", "--stack-name", s])["StackEvents"]
            .as_array()
            .map_or(0, Vec::len)
    };
    let events_before = events(&stack_name);

    let started = Instant::now();
    let run = deploy_run(&proxy, "dev", &owner, None).ok();
    let elapsed = started.elapsed();
    assert_eq!(run.json()["result"], "unchanged");
    assert!(run.stderr.contains("no changes"), "{}", run.stderr);
    let after = describe(&proxy.endpoint, &stack_name).unwrap();
    assert_eq!(after["LastUpdatedTime"], before["LastUpdatedTime"]);
    assert_eq!(after["StackStatus"], before["StackStatus"]);
    assert_eq!(
        events(&stack_name),
        events_before,
        "the no-op deploy touched the stack"
    );
    // Reported, not asserted: `cargo xtask bench` measures it against its target.
    eprintln!("no-op deploy: {elapsed:.2?} including the build check");
}

#[test]
fn an_environment_change_updates_the_stack_and_the_diff_names_the_property() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let config = ConfigRoot::new();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    deploy(&proxy, "dev", &owner, Some(&config));
    config.edit("dev", "memory_mb: 256", "memory_mb: 512");
    let run = deploy_run(&proxy, "dev", &owner, Some(&config)).ok();
    let report = run.json();
    assert_eq!(report["result"], "updated");
    assert!(
        run.stderr.contains("Properties.MemorySize"),
        "{}",
        run.stderr
    );
    let changes = report["diff"]["resources"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["logicalId"], "Function");
    assert_eq!(
        changes[0]["paths"],
        serde_json::json!(["Properties.MemorySize"])
    );
    let function = aws(&[
        "lambda",
        "get-function-configuration",
        "--function-name",
        &format!("tickets-dev-{owner}-manage-tickets"),
    ]);
    assert_eq!(function["MemorySize"], 512);
}

#[test]
fn a_change_that_replaces_the_table_is_refused_without_allow_replace() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    deploy(&proxy, "dev", &owner, None);
    let stack_name = format!("tickets-dev-{owner}");
    let deployed = deployed_template(&proxy, &stack_name);

    let mut template = dev_template();
    let table = &mut template["Resources"]["TicketsTable"]["Properties"];
    table["KeySchema"][0]["AttributeName"] = "ticketId".into();
    table["AttributeDefinitions"][0]["AttributeName"] = "ticketId".into();
    let run = deploy_template(&proxy, &owner, &template, &[]);
    assert_eq!(run.code, 3, "{}", run.text());
    assert!(
        run.text().contains("TicketsTable") && run.text().contains("--allow-replace"),
        "{}",
        run.text()
    );
    assert!(
        run.text().contains("REPLACE"),
        "the diff shows the replacement: {}",
        run.text()
    );
    let after = deployed_template(&proxy, &stack_name);
    assert_eq!(after, deployed, "the stack changed");
}

#[test]
fn promote_deploys_the_same_artifact_without_building() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner), ("staging", &owner)]);
    deploy(&proxy, "dev", &owner, None);
    let source_key = parameter(
        &describe(&proxy.endpoint, &format!("tickets-dev-{owner}")).unwrap(),
        "ArtifactKey",
    );
    let run = Xtask::new(
        &proxy.endpoint,
        &[
            "promote", "--from", "dev", "--to", "staging", "--owner", &owner, "--json",
        ],
    )
    .run()
    .ok();
    assert!(
        !run.stderr.contains("building bootstrap"),
        "promote built: {}",
        run.stderr
    );
    assert_eq!(run.json()["result"], "created");
    let target = describe(&proxy.endpoint, &format!("tickets-staging-{owner}"))
        .expect("the staging stack exists");
    assert_eq!(parameter(&target, "ArtifactKey"), source_key);
}

#[test]
fn promote_refuses_a_missing_source() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let run = Xtask::new(
        &proxy.endpoint,
        &[
            "promote", "--from", "dev", "--to", "staging", "--owner", &owner,
        ],
    )
    .run();
    assert_eq!(run.code, 3, "{}", run.text());
    assert!(run.text().contains("does not exist"), "{}", run.text());
    assert!(describe(&proxy.endpoint, &format!("tickets-staging-{owner}")).is_none());
}

#[test]
fn owner_stacks_coexist_and_destroy_removes_only_one() {
    let proxy = Proxy::start(Config::default());
    let (alice, bob) = (owner(), owner());
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &alice), ("dev", &bob)]);
    deploy(&proxy, "dev", &alice, None);
    deploy(&proxy, "dev", &bob, None);
    let tables = aws(&["dynamodb", "list-tables"])["TableNames"].clone();
    let (table_a, table_b) = (
        format!("tickets-dev-{alice}-tickets"),
        format!("tickets-dev-{bob}-tickets"),
    );
    for table in [&table_a, &table_b] {
        assert!(
            tables
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == table.as_str()),
            "{table} missing"
        );
    }

    Xtask::new(
        &proxy.endpoint,
        &["destroy", "--env", "dev", "--owner", &alice, "--yes"],
    )
    .run()
    .ok();
    assert!(
        describe(&proxy.endpoint, &format!("tickets-dev-{alice}")).is_none(),
        "alice's stack survived"
    );
    let tables = aws(&["dynamodb", "list-tables"])["TableNames"].clone();
    assert!(
        !tables
            .as_array()
            .unwrap()
            .iter()
            .any(|t| *t == table_a.as_str()),
        "alice's table survived"
    );
    assert!(
        tables
            .as_array()
            .unwrap()
            .iter()
            .any(|t| *t == table_b.as_str()),
        "bob's table is gone"
    );
    assert_eq!(
        describe(&proxy.endpoint, &format!("tickets-dev-{bob}")).unwrap()["StackStatus"],
        "CREATE_COMPLETE"
    );
}

#[test]
fn a_failing_deploy_names_the_resource_and_the_reason() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]);
    let mut template = dev_template();
    // The function's code lives in a bucket that does not exist.
    template["Resources"]["Function"]["Properties"]["Code"]["S3Bucket"] =
        "tickets-no-such-bucket-anywhere".into();
    let run = deploy_template(&proxy, &owner, &template, &[]);
    assert_eq!(run.code, 4, "{}", run.text());
    let text = run.text();
    assert!(
        text.contains("✗ Function (AWS::Lambda::Function)"),
        "{text}"
    );
    assert!(
        text.contains("NoSuchBucket") || text.contains("does not exist"),
        "{text}"
    );
    // A failed first creation is cleaned up outside production.
    assert!(
        describe(&proxy.endpoint, &format!("tickets-dev-{owner}")).is_none(),
        "the failed stack was left behind"
    );
}

#[test]
fn production_needs_confirmation_when_there_is_no_terminal() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("prod", &owner)]);
    let run = Xtask::new(
        &proxy.endpoint,
        &["deploy", "--env", "prod", "--owner", &owner],
    )
    .run();
    assert_eq!(run.code, 3, "{}", run.text());
    assert!(run.text().contains("--yes"), "{}", run.text());
    assert!(describe(&proxy.endpoint, &format!("tickets-prod-{owner}")).is_none());
}

#[test]
fn refuses_an_account_other_than_the_pinned_one() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let config = ConfigRoot::new();
    config.pin("dev", "999999999999");
    let run = Xtask::new(
        &proxy.endpoint,
        &["deploy", "--env", "dev", "--owner", &owner],
    )
    .config(&config)
    .run();
    assert_eq!(run.code, 3, "{}", run.text());
    assert!(
        run.text().contains("999999999999") && run.text().contains("123456789012"),
        "{}",
        run.text()
    );
}

#[test]
fn missing_credentials_are_one_line_with_the_fix() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_xtask-cloud"))
        .current_dir(root())
        .args(["outputs", "--env", "dev", "--owner", "nobody"])
        .env("AWS_ENDPOINT_URL", support::moto())
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_WEB_IDENTITY_TOKEN_FILE")
        .env_remove("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        .env_remove("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("no AWS credentials") && stderr.contains("AWS_PROFILE"),
        "{stderr}"
    );
}
