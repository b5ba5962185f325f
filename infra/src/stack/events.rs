//! The ticket events, without dual writes: the table's stream → a pipe (ticket items only)
//! → the enrichment function (records into events) → the stack's event bus, which archives
//! every event and routes assignments and status changes to the notification topic. What
//! cannot be delivered ends in one dead-letter queue.
//!
//! Least privilege, derived like the function's: the pipe's role reads only this table's
//! stream, invokes only the enrichment, puts events only on this bus and dead letters only in
//! this queue; the enrichment's role writes its own logs and nothing else (no table access).
//! (Over 500 lines: the event path's resources are read in the order records flow through them, so they stay in one file.)

use super::function::{self, XRAY_ACTIONS};
use super::physical_name;
use crate::cfn::dynamodb::{Table, TableAttribute};
use crate::cfn::events::{
    Archive, EventBus, EventBusAttribute, InputTransformer, RetryPolicy, Rule, RuleAttribute,
    Target, TargetDeadLetterConfig,
};
use crate::cfn::iam::{InlinePolicy, PolicyDocument, Principal, Role, RoleAttribute, Statement};
use crate::cfn::kms::{Key, KeyAttribute};
use crate::cfn::lambda::{Code, Function, FunctionAttribute, TracingConfig, TracingMode};
use crate::cfn::pipes::{
    DeadLetterConfig, DynamoDbStreamParameters, EventBusParameters, Filter, FilterCriteria, Pipe,
    SourceParameters, TargetParameters,
};
use crate::cfn::sns::{Subscription, SubscriptionProtocol, Topic, TopicPolicy};
use crate::cfn::sqs::{Queue, QueueAttribute, QueuePolicy};
use crate::cfn::{Expr, ParamRef, Pseudo, Ref, RemovalPolicy, Resource, Template};
use crate::environment::{Environment, Protocol};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use tickets_manifest::events::{self, notification};
use tickets_manifest::functions::TICKET_EVENTS;

/// Logical id of the enrichment function.
pub const ENRICHMENT: &str = "EventsFunction";
/// Logical id of its log group.
pub const ENRICHMENT_LOG_GROUP: &str = "EventsFunctionLogGroup";
/// Logical id of its role.
pub const ENRICHMENT_ROLE: &str = "EventsFunctionRole";
/// Logical id of the event bus.
pub const BUS: &str = "EventBus";
/// Logical id of the bus's archive.
pub const ARCHIVE: &str = "EventArchive";
/// Logical id of the dead-letter queue.
pub const DEAD_LETTERS: &str = "EventsDeadLetterQueue";
/// Logical id of the dead-letter queue's policy.
pub const DEAD_LETTER_POLICY: &str = "EventsDeadLetterQueuePolicy";
/// Logical id of the pipe.
pub const PIPE: &str = "EventsPipe";
/// Logical id of the pipe's role.
pub const PIPE_ROLE: &str = "EventsPipeRole";
/// Logical id of the notification topic.
pub const NOTIFICATION_TOPIC: &str = "NotificationTopic";
/// Logical id of the topic's policy.
pub const NOTIFICATION_TOPIC_POLICY: &str = "NotificationTopicPolicy";
/// Logical id of the rule sending notifications to the topic.
pub const NOTIFICATION_RULE: &str = "NotificationRule";

/// The enrichment's memory: it turns JSON into JSON, and CPU comes with memory.
const ENRICHMENT_MEMORY_MB: u32 = 256;
/// The enrichment's timeout: a batch of ten records takes a millisecond or two.
const ENRICHMENT_TIMEOUT_SECONDS: u32 = 10;
/// Dead letters are kept as long as SQS allows, 14 days.
const DEAD_LETTER_RETENTION_SECONDS: u32 = 14 * 24 * 3600;

/// What the rest of the stack reads from the event path.
pub struct EventPath {
    /// The bus.
    pub bus: Ref<EventBus>,
    /// Its archive.
    pub archive: Ref<Archive>,
    /// The dead-letter queue.
    pub dead_letters: Ref<Queue>,
    /// The notification topic.
    pub topic: Ref<Topic>,
    /// The enrichment function.
    pub enrichment: Ref<Function>,
    /// The rule notifying the topic.
    pub rule: Ref<Rule>,
    /// The rule's name (a custom bus's rule's `Ref` is `<bus>|<rule>`).
    pub rule_name: Expr,
    /// The pipe's name (a `Ref` of the pipe would make moto's CloudFormation, which skips
    /// pipes, fail the stack).
    pub pipe_name: Expr,
    /// Every event's `source`: `tickets.<stack>`.
    pub source: Expr,
}

