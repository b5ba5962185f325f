//! The template's outputs: what a deploy tool and a person need to find and run the stack.

use super::api::Api;
use super::auth::Users;
use super::events::EventPath;
use super::monitoring::Monitoring;
use super::output;
use super::rollout::Rollout;
use crate::cfn::dynamodb::Table;
use crate::cfn::events::{ArchiveAttribute, EventBusAttribute};
use crate::cfn::lambda::Function;
use crate::cfn::{Expr, Output, Pseudo, Ref, Template};

/// What the outputs are read from.
pub struct Declared<'a> {
    /// The API.
    pub api: &'a Api,
    /// The table.
    pub table: &'a Ref<Table>,
    /// The function.
    pub function: &'a Ref<Function>,
    /// The user pool and its client.
    pub users: &'a Users,
    /// The alert topic, dashboard and alarms.
    pub monitoring: &'a Monitoring,
    /// The alias and CodeDeploy.
    pub rollout: &'a Rollout,
    /// The event path.
    pub events: &'a EventPath,
}

/// Declares every output; those of optional parts only when the parts exist.
pub fn declare(template: &mut Template, declared: Declared<'_>) {
    let Declared {
        api,
        table,
        function,
        users,
        monitoring,
        rollout,
        events,
    } = declared;
    let mut outputs = vec![
        (
            output::API_URL,
            "Base URL of the API, stage included.",
            api.url.clone(),
        ),
        (output::TABLE_NAME, "The DynamoDB table.", table.reference()),
        (
            output::FUNCTION_NAME,
            "The Lambda function.",
            function.reference(),
        ),
        (
            output::USER_POOL_ID,
            "The Cognito user pool.",
            users.pool.reference(),
        ),
        (
            output::USER_POOL_CLIENT_ID,
            "The Cognito app client (no secret).",
            users.client.reference(),
        ),
        (
            output::REGION,
            "The stack's region.",
            Expr::from(Pseudo::Region),
        ),
        (
            output::ALERT_TOPIC_ARN,
            "The topic every alarm notifies.",
            monitoring.topic.reference(),
        ),
        (
            output::DASHBOARD_NAME,
            "The CloudWatch dashboard.",
            monitoring.dashboard.reference(),
        ),
        (
            output::DASHBOARD_URL,
            "The dashboard in the console.",
            crate::sub!(
                "https://",
                Pseudo::Region,
                ".console.aws.amazon.com/cloudwatch/home?region=",
                Pseudo::Region,
                "#dashboards/dashboard/",
                &monitoring.dashboard
            ),
        ),
    ];
    outputs.extend([
        (
            output::EVENT_BUS_NAME,
            "The bus of the ticket events.",
            events.bus.get_att(EventBusAttribute::Name),
        ),
        (
            output::EVENT_BUS_ARN,
            "The bus's ARN.",
            events.bus.get_att(EventBusAttribute::Arn),
        ),
        (
            output::EVENT_SOURCE,
            "The source of every ticket event.",
            events.source.clone(),
        ),
        (
            output::EVENT_ARCHIVE_ARN,
            "The archive of every event, for replays.",
            events.archive.get_att(ArchiveAttribute::Arn),
        ),
        (
            output::NOTIFICATION_TOPIC_ARN,
            "The topic of assignments and status changes.",
            events.topic.reference(),
        ),
        (
            output::DEAD_LETTER_QUEUE_URL,
            "Events and records the event path could not deliver.",
            events.dead_letters.reference(),
        ),
        (
            output::EVENTS_FUNCTION_NAME,
            "The event enrichment function.",
            events.enrichment.reference(),
        ),
    ]);
    if let Some(group) = &api.access_logs {
        outputs.push((
            output::ACCESS_LOG_GROUP,
            "The stage's access log group.",
            group.reference(),
        ));
    }
    if let Some(alias) = &rollout.alias {
        outputs.push((
            output::ALIAS_ARN,
            "The alias API Gateway invokes.",
            alias.reference(),
        ));
    }
    if let Some((application, group)) = &rollout.codedeploy {
        outputs.extend([
            (
                output::DEPLOYMENT_APPLICATION,
                "The CodeDeploy application.",
                application.reference(),
            ),
            (
                output::DEPLOYMENT_GROUP,
                "The CodeDeploy deployment group.",
                group.reference(),
            ),
            (
                output::ROLLBACK_ALARMS,
                "The alarms rolling a deployment back.",
                Expr::join(
                    ",",
                    monitoring
                        .rollback_alarms
                        .iter()
                        .map(|alarm| alarm.reference()),
                ),
            ),
        ]);
    }
    if let Some(trigger) = &monitoring.rollback_trigger {
        outputs.push((
            output::ROLLBACK_TRIGGER_ARN,
            "The composite alarm CloudFormation rolls an update back on.",
            super::monitoring::alarm_arn(trigger),
        ));
    }
    for (name, description, value) in outputs {
        template.add_output(name, Output::new(description, value));
    }
}
