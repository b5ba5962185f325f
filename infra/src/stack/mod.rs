//! The ticket stack: table, function, API and user pool, their monitoring, rollout and edge
//! security, derived from the function's manifest and one environment's settings.

mod access_logs;
mod api;
mod auth;
mod data;
mod edge;
mod encryption;
pub mod events;
mod function;
mod monitoring;
mod outputs;
mod rollout;
mod stack_policy;
#[cfg(test)]
mod tests;

use crate::cfn::{Expr, Parameter, Pseudo, Template};
use crate::environment::Environment;

pub use api::{deployment_fingerprint, restamp_deployment};
pub use monitoring::MAX_ROLLBACK_ALARMS;
pub use rollout::ALIAS_NAME;
pub use stack_policy::stack_policy;

/// Names of the template's parameters: promotion changes only these.
pub mod parameter {
    /// S3 bucket holding the function's zip (in the stack's region).
    pub const ARTIFACT_BUCKET: &str = "ArtifactBucket";
    /// Key of the API function's zip in that bucket.
    pub const ARTIFACT_KEY: &str = tickets_manifest::functions::TICKETS_API.artifact_parameter;
    /// Key of the event enrichment's zip in that bucket.
    pub const EVENTS_ARTIFACT_KEY: &str =
        tickets_manifest::functions::TICKET_EVENTS.artifact_parameter;
    /// The CodeDeploy configuration of the alias's next shift (gradual rollouts only): its
    /// default is the environment's; `CodeDeployDefault.LambdaAllAtOnce` skips the canary.
    pub const DEPLOYMENT_CONFIG: &str = "DeploymentConfig";
    /// Whether CodeDeploy rolls a shift back on alarms (gradual rollouts only): `true` by
    /// default; `false` for an emergency deploy while alarms fire.
    pub const ROLLBACK_ON_ALARMS: &str = "RollbackOnAlarms";
}

/// Names of the template's outputs.
pub mod output {
    /// Base URL of the API, stage included.
    pub const API_URL: &str = "ApiUrl";
    /// The DynamoDB table's name.
    pub const TABLE_NAME: &str = "TableName";
    /// The Lambda function's name.
    pub const FUNCTION_NAME: &str = "FunctionName";
    /// The Cognito user pool's id.
    pub const USER_POOL_ID: &str = "UserPoolId";
    /// The Cognito app client's id.
    pub const USER_POOL_CLIENT_ID: &str = "UserPoolClientId";
    /// The stack's region.
    pub const REGION: &str = "Region";
    /// ARN of the SNS topic every alarm notifies.
    pub const ALERT_TOPIC_ARN: &str = "AlertTopicArn";
    /// The CloudWatch dashboard's name.
    pub const DASHBOARD_NAME: &str = "DashboardName";
    /// The dashboard in the console.
    pub const DASHBOARD_URL: &str = "DashboardUrl";
    /// The stage's access log group (with access logs on).
    pub const ACCESS_LOG_GROUP: &str = "AccessLogGroup";
    /// ARN of the alias `live` API Gateway invokes (with an alias).
    pub const ALIAS_ARN: &str = "AliasArn";
    /// The CodeDeploy application (gradual rollouts).
    pub const DEPLOYMENT_APPLICATION: &str = "DeploymentApplication";
    /// The CodeDeploy deployment group (gradual rollouts).
    pub const DEPLOYMENT_GROUP: &str = "DeploymentGroup";
    /// Comma-separated names of the alarms that roll a deployment back (gradual rollouts).
    pub const ROLLBACK_ALARMS: &str = "RollbackAlarms";
    /// The ticket events' bus.
    pub const EVENT_BUS_NAME: &str = "EventBusName";
    /// Its ARN.
    pub const EVENT_BUS_ARN: &str = "EventBusArn";
    /// The `source` of every ticket event.
    pub const EVENT_SOURCE: &str = "EventSource";
    /// The bus's archive (for replays).
    pub const EVENT_ARCHIVE_ARN: &str = "EventArchiveArn";
    /// The notification topic.
    pub const NOTIFICATION_TOPIC_ARN: &str = "NotificationTopicArn";
    /// The dead-letter queue of the event path.
    pub const DEAD_LETTER_QUEUE_URL: &str = "EventsDeadLetterQueueUrl";
    /// The event enrichment function.
    pub const EVENTS_FUNCTION_NAME: &str = "EventsFunctionName";
    /// ARN of the composite alarm CloudFormation watches as the rollback trigger of an
    /// update (gradual rollouts).
    pub const ROLLBACK_TRIGGER_ARN: &str = "RollbackTriggerArn";
}