/// `tickets.<stack>`.
pub fn source() -> Expr {
    crate::sub!(events::SOURCE_PREFIX, Pseudo::StackName)
}

/// The enrichment function's log group name (for the KMS key's policy).
pub fn log_group_name() -> Expr {
    function::log_group_name_of(TICKET_EVENTS.name)
}

/// Declares the event path on `table`'s stream; `artifact_key` is the enrichment's zip in
/// `bucket`.
pub fn event_path(
    template: &mut Template,
    environment: &Environment,
    table: &Ref<Table>,
    key: Option<&Ref<Key>>,
    bucket: &ParamRef,
    artifact_key: &ParamRef,
) -> EventPath {
    let settings = &environment.events;
    let enrichment = enrichment(template, environment, key, bucket, artifact_key);
    let dead_letters = template.add(
        Resource::new(
            DEAD_LETTERS,
            Queue {
                queue_name: physical_name("events-dead-letters"),
                message_retention_period: DEAD_LETTER_RETENTION_SECONDS,
                sqs_managed_sse_enabled: true,
            },
        )
        .removal_policy(RemovalPolicy::Delete),
    );
    let bus = template.add(Resource::new(
        BUS,
        EventBus {
            name: physical_name("events"),
        },
    ));
    let archive = template.add(
        Resource::new(
            ARCHIVE,
            Archive {
                archive_name: physical_name("events"),
                source_arn: bus.get_att(EventBusAttribute::Arn),
                description: Some(format!(
                    "Every ticket event of the stack ({}), for replays.",
                    environment.name
                )),
                retention_days: settings.archive_retention_days.get(),
            },
        )
        .removal_policy(RemovalPolicy::Delete),
    );
    let source = source();
    let pipe_name = physical_name("events");
    pipe(
        template,
        environment,
        table,
        key,
        &enrichment,
        &bus,
        &dead_letters,
        &pipe_name,
        &source,
    );
    let topic = template.add(Resource::new(
        NOTIFICATION_TOPIC,
        Topic {
            display_name: Some(format!("Tickets ({})", environment.name)),
        },
    ));
    let rule_name = physical_name("notifications");
    let rule = notification_rule(
        template,
        environment,
        &bus,
        &topic,
        &dead_letters,
        &source,
        &rule_name,
    );
    let rule_arn = rule.get_att(RuleAttribute::Arn);
    let events_may = |action: &str, resource: Expr| {
        let mut statement = Statement::allow("EventsFromTheNotificationRule", [action], [resource]);
        statement.principal = Some(Principal::service("events.amazonaws.com"));
        statement.condition.insert(
            "ArnEquals".to_owned(),
            BTreeMap::from([("aws:SourceArn".to_owned(), vec![rule_arn.clone()])]),
        );
        PolicyDocument::new([statement])
    };
    template.add(Resource::new(
        NOTIFICATION_TOPIC_POLICY,
        TopicPolicy {
            topics: vec![topic.reference()],
            policy_document: events_may("sns:Publish", topic.reference()),
        },
    ));
    template.add(Resource::new(
        DEAD_LETTER_POLICY,
        QueuePolicy {
            queues: vec![dead_letters.reference()],
            policy_document: events_may(
                "sqs:SendMessage",
                dead_letters.get_att(QueueAttribute::Arn),
            ),
        },
    ));
    subscriptions(template, environment, &topic);
    EventPath {
        bus,
        archive,
        dead_letters,
        topic,
        enrichment,
        rule,
        rule_name,
        pipe_name,
        source,
    }
}

