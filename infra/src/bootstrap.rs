//! The account's own stack, deployed once per account and region by `cargo xtask bootstrap`
//! (as `cdk bootstrap` deploys CDKToolkit): the role API Gateway needs to write any stage's
//! access logs to CloudWatch Logs, an account-wide setting no ticket stack may own.

use crate::cfn::iam::{InlinePolicy, PolicyDocument, Role, RoleAttribute, Statement};
use crate::cfn::{Output, Pseudo, Resource, Template};

/// The bootstrap stack's name in every account and region.
pub const STACK_NAME: &str = "tickets-bootstrap";

/// Output: the role API Gateway logs with.
pub const CLOUDWATCH_ROLE_ARN: &str = "ApiGatewayCloudWatchRoleArn";

/// The bootstrap template.
pub fn bootstrap_stack() -> Template {
    let mut template = Template::new(
        "Ticket API bootstrap: the account-level role API Gateway writes logs with (once per account and region).",
    );
    // What AWS's AmazonAPIGatewayPushToCloudWatchLogs grants, on this account's log groups:
    // API Gateway names execution-log groups itself, per API and stage.
    let logs = crate::sub!(
        "arn:",
        Pseudo::Partition,
        ":logs:",
        Pseudo::Region,
        ":",
        Pseudo::AccountId,
        ":log-group:*"
    );
    let role = template.add(Resource::new(
        "ApiGatewayCloudWatchRole",
        Role {
            role_name: None,
            description: Some(
                "Lets API Gateway write the stages' access and execution logs (set by cargo xtask bootstrap)."
                    .into(),
            ),
            assume_role_policy_document: PolicyDocument::new([
                Statement::service_may_assume_role("apigateway.amazonaws.com"),
            ]),
            policies: vec![InlinePolicy {
                policy_name: "push-to-cloudwatch-logs".into(),
                policy_document: PolicyDocument::new([Statement::allow(
                    "Logs",
                    [
                        "logs:CreateLogGroup",
                        "logs:CreateLogStream",
                        "logs:DescribeLogGroups",
                        "logs:DescribeLogStreams",
                        "logs:PutLogEvents",
                        "logs:GetLogEvents",
                        "logs:FilterLogEvents",
                    ],
                    [logs],
                )]),
            }],
        },
    ));
    template.add_output(
        CLOUDWATCH_ROLE_ARN,
        Output::new(
            "The role API Gateway writes logs with.",
            role.get_att(RoleAttribute::Arn),
        ),
    );
    template
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusts_only_api_gateway_and_names_no_role() {
        let json: serde_json::Value = serde_json::from_str(&bootstrap_stack().to_json()).unwrap();
        let role = &json["Resources"]["ApiGatewayCloudWatchRole"]["Properties"];
        assert!(role.get("RoleName").is_none());
        assert_eq!(
            role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"][0],
            "apigateway.amazonaws.com"
        );
        assert!(json["Outputs"][CLOUDWATCH_ROLE_ARN].is_object());
    }
}
