//! The Lambda function, its log group and its least-privilege role.

use super::physical_name;
use crate::cfn::dynamodb::{Table, TableAttribute};
use crate::cfn::iam::{InlinePolicy, PolicyDocument, Role, RoleAttribute, Statement};
use crate::cfn::kms::{Key, KeyAttribute};
use crate::cfn::lambda::{
    Architecture, Code, Environment as Variables, Function, LogFormat, LogLevel, LoggingConfig,
    TracingConfig, TracingMode,
};
use crate::cfn::logs::LogGroup;
use crate::cfn::{Expr, ParamRef, Pseudo, Ref, RemovalPolicy, Resource, Template};
use crate::environment::{self, Environment};
use std::collections::BTreeMap;
use tickets_manifest::dynamodb::{Target, iam_actions};
use tickets_manifest::{FUNCTION_NAME, config, table::TICKETS};

/// Logical id of the function.
pub const FUNCTION: &str = "Function";
/// Logical id of the function's log group.
pub const LOG_GROUP: &str = "FunctionLogGroup";
/// Logical id of the function's execution role.
pub const ROLE: &str = "FunctionRole";

/// X-Ray's actions have no resource-level permissions: the one statement allowed on `*`
/// (by the guard rule `iam_no_wildcards`, for exactly these actions).
pub const XRAY_ACTIONS: &[&str] = &["xray:PutTelemetryRecords", "xray:PutTraceSegments"];

/// The function's log group name. Computed rather than read from the function, so the log
/// group (and the KMS key policy naming it) can exist before the function does: otherwise
/// Lambda creates the group on first write, with no retention, and the stack could not own it.
pub fn log_group_name() -> Expr {
    log_group_name_of(FUNCTION_NAME)
}

/// The log group name of the stack's function called `name`.
pub fn log_group_name_of(name: &str) -> Expr {
    crate::sub!("/aws/lambda/", physical_name(name))
}

/// Where the function's code is: the artifact bucket and key parameters.
pub struct Artifact<'a> {
    /// The bucket.
    pub bucket: &'a ParamRef,
    /// The key (content-addressed).
    pub key: &'a ParamRef,
}

/// Declares the log group, role and function; `key` encrypts the table and the logs.
pub fn function(
    template: &mut Template,
    environment: &Environment,
    table: &Ref<Table>,
    key: Option<&Ref<Key>>,
    artifact: Artifact<'_>,
) -> Ref<Function> {
    let function_name = physical_name(FUNCTION_NAME);
    let log_group = log_group(template, environment, key, LOG_GROUP, FUNCTION_NAME);
    let role = role(template, environment, table, key, &log_group);

    let settings = &environment.lambda;
    let variables = BTreeMap::from([
        (config::TABLE_NAME.to_owned(), table.reference()),
        (
            config::ALLOWED_ORIGINS.to_owned(),
            Expr::literal(environment.allowed_origins_value()),
        ),
    ]);
    template.add(Resource::new(
        FUNCTION,
        Function {
            function_name: Some(function_name),
            description: Some(format!("Ticket API ({}).", environment.name)),
            runtime: "provided.al2023".to_owned(),
            handler: "bootstrap".to_owned(),
            code: Code {
                s3_bucket: artifact.bucket.into(),
                s3_key: artifact.key.into(),
            },
            role: role.get_att(RoleAttribute::Arn),
            architectures: vec![architecture(environment)],
            memory_size: settings.memory_mb.get(),
            timeout: settings.timeout_seconds.get(),
            reserved_concurrent_executions: settings.reserved_concurrency.map(|c| c.get()),
            environment: Some(Variables { variables }),
            // Its `Ref` of the log group also creates the group first.
            logging_config: Some(logging_config(environment, &log_group)),
            // Left out when off: Lambda's default (PassThrough) traces nothing by itself.
            tracing_config: environment.observability.tracing.then_some(TracingConfig {
                mode: TracingMode::Active,
            }),
        },
    ))
}