/// The enrichment function, its log group and its role (its own logs, nothing else).
fn enrichment(
    template: &mut Template,
    environment: &Environment,
    key: Option<&Ref<Key>>,
    bucket: &ParamRef,
    artifact_key: &ParamRef,
) -> Ref<Function> {
    let log_group = function::log_group(
        template,
        environment,
        key,
        ENRICHMENT_LOG_GROUP,
        TICKET_EVENTS.name,
    );
    let mut statements = vec![Statement::allow(
        "OwnLogStreams",
        ["logs:CreateLogStream", "logs:PutLogEvents"],
        [function::own_log_streams(&log_group)],
    )];
    if environment.observability.tracing {
        statements.push(Statement::allow(
            "Traces",
            XRAY_ACTIONS.iter().copied(),
            [Expr::literal("*")],
        ));
    }
    let role = template.add(Resource::new(
        ENRICHMENT_ROLE,
        Role {
            role_name: None,
            description: Some(format!(
                "Runs the {} function ({}): no table access.",
                TICKET_EVENTS.name, environment.name
            )),
            assume_role_policy_document: PolicyDocument::new([Statement::service_may_assume_role(
                "lambda.amazonaws.com",
            )]),
            policies: vec![InlinePolicy {
                policy_name: TICKET_EVENTS.name.to_owned(),
                policy_document: PolicyDocument::new(statements),
            }],
        },
    ));
    template.add(Resource::new(
        ENRICHMENT,
        Function {
            function_name: Some(physical_name(TICKET_EVENTS.name)),
            description: Some(format!(
                "Ticket events: stream records in, events out ({}).",
                environment.name
            )),
            runtime: "provided.al2023".to_owned(),
            handler: "bootstrap".to_owned(),
            code: Code {
                s3_bucket: bucket.into(),
                s3_key: artifact_key.into(),
            },
            role: role.get_att(RoleAttribute::Arn),
            architectures: vec![function::architecture(environment)],
            memory_size: ENRICHMENT_MEMORY_MB,
            timeout: ENRICHMENT_TIMEOUT_SECONDS,
            reserved_concurrent_executions: None,
            environment: None,
            logging_config: Some(function::logging_config(environment, &log_group)),
            tracing_config: environment.observability.tracing.then_some(TracingConfig {
                mode: TracingMode::Active,
            }),
        },
    ))
}

/// The pipe and its role.
#[allow(clippy::too_many_arguments)]
fn pipe(
    template: &mut Template,
    environment: &Environment,
    table: &Ref<Table>,
    key: Option<&Ref<Key>>,
    enrichment: &Ref<Function>,
    bus: &Ref<EventBus>,
    dead_letters: &Ref<Queue>,
    name: &Expr,
    source: &Expr,
) {
    let settings = &environment.events;
    let stream = table.get_att(TableAttribute::StreamArn);
    let enrichment_arn = enrichment.get_att(FunctionAttribute::Arn);
    let bus_arn = bus.get_att(EventBusAttribute::Arn);
    let dead_letters_arn = dead_letters.get_att(QueueAttribute::Arn);
    let mut statements = vec![
        Statement::allow(
            "ReadThisTablesStream",
            [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            ],
            [stream.clone()],
        ),
        Statement::allow(
            "Enrich",
            ["lambda:InvokeFunction"],
            [enrichment_arn.clone()],
        ),
        Statement::allow("PutOnThisBus", ["events:PutEvents"], [bus_arn.clone()]),
        Statement::allow(
            "DeadLetters",
            ["sqs:SendMessage"],
            [dead_letters_arn.clone()],
        ),
    ];
    if let Some(key) = key {
        // The stream is encrypted with the table's key; DynamoDB decrypts it for the reader.
        let mut statement = Statement::allow(
            "StreamKeyThroughDynamoDb",
            ["kms:Decrypt"],
            [key.get_att(KeyAttribute::Arn)],
        );
        statement.condition.insert(
            "StringEquals".to_owned(),
            BTreeMap::from([(
                "kms:ViaService".to_owned(),
                vec![super::encryption::dynamodb_service()],
            )]),
        );
        statements.push(statement);
    }
    let role = template.add(Resource::new(
        PIPE_ROLE,
        Role {
            role_name: None,
            description: Some(format!(
                "The events pipe reads the table's stream, enriches and puts events as this role ({}).",
                environment.name
            )),
            assume_role_policy_document: PolicyDocument::new([Statement::service_may_assume_role(
                "pipes.amazonaws.com",
            )]),
            policies: vec![InlinePolicy {
                policy_name: "events-pipe".to_owned(),
                policy_document: PolicyDocument::new(statements),
            }],
        },
    ));
    template.add(Resource::new(
        PIPE,
        Pipe {
            name: name.clone(),
            description: Some(format!(
                "Every write to a ticket, as one event on the bus ({}).",
                environment.name
            )),
            desired_state: "RUNNING".to_owned(),
            role_arn: role.get_att(RoleAttribute::Arn),
            source: stream,
            source_parameters: SourceParameters {
                filter_criteria: FilterCriteria {
                    filters: events::stream_filters()
                        .into_iter()
                        .map(|pattern| Filter { pattern })
                        .collect(),
                },
                dynamodb_stream_parameters: DynamoDbStreamParameters {
                    // Everything the stream still holds (24 hours) when the pipe starts.
                    starting_position: "TRIM_HORIZON".to_owned(),
                    batch_size: settings.batch_size.get(),
                    maximum_batching_window_in_seconds: settings.batching_window_seconds.get(),
                    maximum_retry_attempts: settings.retry_attempts.get() as i32,
                    maximum_record_age_in_seconds: -1,
                    on_partial_batch_item_failure: "AUTOMATIC_BISECT".to_owned(),
                    parallelization_factor: 1,
                    dead_letter_config: DeadLetterConfig {
                        arn: dead_letters_arn,
                    },
                },
            },
            enrichment: Some(enrichment_arn),
            target: bus_arn,
            target_parameters: TargetParameters {
                event_bridge_event_bus_parameters: EventBusParameters {
                    // Read from each event the enrichment returns.
                    detail_type: "$.type".to_owned(),
                    source: source.clone(),
                    time: "$.time".to_owned(),
                },
            },
        },
    ));
}

