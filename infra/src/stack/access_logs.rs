//! The stage's access log: one JSON line per request, in a log group the stack owns.

use crate::cfn::apigateway::AccessLogSetting;
use crate::cfn::kms::{Key, KeyAttribute};
use crate::cfn::logs::LogGroup;
use crate::cfn::{Expr, Pseudo, Ref, RemovalPolicy, Resource, Template};
use crate::environment::Environment;

/// Logical id of the access log group.
pub const ACCESS_LOG_GROUP: &str = "ApiAccessLogGroup";

/// The fields of a line and the `$context` variables they hold.
///
/// Every value is quoted, numbers included: a variable without a value is written `-`,
/// which would break an unquoted JSON number (`integrationLatency` when the authorizer
/// refuses a request). The metric filter on `status` compares strings accordingly.
pub const FIELDS: &[(&str, &str)] = &[
    ("requestId", "$context.requestId"),
    ("extendedRequestId", "$context.extendedRequestId"),
    ("requestTime", "$context.requestTimeEpoch"),
    ("apiId", "$context.apiId"),
    ("stage", "$context.stage"),
    ("sub", "$context.authorizer.claims.sub"),
    ("sourceIp", "$context.identity.sourceIp"),
    ("method", "$context.httpMethod"),
    ("resourcePath", "$context.resourcePath"),
    ("status", "$context.status"),
    ("protocol", "$context.protocol"),
    ("responseLength", "$context.responseLength"),
    ("latency", "$context.responseLatency"),
    ("integrationLatency", "$context.integrationLatency"),
    ("integrationStatus", "$context.integration.status"),
    ("errorType", "$context.error.responseType"),
    ("authorizerError", "$context.authorizer.error"),
    ("wafStatus", "$context.waf.status"),
    ("wafError", "$context.waf.error"),
];

/// The log group's name; computed rather than read from the group, so the KMS key policy
/// can name it before the group exists.
pub fn log_group_name() -> Expr {
    crate::sub!("/aws/apigateway/", Pseudo::StackName, "/access")
}

/// Declares the access log group, with the environment's retention.
pub fn log_group(
    template: &mut Template,
    environment: &Environment,
    key: Option<&Ref<Key>>,
) -> Ref<LogGroup> {
    // Like the function's logs, they go with the stack.
    template.add(
        Resource::new(
            ACCESS_LOG_GROUP,
            LogGroup {
                log_group_name: Some(log_group_name()),
                retention_in_days: environment.log_retention_days.map(|d| d.get()),
                kms_key_id: key.map(|key| key.get_att(KeyAttribute::Arn)),
            },
        )
        .removal_policy(RemovalPolicy::Delete),
    )
}

/// The stage's `AccessLogSetting` writing to `log_group`.
pub fn setting(log_group: &Ref<LogGroup>) -> AccessLogSetting {
    // Written by hand rather than through a JSON map, to keep the fields in the order above
    // whatever serde_json's features are (names and variables hold nothing to escape).
    let fields: Vec<String> = FIELDS
        .iter()
        .map(|(name, variable)| format!("\"{name}\":\"{variable}\""))
        .collect();
    AccessLogSetting {
        // API Gateway wants the group's ARN without the `:*` of its `Arn` attribute.
        destination_arn: crate::sub!(
            "arn:",
            Pseudo::Partition,
            ":logs:",
            Pseudo::Region,
            ":",
            Pseudo::AccountId,
            ":log-group:",
            log_group
        ),
        format: format!("{{{}}}", fields.join(",")),
    }
}
