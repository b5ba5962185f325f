//! The artifact bucket as S3 and IAM really answer: 403 where moto says 404, a concurrent
//! first use, settings someone removed. Each test has a region (so a bucket) of its own.

use crate::proxy::{Config, Proxy};
use crate::support::{Cleanup, ConfigRoot, Xtask, cfn_cli, owner};
use serde_json::Value;

/// A copy of the environments with dev in `region`.
fn dev_in(region: &str) -> ConfigRoot {
    let config = ConfigRoot::new();
    config.edit("dev", "region: us-east-1", &format!("region: {region}"));
    config
}

fn deploy_dev(proxy: &Proxy, owner: &str, config: &ConfigRoot) -> crate::support::Run {
    Xtask::new(
        &proxy.endpoint,
        &["deploy", "--env", "dev", "--owner", owner, "--json"],
    )
    .config(config)
    .run()
}

/// S3 as the tests' AWS (the proxy) answers.
fn s3api(proxy: &Proxy, args: &[&str], region: &str) -> Result<Value, String> {
    let mut all = vec!["s3api"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--region", region]);
    cfn_cli(&proxy.endpoint, &all)
}

#[test]
fn a_role_without_list_bucket_still_deploys() {
    // HeadBucket and HeadObject of a missing key answer 403, as S3 does for a role without
    // s3:ListBucket.
    let proxy = Proxy::start(Config {
        deny_list_bucket: true,
        ..Config::default()
    });
    let owner = owner();
    let region = "ap-southeast-2";
    let config = dev_in(region);
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]).config(&config, region);
    let run = deploy_dev(&proxy, &owner, &config).ok();
    assert_eq!(run.json()["result"], "created");
    assert!(
        proxy.calls("s3:HeadBucket denied") > 0,
        "S3 was never asked"
    );
}

#[test]
fn a_concurrent_first_use_of_the_bucket_is_not_an_error() {
    let proxy = Proxy::start(Config {
        bucket_already_owned: true,
        ..Config::default()
    });
    let owner = owner();
    let region = "eu-west-1";
    let config = dev_in(region);
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]).config(&config, region);
    let run = deploy_dev(&proxy, &owner, &config).ok();
    assert_eq!(run.json()["result"], "created");
    assert_eq!(proxy.calls("s3:CreateBucket"), 1);
}

#[test]
fn the_artifact_bucket_is_repaired_and_hardened_on_every_run() {
    let proxy = Proxy::start(Config::default());
    let owner = owner();
    let region = "us-west-2";
    let config = dev_in(region);
    let _cleanup = Cleanup::new(&proxy.endpoint, &[("dev", &owner)]).config(&config, region);
    deploy_dev(&proxy, &owner, &config).ok();
    let bucket = format!("tickets-artifacts-123456789012-{region}");
    // Someone (or a half-finished first run) removed its settings.
    for args in [
        ["delete-public-access-block", "--bucket", &bucket],
        ["delete-bucket-encryption", "--bucket", &bucket],
        ["delete-bucket-policy", "--bucket", &bucket],
        ["delete-bucket-lifecycle", "--bucket", &bucket],
    ] {
        let _ = s3api(&proxy, &args, region);
    }
    deploy_dev(&proxy, &owner, &config).ok();

    let block = s3api(
        &proxy,
        &["get-public-access-block", "--bucket", &bucket],
        region,
    )
    .expect("public access is blocked again");
    let block = &block["PublicAccessBlockConfiguration"];
    for setting in [
        "BlockPublicAcls",
        "IgnorePublicAcls",
        "BlockPublicPolicy",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(block[setting], true, "{setting}");
    }
    s3api(
        &proxy,
        &["get-bucket-encryption", "--bucket", &bucket],
        region,
    )
    .expect("the bucket is encrypted again");
    let lifecycle = s3api(
        &proxy,
        &["get-bucket-lifecycle-configuration", "--bucket", &bucket],
        region,
    )
    .expect("the bucket has a lifecycle");
    assert!(
        lifecycle["Rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["NoncurrentVersionExpiration"]["NoncurrentDays"].is_number()),
        "noncurrent versions never expire: {lifecycle}"
    );
    let policy = s3api(&proxy, &["get-bucket-policy", "--bucket", &bucket], region)
        .expect("the bucket has a policy");
    let policy: Value = serde_json::from_str(policy["Policy"].as_str().unwrap()).unwrap();
    assert!(
        policy["Statement"].as_array().unwrap().iter().any(|s| {
            s["Effect"] == "Deny" && s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
        }),
        "plain HTTP is not refused: {policy}"
    );
    let versioning = s3api(
        &proxy,
        &["get-bucket-versioning", "--bucket", &bucket],
        region,
    )
    .unwrap();
    assert_eq!(versioning["Status"], "Enabled");
}