/// The event pattern of the notifications: an assignee or a status changed (alone, or
/// with other fields in a `TicketUpdated`).
pub fn notification_pattern(source: &Expr) -> Value {
    let changed = |field: &str| json!({"detail": {"changes": {(field): [{"exists": true}]}}});
    json!({
        "source": [source],
        "detail-type": events::NOTIFIED
            .iter()
            .map(|t| t.as_str())
            .chain([events::EventType::TicketUpdated.as_str()])
            .collect::<Vec<_>>(),
        "$or": events::NOTIFIED_FIELDS.iter().map(|f| changed(f)).collect::<Vec<_>>(),
    })
}

/// The rule sending notifications to the topic. EventBridge cannot set SNS message
/// attributes, so the message body is a flat JSON object of the fields subscribers filter
/// on (`FilterPolicyScope: MessageBody`).
fn notification_rule(
    template: &mut Template,
    environment: &Environment,
    bus: &Ref<EventBus>,
    topic: &Ref<Topic>,
    dead_letters: &Ref<Queue>,
    source: &Expr,
    name: &Expr,
) -> Ref<Rule> {
    let settings = &environment.events;
    let paths = BTreeMap::from(
        [
            (notification::TYPE, "$.detail-type"),
            (notification::TICKET_ID, "$.detail.ticketId"),
            (notification::ASSIGNEE, "$.detail.ticket.assignee"),
            (notification::STATUS, "$.detail.ticket.status"),
            (notification::PRIORITY, "$.detail.ticket.priority"),
            ("title", "$.detail.ticket.title"),
            ("actor", "$.detail.actor"),
            ("time", "$.detail.time"),
            ("eventId", "$.detail.eventId"),
        ]
        .map(|(name, path)| (name.to_owned(), path.to_owned())),
    );
    let template_text = format!(
        "{{{}}}",
        paths
            .keys()
            .map(|name| format!("\"{name}\": <{name}>"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    template.add(Resource::new(
        NOTIFICATION_RULE,
        Rule {
            name: name.clone(),
            description: format!(
                "Ticket assignments and status changes to the notification topic ({}).",
                environment.name
            ),
            // `GetAtt Name` rather than `Ref`: the same name, and the form every engine
            // resolves (moto's `Ref` of a bus is not its name).
            event_bus_name: bus.get_att(EventBusAttribute::Name),
            event_pattern: notification_pattern(source),
            state: "ENABLED".to_owned(),
            targets: vec![Target {
                id: "NotificationTopic".to_owned(),
                arn: topic.reference(),
                input_transformer: Some(InputTransformer {
                    input_paths_map: paths,
                    input_template: template_text,
                }),
                retry_policy: RetryPolicy {
                    maximum_retry_attempts: settings.delivery_retry_attempts.get(),
                    maximum_event_age_in_seconds: settings.delivery_max_age_seconds.get(),
                },
                dead_letter_config: TargetDeadLetterConfig {
                    arn: dead_letters.get_att(QueueAttribute::Arn),
                },
            }],
        },
    ))
}

/// The environment's subscribers, each filtering on the message body.
fn subscriptions(template: &mut Template, environment: &Environment, topic: &Ref<Topic>) {
    for subscription in &environment.events.subscriptions {
        // Named after a digest of the endpoint: adding or removing one touches only its own.
        let digest = hex::encode(&Sha256::digest(subscription.endpoint.as_bytes())[..4]);
        let filter = (!subscription.filter.is_empty()).then(|| json!(subscription.filter));
        template.add(Resource::new(
            format!("Notify{digest}"),
            Subscription {
                topic_arn: topic.reference(),
                protocol: match subscription.protocol {
                    Protocol::Email => SubscriptionProtocol::Email,
                    Protocol::Sms => SubscriptionProtocol::Sms,
                    Protocol::Https => SubscriptionProtocol::Https,
                },
                endpoint: subscription.endpoint.clone(),
                filter_policy_scope: filter.is_some().then(|| "MessageBody".to_owned()),
                filter_policy: filter,
            },
        ));
    }
}
