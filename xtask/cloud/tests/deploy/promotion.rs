//! Promotion as a pipeline runs it: the tested artifact named explicitly, across accounts
//! with only the target's credentials, checked against the target's architecture, from a
//! source that survived a failed update.

use crate::proxy::{Config, Proxy};
use crate::support::{Cleanup, ConfigRoot, Xtask, assume_role, aws_as, aws_via, describe, owner};
use crate::{deploy, deploy_run, parameter};
use serde_json::Value;

// Accounts of their own, so that no other test rewrites the source bucket's policy (it is
// derived from the environments a deploy reads).
const SOURCE_ACCOUNT: &str = "333333333333";
const TARGET_ACCOUNT: &str = "111111111111";

/// `deploy --env dev` as `credentials`' account, with `config`.
fn deploy_as(
    proxy: &Proxy,
    owner: &str,
    config: &ConfigRoot,
    credentials: &crate::support::Credentials,
) -> Value {
    Xtask::new(
        &proxy.endpoint,
        &["deploy", "--env", "dev", "--owner", owner, "--json"],
    )
    .config(config)
    .credentials(credentials)
    .run()
    .ok()
    .json()
}

/// Every function's key in a deploy report, as CI hands them on (`--artifact-key a,b`).
fn handed_over(report: &serde_json::Value) -> (Vec<String>, String) {
    let keys: Vec<String> = report["artifact"]["keys"]
        .as_object()
        .expect("the report names every function's key")
        .values()
        .map(|k| k.as_str().unwrap().to_owned())
        .collect();
    let joined = keys.join(",");
    (keys, joined)
}

#[test]
fn promotion_across_accounts_takes_the_artifact_with_only_the_targets_credentials() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let config = ConfigRoot::new();
    config.pin("dev", SOURCE_ACCOUNT);
    config.pin("staging", TARGET_ACCOUNT);
    let (source, target) = (assume_role(SOURCE_ACCOUNT), assume_role(TARGET_ACCOUNT));
    let _cleanup = Cleanup::new(&proxy.endpoint, &[])
        .and_as("dev", &owner, &source)
        .and_as("staging", &owner, &target);
    // The source deploy, with the source account's credentials, as CI's dev job.
    let report = deploy_as(&proxy, &owner, &config, &source);
    let key = report["artifact"]["key"].as_str().unwrap().to_owned();
    let (keys, handed) = handed_over(&report);
    let source_bucket = format!("tickets-artifacts-{SOURCE_ACCOUNT}-us-east-1");
    let policy = aws_via(
        &proxy.endpoint,
        &source,
        &["s3api", "get-bucket-policy", "--bucket", &source_bucket],
    );
    assert!(
        policy["Policy"].as_str().unwrap().contains(TARGET_ACCOUNT),
        "the source bucket does not let staging's account read: {policy}"
    );

    // The promotion, with the target account's credentials only, as CI's staging job.
    let run = Xtask::new(
        &proxy.endpoint,
        &[
            "promote",
            "--from",
            "dev",
            "--to",
            "staging",
            "--owner",
            &owner,
            "--artifact-key",
            &handed,
            "--json",
            "--yes",
        ],
    )
    .config(&config)
    .credentials(&target)
    .run()
    .ok();
    let promoted = run.json();
    assert_eq!(promoted["result"], "created");
    assert_eq!(promoted["account"], TARGET_ACCOUNT);
    let target_bucket = format!("tickets-artifacts-{TARGET_ACCOUNT}-us-east-1");
    assert_eq!(promoted["artifact"]["bucket"], target_bucket.as_str());
    assert_eq!(promoted["artifact"]["key"], key.as_str());
    for key in &keys {
        aws_as(
            &target,
            &[
                "s3api",
                "head-object",
                "--bucket",
                &target_bucket,
                "--key",
                key,
            ],
        );
    }
    let stacks = aws_as(
        &target,
        &[
            "cloudformation",
            "describe-stacks",
            "--stack-name",
            &format!("tickets-staging-{owner}"),
        ],
    );
    assert_eq!(parameter(&stacks["Stacks"][0], "ArtifactKey"), key);
    assert_eq!(proxy.calls("s3:cross-account denied"), 0);
}

#[test]
fn promotion_to_an_account_the_environments_do_not_pin_is_refused_with_the_reason() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let config = ConfigRoot::new();
    let source_account = "444444444444";
    config.pin("dev", source_account);
    let source = assume_role(source_account);
    let _cleanup = Cleanup::new(&proxy.endpoint, &[]).and_as("dev", &owner, &source);
    let report = deploy_as(&proxy, &owner, &config, &source);
    let (_, handed) = handed_over(&report);
    // Staging now lives in an account the source bucket's policy has never heard of.
    let stranger = "222222222222";
    config.pin("staging", stranger);
    let credentials = assume_role(stranger);
    Xtask::new(
        &proxy.endpoint,
        &[
            "promote",
            "--from",
            "dev",
            "--to",
            "staging",
            "--owner",
            &owner,
            "--artifact-key",
            &handed,
            "--yes",
        ],
    )
    .config(&config)
    .credentials(&credentials)
    .run()
    .code(1)
    .says(&[
        &format!("tickets-artifacts-{source_account}-us-east-1"),
        stranger,
        "policy",
    ]);
    assert!(proxy.calls("s3:cross-account denied") > 0);
}

#[test]
fn promotion_refuses_an_artifact_built_for_another_architecture() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let config = ConfigRoot::new();
    config.edit("staging", "architecture: x86_64", "architecture: arm64");
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner), ("staging", &owner)]);
    deploy(&proxy, "dev", &owner, Some(&config));
    Xtask::new(
        &proxy.endpoint,
        &[
            "promote", "--from", "dev", "--to", "staging", "--owner", &owner, "--yes",
        ],
    )
    .config(&config)
    .run()
    .code(3)
    .says(&["x86_64", "arm64"]);
    assert!(describe(&proxy.endpoint, &format!("tickets-staging-{owner}")).is_none());
}

#[test]
fn a_source_rolled_back_after_a_failed_update_is_promotable() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let config = ConfigRoot::new();
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner), ("staging", &owner)]);
    deploy(&proxy, "dev", &owner, Some(&config));
    proxy.configure(|c| c.fail_update = Some("Function".into()));
    config.edit("dev", "memory_mb: 256", "memory_mb: 512");
    deploy_run(&proxy, "dev", &owner, Some(&config)).code(4);
    assert_eq!(
        describe(&proxy.endpoint, &format!("tickets-dev-{owner}")).unwrap()["StackStatus"],
        "UPDATE_ROLLBACK_COMPLETE"
    );
    // It runs the artifact of its last good update: that is what is promoted.
    let run = Xtask::new(
        &proxy.endpoint,
        &[
            "promote", "--from", "dev", "--to", "staging", "--owner", &owner, "--json", "--yes",
        ],
    )
    .config(&config)
    .run()
    .ok();
    assert_eq!(run.json()["result"], "created");
}
