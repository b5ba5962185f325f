//! What a stack update is rolled back on, and the emergency path around it.
//!
//! Gradual environments roll an update back twice over: CodeDeploy stops the traffic shift
//! when a rollback alarm fires, and CloudFormation (given the stack's composite alarm as its
//! rollback trigger) reverts the whole update when the alarm fires during the update or the
//! monitoring time after it. `--skip-canary` sets both aside for one deploy, so that an
//! alarm already firing in an incident cannot hold its hotfix back, and records that it did
//! in the stack's tags.

use super::cloudformation::StackState;
use super::target::Context;
use aws_sdk_cloudformation::types::{
    DeploymentConfig, RollbackConfiguration, RollbackTrigger, Tag,
};
use serde_json::Value;
use std::collections::BTreeMap;
use tickets_infra::stack::output::ROLLBACK_TRIGGER_ARN;
use tickets_infra::stack::parameter::{DEPLOYMENT_CONFIG, ROLLBACK_ON_ALARMS};

/// The CodeDeploy configuration that shifts every request at once.
pub const ALL_AT_ONCE: &str = "CodeDeployDefault.LambdaAllAtOnce";
/// The stack tag recording the last deploy that skipped the canary (when, and who).
pub const SKIP_CANARY_TAG: &str = "tickets:last-skip-canary";

/// How one update is watched, and what it records.
#[derive(Debug, Clone, Default)]
pub struct UpdateWatch {
    /// CloudFormation's rollback configuration, when the stack has a trigger.
    pub rollback: Option<RollbackConfiguration>,
    /// The stack's tags after the update, when they change (`None`: left as they are).
    pub tags: Option<Vec<Tag>>,
    /// Express mode, for personal stacks ([`super::express`]).
    pub deployment: Option<DeploymentConfig>,
}

/// Whether the template shifts traffic gradually (it has the parameter to skip it).
pub fn is_gradual(template: &Value) -> bool {
    template["Parameters"].get(DEPLOYMENT_CONFIG).is_some()
}

/// The gradual rollout's parameters, always passed: the template's defaults (the
/// environment's settings), or for an emergency every request at once with alarms not
/// watched. Passing the defaults explicitly puts a stack back after an emergency deploy
/// rather than relying on how an update treats an omitted parameter.
pub fn gradual_parameters(
    template: &Value,
    skip_canary: bool,
    parameters: &mut BTreeMap<String, String>,
) {
    for name in [DEPLOYMENT_CONFIG, ROLLBACK_ON_ALARMS] {
        let value = match (skip_canary, name) {
            (true, DEPLOYMENT_CONFIG) => Some(ALL_AT_ONCE),
            (true, _) => Some("false"),
            (false, _) => template["Parameters"][name]["Default"].as_str(),
        };
        if let Some(value) = value {
            parameters.insert(name.to_owned(), value.to_owned());
        }
    }
}

/// The rollback trigger and tags of an update of `deployed`.
pub fn update_watch(ctx: &Context, deployed: &StackState, skip_canary: bool) -> UpdateWatch {
    if skip_canary {
        let mut tags = deployed.tags.clone();
        tags.insert(SKIP_CANARY_TAG.to_owned(), skip_record(&ctx.caller));
        return UpdateWatch {
            // An empty configuration clears the stack's triggers for this update.
            rollback: Some(RollbackConfiguration::builder().build()),
            tags: Some(
                tags.into_iter()
                    .map(|(key, value)| Tag::builder().key(key).value(value).build())
                    .collect(),
            ),
            deployment: super::express::deployment_config(ctx),
        };
    }
    let rollback = deployed.outputs.get(ROLLBACK_TRIGGER_ARN).map(|arn| {
        RollbackConfiguration::builder()
            .rollback_triggers(
                RollbackTrigger::builder()
                    .arn(arn)
                    .r#type("AWS::CloudWatch::CompositeAlarm")
                    .build(),
            )
            .monitoring_time_in_minutes(ctx.env.rollout.monitoring_minutes as i32)
            .build()
    });
    UpdateWatch {
        rollback,
        tags: None,
        deployment: super::express::deployment_config(ctx),
    }
}

/// `2026-11-30T08:40:00Z by arn:aws:iam::…`, within a tag value's 256 characters and its
/// alphabet (letters, digits, spaces and `_ . : / = + - @`).
fn skip_record(caller: &str) -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let when = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let who: String = caller
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut record = format!("{when} by {who}");
    record.truncate(256);
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_who_skipped_in_a_tags_alphabet() {
        let record = skip_record("arn:aws:sts::123456789012:assumed-role/ci/run#42");
        assert!(record.ends_with(" by arn:aws:sts::123456789012:assumed-role/ci/run_42"));
        assert!(record.len() <= 256);
    }

    #[test]
    fn skipping_shifts_at_once_without_watching_alarms_and_otherwise_passes_the_defaults() {
        let template = serde_json::json!({"Parameters": {
            DEPLOYMENT_CONFIG: {"Default": "CodeDeployDefault.LambdaCanary10Percent5Minutes"},
            ROLLBACK_ON_ALARMS: {"Default": "true"},
        }});
        let mut parameters = BTreeMap::new();
        gradual_parameters(&template, true, &mut parameters);
        assert_eq!(parameters[DEPLOYMENT_CONFIG], ALL_AT_ONCE);
        assert_eq!(parameters[ROLLBACK_ON_ALARMS], "false");
        gradual_parameters(&template, false, &mut parameters);
        assert_eq!(
            parameters[DEPLOYMENT_CONFIG],
            "CodeDeployDefault.LambdaCanary10Percent5Minutes"
        );
        assert_eq!(parameters[ROLLBACK_ON_ALARMS], "true");
    }
}