/// Lambda's advanced logging controls, the one mechanism behind the function's level: the
/// template sets it, the console shows and changes it, Lambda filters on it and passes it
/// to the function (`AWS_LAMBDA_LOG_LEVEL`), which logs accordingly.
pub(super) fn logging_config(
    environment: &Environment,
    log_group: &Ref<LogGroup>,
) -> LoggingConfig {
    use environment::LogLevel as Level;
    let level = match environment.log_level.unwrap_or(Level::Info) {
        Level::Error => LogLevel::Error,
        Level::Warn => LogLevel::Warn,
        Level::Info => LogLevel::Info,
        Level::Debug => LogLevel::Debug,
        Level::Trace => LogLevel::Trace,
    };
    LoggingConfig {
        log_format: LogFormat::Json,
        application_log_level: Some(level),
        // START, END and REPORT would triple the lines of a request; duration, errors and
        // throttles are CloudWatch metrics anyway.
        system_log_level: Some(LogLevel::Warn),
        log_group: Some(log_group.reference()),
    }
}

/// The log group of function `name`, with the environment's retention.
pub(super) fn log_group(
    template: &mut Template,
    environment: &Environment,
    key: Option<&Ref<Key>>,
    logical_id: &str,
    name: &str,
) -> Ref<LogGroup> {
    // Logs go with the stack: they expire anyway, and a retained group would block
    // re-creating a stack of the same name.
    template.add(
        Resource::new(
            logical_id,
            LogGroup {
                log_group_name: Some(log_group_name_of(name)),
                retention_in_days: environment.log_retention_days.map(|d| d.get()),
                kms_key_id: key.map(|key| key.get_att(KeyAttribute::Arn)),
            },
        )
        .removal_policy(RemovalPolicy::Delete),
    )
}

/// The streams of `log_group`: Lambda names them at run time, so this is the narrowest
/// resource that can be named (`:log-stream:*`, the only wildcard the guard rules allow).
pub(super) fn own_log_streams(log_group: &Ref<LogGroup>) -> Expr {
    crate::sub!(
        "arn:",
        Pseudo::Partition,
        ":logs:",
        Pseudo::Region,
        ":",
        Pseudo::AccountId,
        ":log-group:",
        log_group,
        ":log-stream:*"
    )
}

/// The architecture the environment builds for.
pub(super) fn architecture(environment: &Environment) -> Architecture {
    match environment.lambda.architecture {
        environment::Architecture::X86_64 => Architecture::X86_64,
        environment::Architecture::Arm64 => Architecture::Arm64,
    }
}

/// The execution role: exactly the manifest's DynamoDB actions on the table and its
/// indexes, writing to the function's own log streams, and (when on) sending traces and
/// using the table's key through DynamoDB.
fn role(
    template: &mut Template,
    environment: &Environment,
    table: &Ref<Table>,
    key: Option<&Ref<Key>>,
    log_group: &Ref<LogGroup>,
) -> Ref<Role> {
    let table_arn = table.get_att(TableAttribute::Arn);
    let index_arns = TICKETS
        .indexes
        .iter()
        .map(|index| crate::sub!(&table_arn, "/index/", index.name));
    // Stream names are chosen by Lambda at run time, so the streams of the function's own
    // log group are the narrowest resource that can be named: `:log-stream:*` is the only
    // wildcard in the policy.
    let own_log_streams = own_log_streams(log_group);
    let mut statements = vec![
        Statement::allow(
            "TableItems",
            iam_actions(Target::Table),
            [table_arn.clone()],
        ),
        Statement::allow("IndexQueries", iam_actions(Target::Indexes), index_arns),
        Statement::allow(
            "OwnLogStreams",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [own_log_streams],
        ),
    ];
    if environment.observability.tracing {
        statements.push(Statement::allow(
            "Traces",
            XRAY_ACTIONS.iter().copied(),
            [Expr::literal("*")],
        ));
    }
    if let Some(key) = key {
        // DynamoDB decrypts the table's key with the caller's permission (every few
        // minutes per caller), so the function needs the key, through DynamoDB only.
        let mut statement = Statement::allow(
            "TableKeyThroughDynamoDb",
            [
                "kms:Decrypt",
                "kms:DescribeKey",
                "kms:Encrypt",
                "kms:GenerateDataKey",
            ],
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
    let permissions = PolicyDocument::new(statements);
    template.add(Resource::new(
        ROLE,
        Role {
            role_name: None,
            description: Some(format!(
                "Runs the {FUNCTION_NAME} function ({}).",
                environment.name
            )),
            assume_role_policy_document: PolicyDocument::new([Statement::service_may_assume_role(
                "lambda.amazonaws.com",
            )]),
            policies: vec![InlinePolicy {
                policy_name: FUNCTION_NAME.to_owned(),
                policy_document: permissions,
            }],
        },
    ))
}
