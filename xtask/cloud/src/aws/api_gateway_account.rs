//! API Gateway's account-wide settings: the CloudWatch role every stage's logs need.

use super::sdk::explain;
use anyhow::Result;

/// The role API Gateway logs with in this account and region, if one is set.
pub async fn cloudwatch_role(config: &aws_config::SdkConfig) -> Result<Option<String>> {
    let account = aws_sdk_apigateway::Client::new(config)
        .get_account()
        .send()
        .await
        .map_err(|e| explain("reading API Gateway's account settings", e))?;
    Ok(account
        .cloudwatch_role_arn()
        .filter(|arn| !arn.is_empty())
        .map(str::to_owned))
}
