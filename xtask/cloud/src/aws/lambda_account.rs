//! Lambda's account-wide concurrency: reserving executions for the function fails to deploy
//! when the account cannot spare them, so `deploy` checks before CloudFormation starts.

use super::sdk::explain;
use super::target::Context;
use anyhow::{Result, bail};
use serde_json::Value;

/// Lambda keeps this many concurrent executions unreserved in every account and region.
pub const MIN_UNRESERVED: i64 = 100;

/// Executions the template's functions reserve.
pub fn reserved_by(template: &Value) -> i64 {
    template["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, r)| r["Type"] == "AWS::Lambda::Function")
        .filter_map(|(_, r)| r["Properties"]["ReservedConcurrentExecutions"].as_i64())
        .sum()
}

/// Why `wanted` reserved executions cannot be had when the account leaves `unreserved`
/// and the deployed stack already holds `held`; `None` when they can.
pub fn shortfall(wanted: i64, held: i64, unreserved: i64) -> Option<i64> {
    let available = unreserved + held - MIN_UNRESERVED;
    (wanted > available).then_some(wanted - available)
}

/// Refuses a template reserving more than the account can spare, with what to do.
pub async fn check_reserved_concurrency(
    ctx: &Context,
    template: &Value,
    deployed: Option<&Value>,
) -> Result<()> {
    let wanted = reserved_by(template);
    let held = deployed.map_or(0, reserved_by);
    if wanted == 0 || wanted <= held {
        return Ok(());
    }
    let settings = aws_sdk_lambda::Client::new(&ctx.config)
        .get_account_settings()
        .send()
        .await
        .map_err(|e| explain("reading Lambda's concurrency limits for the account", e))?;
    let limit = settings.account_limit();
    let unreserved = limit
        .and_then(|l| l.unreserved_concurrent_executions())
        .map_or(0, i64::from);
    let total = limit.map_or(0, |l| i64::from(l.concurrent_executions()));
    if let Some(missing) = shortfall(wanted, held, unreserved) {
        bail!(
            "environments/{}.yaml reserves {wanted} concurrent executions (lambda.reserved_concurrency), \
             but account {} in {} has {total} in all, {unreserved} unreserved, and Lambda keeps \
             {MIN_UNRESERVED} unreserved: {missing} too many. Ask AWS for a higher \"Concurrent \
             executions\" quota (Service Quotas, Lambda), or lower or remove reserved_concurrency",
            ctx.env.name,
            ctx.account,
            ctx.env.region.as_str()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_accounts_default_limit_cannot_spare_fifty() {
        // New accounts start at 10 concurrent executions in all.
        assert_eq!(shortfall(50, 0, 10), Some(140));
        assert_eq!(shortfall(50, 0, 1000), None);
    }

    #[test]
    fn what_the_stack_already_holds_counts_as_available() {
        // The stack holds 50; 110 more are unreserved, of which Lambda keeps 100.
        assert_eq!(shortfall(60, 50, 110), None);
        assert_eq!(shortfall(60, 50, 109), Some(1));
    }

    #[test]
    fn sums_every_functions_reservation() {
        let template = serde_json::json!({"Resources": {
            "A": {"Type": "AWS::Lambda::Function", "Properties": {"ReservedConcurrentExecutions": 5}},
            "B": {"Type": "AWS::Lambda::Function", "Properties": {}},
            "C": {"Type": "AWS::Lambda::Function", "Properties": {"ReservedConcurrentExecutions": 7}},
        }});
        assert_eq!(reserved_by(&template), 12);
    }
}
