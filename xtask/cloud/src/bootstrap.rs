//! `cargo xtask bootstrap --env X`: what an account and region need once before any stack
//! with access logs can deploy there (as `cdk bootstrap`): API Gateway's CloudWatch role.
//! It sets the role only where none is set, and never deletes or replaces one.
//!
//! The artifact bucket stays with `deploy`, which creates it on first use and re-applies its
//! settings on every run, so personal stacks need nothing more.

use crate::aws::api_gateway_account::cloudwatch_role;
use crate::aws::cloudformation::Cfn;
use crate::aws::sdk::explain;
use crate::aws::stack_events::StackEvents;
use crate::aws::target::{Context, Target};
use anyhow::{Context as _, Result, bail};
use aws_sdk_apigateway::types::{Op, PatchOperation};
use std::collections::BTreeMap;
use tickets_infra::bootstrap::{CLOUDWATCH_ROLE_ARN, STACK_NAME, bootstrap_stack};
use xtask_core::outcome::deploy_failed;

/// Arguments of `bootstrap`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    target: Target,
}

/// Sets API Gateway's CloudWatch role unless one is set.
pub async fn run(args: Args) -> Result<()> {
    let ctx = Context::open(&args.target).await?;
    let region = ctx.env.region.as_str();
    if let Some(role) = cloudwatch_role(&ctx.config).await? {
        println!(
            "account {}, {region}: API Gateway already writes logs with {role}; left as it is",
            ctx.account
        );
        return Ok(());
    }
    let cfn = Cfn::new(&ctx.config);
    let outputs = match cfn.describe(STACK_NAME).await? {
        Some(state) if state.complete() => state.outputs,
        Some(state) => bail!(
            "stack {STACK_NAME} is in {} ({}): fix or delete it in the CloudFormation console, then run bootstrap again",
            state.status,
            state.reason.as_deref().unwrap_or("no reason given")
        ),
        None => {
            eprintln!("xtask: creating stack {STACK_NAME} (API Gateway's CloudWatch role)");
            let mut events = StackEvents::start(&cfn, STACK_NAME).await?;
            cfn.create(
                STACK_NAME,
                &bootstrap_stack().to_json_compact(),
                &BTreeMap::new(),
                &[("project", xtask_core::stack_name::PROJECT)],
                false,
                None,
            )
            .await?;
            let hint = format!("cargo xtask bootstrap {}", args.target.flags());
            match events.until_settled(&hint).await? {
                Some(state) if state.status == "CREATE_COMPLETE" => state.outputs,
                other => {
                    return Err(deploy_failed(format!(
                        "creating {STACK_NAME} failed ({}); see its events in the CloudFormation console",
                        other.map_or_else(|| "deleted".to_owned(), |s| s.status)
                    )));
                }
            }
        }
    };
    let role = outputs
        .get(CLOUDWATCH_ROLE_ARN)
        .with_context(|| format!("stack {STACK_NAME} has no output {CLOUDWATCH_ROLE_ARN}"))?;
    aws_sdk_apigateway::Client::new(&ctx.config)
        .update_account()
        .patch_operations(
            PatchOperation::builder()
                .op(Op::Replace)
                .path("/cloudwatchRoleArn")
                .value(role)
                .build(),
        )
        .send()
        .await
        .map_err(|e| explain("setting API Gateway's CloudWatch role", e))?;
    println!(
        "account {}, {region}: API Gateway now writes logs with {role} (stack {STACK_NAME})",
        ctx.account
    );
    Ok(())
}