/// Template `Metadata` key holding the environment's name (read by the policy rules).
pub const METADATA_ENVIRONMENT: &str = "Environment";

/// The whole stack for `environment`. Physical names derive from the stack name, so one
/// template serves any number of stacks (`tickets-dev`, `tickets-dev-alice`).
pub fn ticket_stack(environment: &Environment) -> Template {
    build(environment, environment.data_protection.deletion_protection)
}

/// The template of the stack's first creation: [`ticket_stack`] with the table's and the
/// user pool's deletion protection off. A failed first creation must be able to delete
/// them (their `RetainExceptOnCreate` policy asks it to, and DynamoDB and Cognito refuse
/// to delete protected resources, which would leave the stack in `ROLLBACK_FAILED`); the
/// deploy tool turns protection on with an update as soon as the creation succeeded.
/// Identical to [`ticket_stack`] where nothing is protected.
pub fn first_creation(environment: &Environment) -> Template {
    build(environment, false)
}

fn build(environment: &Environment, deletion_protection: bool) -> Template {
    let mut template = Template::new(format!(
        "Ticket API ({}): DynamoDB table, Lambda function, API Gateway REST API and Cognito user pool.",
        environment.name
    ));
    template.set_metadata(METADATA_ENVIRONMENT, &environment.name);

    let bucket = template.add_parameter(
        parameter::ARTIFACT_BUCKET,
        Parameter::string("S3 bucket holding the function's zip, in the stack's region.")
            .allowed_pattern(
                "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
                "an S3 bucket name: 3 to 63 lower-case letters, digits, '.' and '-'",
            ),
    );
    let artifact_key = template.add_parameter(
        parameter::ARTIFACT_KEY,
        Parameter::string("Key of the function's zip in the artifact bucket.")
            .allowed_pattern("^.+\\.zip$", "an S3 key ending in .zip"),
    );
    let events_artifact_key = template.add_parameter(
        parameter::EVENTS_ARTIFACT_KEY,
        Parameter::string("Key of the event enrichment's zip in the artifact bucket.")
            .allowed_pattern("^.+\\.zip$", "an S3 key ending in .zip"),
    );

    let gradual = rollout::gradual(&mut template, environment);

    let key = encryption::key(
        &mut template,
        environment,
        &[
            function::log_group_name(),
            events::log_group_name(),
            access_logs::log_group_name(),
        ],
    );
    let table = data::table(
        &mut template,
        environment,
        key.as_ref(),
        deletion_protection,
    );
    let artifact = function::Artifact {
        bucket: &bucket,
        key: &artifact_key,
    };
    let function = function::function(&mut template, environment, &table, key.as_ref(), artifact);
    let event_path = events::event_path(
        &mut template,
        environment,
        &table,
        key.as_ref(),
        &bucket,
        &events_artifact_key,
    );
    let users = auth::user_pool(&mut template, environment, deletion_protection);
    let backend = rollout::backend(&mut template, environment, &function);
    let api = api::rest_api(
        &mut template,
        environment,
        &backend,
        &users.pool,
        key.as_ref(),
    );
    edge::web_acl(&mut template, environment, &api.rest_api, &api.stage);
    let watched = monitoring::Watched {
        function_name: function.reference(),
        api_name: api::api_name(),
        api_id: api.rest_api.reference(),
        stage: environment.name.clone(),
        table_name: table.reference(),
        access_logs: api.access_logs.as_ref().map(|group| group.reference()),
        events: monitoring::WatchedEvents {
            dead_letter_queue: event_path
                .dead_letters
                .get_att(crate::cfn::sqs::QueueAttribute::QueueName),
            pipe_name: event_path.pipe_name.clone(),
            rule_name: event_path.rule_name.clone(),
            bus_name: event_path
                .bus
                .get_att(crate::cfn::events::EventBusAttribute::Name),
        },
    };
    let monitoring =
        monitoring::monitoring(&mut template, environment, &watched, gradual.is_some());
    let rollout = rollout::rollout(
        &mut template,
        &function,
        &artifact_key,
        gradual.as_ref(),
        &monitoring.rollback_alarms,
        environment.rollout.alias,
    );

    outputs::declare(
        &mut template,
        outputs::Declared {
            api: &api,
            table: &table,
            function: &function,
            users: &users,
            monitoring: &monitoring,
            rollout: &rollout,
            events: &event_path,
        },
    );
    template
}

/// `<stack name>-<suffix>`: every physical name derives from the stack name.
fn physical_name(suffix: &str) -> Expr {
    crate::sub!(Pseudo::StackName, "-", suffix)
}
