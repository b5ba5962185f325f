//! What a rollout checks before CloudFormation starts, where CloudFormation would find out
//! half-way through and roll everything back: API Gateway's logging role, and every
//! function's code in the bucket.

use super::api_gateway_account::cloudwatch_role;
use super::artifact_bucket;
use super::target::Context;
use anyhow::{Result, bail};
use serde_json::Value;
use std::collections::BTreeMap;
use xtask_core::outcome::deploy_failed;

/// A stage with access logs cannot be created or updated until API Gateway has a CloudWatch
/// role in the account and region: say so before CloudFormation starts and rolls back.
pub async fn check_api_logging(ctx: &Context, template: &Value) -> Result<()> {
    let logs_access = template["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .any(|(_, r)| {
            r["Type"] == "AWS::ApiGateway::Stage"
                && r["Properties"].get("AccessLogSetting").is_some()
        });
    if logs_access && cloudwatch_role(&ctx.config).await?.is_none() {
        bail!(
            "API Gateway has no CloudWatch role in account {}, {}, so the stage's access logs cannot be written: \
             run `cargo xtask bootstrap --env {}` once for this account and region, then deploy again",
            ctx.account,
            ctx.env.region.as_str(),
            ctx.env.name
        );
    }
    Ok(())
}

/// Every function's code must exist before CloudFormation starts: it would otherwise find
/// out half-way through and roll everything back.
pub async fn check_function_code(
    ctx: &Context,
    template: &Value,
    parameters: &BTreeMap<String, String>,
) -> Result<()> {
    let s3 = aws_sdk_s3::Client::new(&ctx.config);
    let resolve = |value: &Value| match value {
        Value::String(text) => Some(text.clone()),
        Value::Object(map) => map
            .get("Ref")
            .and_then(Value::as_str)
            .and_then(|p| parameters.get(p))
            .cloned(),
        _ => None,
    };
    let functions = template["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, r)| r["Type"] == "AWS::Lambda::Function");
    for (id, function) in functions {
        let code = &function["Properties"]["Code"];
        let (Some(bucket), Some(key)) = (resolve(&code["S3Bucket"]), resolve(&code["S3Key"]))
        else {
            continue;
        };
        if !artifact_bucket::exists(&s3, &bucket, &key, None).await? {
            eprintln!("xtask: failed resources:");
            eprintln!(
                "  ✗ {id} (AWS::Lambda::Function): its code s3://{bucket}/{key} does not exist"
            );
            return Err(deploy_failed(format!(
                "{id} would fail to deploy: its code s3://{bucket}/{key} does not exist; nothing was changed"
            )));
        }
    }
    Ok(())
}
