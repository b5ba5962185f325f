//! Monitoring, declared once: the list of watched signals below generates both the alarms
//! (each notifying the alert topic) and the dashboard's graphs.
//!
//! Per-route signals come from the manifest's routes and per-operation signals from its
//! DynamoDB operations, so a new route or operation gets its alarms and graphs by itself.
//! (Over 500 lines: the list of watched signals is the one declaration alarms and dashboard share; it stays whole.)

mod alarms;
mod dashboard;

use crate::cfn::cloudwatch::{Alarm, ComparisonOperator, CompositeAlarm, Dashboard};
use crate::cfn::sns::Topic;
use crate::cfn::{Expr, Pseudo, Ref, Resource, Template};
use crate::environment::{Environment, Threshold};
use tickets_manifest::dynamodb::OPERATIONS;
use tickets_manifest::metrics::{self, dimension};
use tickets_manifest::routes::{Method, operations};

/// CodeDeploy watches at most this many alarms per deployment group.
pub const MAX_ROLLBACK_ALARMS: usize = 10;

/// The namespace and name of the metric counting 401 and 403 answers (from access logs).
pub const AUTH_FAILURES_METRIC: &str = "AuthFailures";

/// The names the signals are measured under, as the template knows them.
pub struct Watched {
    /// The function's name: its `AWS/Lambda` metrics and the `Service` of its own.
    pub function_name: Expr,
    /// The REST API's name (`ApiName` of `AWS/ApiGateway`).
    pub api_name: Expr,
    /// The REST API's id (the `ApiId` of the access logs' metric).
    pub api_id: Expr,
    /// The stage's name.
    pub stage: String,
    /// The table's name.
    pub table_name: Expr,
    /// The access log group, when the stage writes one.
    pub access_logs: Option<Expr>,
    /// The event path.
    pub events: WatchedEvents,
}

/// The names the event path is measured under.
pub struct WatchedEvents {
    /// The dead-letter queue's name.
    pub dead_letter_queue: Expr,
    /// The pipe's name.
    pub pipe_name: Expr,
    /// The notification rule's name.
    pub rule_name: Expr,
    /// The bus's name.
    pub bus_name: Expr,
}

/// What the rest of the stack needs from monitoring.
pub struct Monitoring {
    /// The alert topic.
    pub topic: Ref<Topic>,
    /// The dashboard.
    pub dashboard: Ref<Dashboard>,
    /// The alarms a gradual deployment is rolled back on.
    pub rollback_alarms: Vec<Ref<Alarm>>,
    /// In `ALARM` when any of them is, for CloudFormation's rollback triggers (gradual
    /// rollouts): CloudFormation takes at most five triggers, CodeDeploy ten alarms.
    pub rollback_trigger: Option<Ref<CompositeAlarm>>,
}

/// Logical id of the composite alarm CloudFormation watches during an update.
pub const ROLLBACK_TRIGGER: &str = "AlarmRollbackTrigger";

/// Declares the alert topic, the alarms and the dashboard of every signal.
pub fn monitoring(
    template: &mut Template,
    environment: &Environment,
    watched: &Watched,
    gradual: bool,
) -> Monitoring {
    let signals = signals(environment, watched);
    let declared = alarms::declare(template, environment, watched, &signals);
    let dashboard = dashboard::declare(template, environment, &signals, &declared.alarms);
    let rollback_alarms: Vec<Ref<Alarm>> = signals
        .iter()
        .zip(&declared.alarms)
        .filter(|(signal, _)| signal.rollback)
        .map(|(_, alarm)| alarm.clone())
        .collect();
    assert!(
        rollback_alarms.len() <= MAX_ROLLBACK_ALARMS,
        "{} rollback alarms, but CodeDeploy watches at most {MAX_ROLLBACK_ALARMS}: \
         aggregate the per-route ones (stack/monitoring) before adding routes",
        rollback_alarms.len()
    );
    let rollback_trigger = gradual.then(|| rollback_trigger(template, &rollback_alarms));
    Monitoring {
        topic: declared.topic,
        dashboard,
        rollback_alarms,
        rollback_trigger,
    }
}

/// One alarm over every rollback alarm, without actions of its own (they notify already).
fn rollback_trigger(template: &mut Template, alarms: &[Ref<Alarm>]) -> Ref<CompositeAlarm> {
    let rule = Expr::join(
        " OR ",
        alarms
            .iter()
            .map(|alarm| crate::sub!("ALARM(\"", alarm, "\")")),
    );
    template.add(Resource::new(
        ROLLBACK_TRIGGER,
        CompositeAlarm {
            alarm_name: crate::sub!(Pseudo::StackName, "-rollback-trigger"),
            alarm_description: "Any alarm that rolls a deployment back: CloudFormation's \
                                rollback trigger for stack updates."
                .to_owned(),
            actions_enabled: false,
            alarm_rule: rule,
        },
    ))
}

/// The alarm's ARN, built from its name (`Ref`) rather than read with `Fn::GetAtt`: moto's
/// CloudFormation, which the deploy tests use, models dashboards and roles but not alarms,
/// and fails a stack whose template reads an attribute of a resource it skipped (a `Ref` it
/// leaves be).
pub fn alarm_arn<T: crate::cfn::ResourceType>(alarm: &Ref<T>) -> Expr {
    crate::sub!(alarm_arn_prefix(), alarm)
}

/// `arn:<partition>:cloudwatch:<region>:<account>:alarm:`.
fn alarm_arn_prefix() -> Expr {
    crate::sub!(
        "arn:",
        Pseudo::Partition,
        ":cloudwatch:",
        Pseudo::Region,
        ":",
        Pseudo::AccountId,
        ":alarm:"
    )
}

/// A metric and the statistic read from it.
#[derive(Debug, Clone)]
pub struct MetricSpec {
    /// The namespace.
    pub namespace: &'static str,
    /// The metric's name.
    pub name: &'static str,
    /// Every dimension, in the order graphs show them.
    pub dimensions: Vec<(&'static str, Expr)>,
    /// `Sum`, `p99`, ...
    pub stat: &'static str,
}

/// What a signal reads: one metric, or metric math over named metrics.
#[derive(Debug, Clone)]
pub enum Query {
    /// The metric itself.
    Metric(MetricSpec),
    /// An expression over the inputs, each named by its id.
    Math {
        /// The expression (`100 * errors / requests`).
        expression: String,
        /// Ids (lower-case first letter) and metrics.
        inputs: Vec<(&'static str, MetricSpec)>,
    },
}

/// How much of the recent past must breach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Seconds per datapoint.
    pub period: u32,
    /// Datapoints looked at.
    pub periods: u32,
    /// Of those, how many must breach.
    pub breaching: u32,
}

/// One minute at a time, 2 of the last 3 breaching: fast enough for a 5-minute canary,
/// deaf to one bad minute.
const SUSTAINED: Window = Window {
    period: 60,
    periods: 3,
    breaching: 2,
};

/// A count over 5 minutes.
const FIVE_MINUTES: Window = Window {
    period: 300,
    periods: 1,
    breaching: 1,
};

/// One watched figure: an alarm and a graph.
#[derive(Debug, Clone)]
pub struct Signal {
    /// Unique, letters and digits: the alarm's logical id is `Alarm<id>`.
    pub id: String,
    /// What it is, for people (graph title, start of the alarm's description).
    pub title: String,
    /// What is read.
    pub query: Query,
    /// How it is compared with the threshold.
    pub comparison: ComparisonOperator,
    /// The threshold, from the environment.
    pub threshold: f64,
    /// Unit shown after the threshold (`%`, ` ms`, or nothing for counts).
    pub unit: &'static str,
    /// How long it must breach.
    pub window: Window,
    /// Whether a gradual deployment rolls back when it goes off.
    pub rollback: bool,
}

impl Signal {
    /// The alarm's description: what, when and how long, and whether it rolls back the
    /// deployments of an environment with `gradual` ones.
    pub fn description(&self, gradual: bool) -> String {
        let threshold = format!("{}{}", self.threshold, self.unit);
        let comparison = match self.comparison {
            ComparisonOperator::GreaterThanThreshold => format!("above {threshold}"),
            ComparisonOperator::GreaterThanOrEqualToThreshold => format!("{threshold} or more"),
        };
        let Window {
            period,
            periods,
            breaching,
        } = self.window;
        let window = match (period, periods) {
            (60, _) => format!("in {breaching} of {periods} minutes"),
            (_, 1) => format!("in {} minutes", period / 60),
            _ => format!("in {breaching} of {periods} periods of {period} s"),
        };
        let rollback = if self.rollback && gradual {
            " Rolls back."
        } else {
            ""
        };
        format!("{}: {comparison} {window}.{rollback}", self.title)
    }
}

/// Every signal of the stack, in dashboard order.
pub fn signals(environment: &Environment, watched: &Watched) -> Vec<Signal> {
    let limits = &environment.alarms;
    let percent = limits.api_5xx_percent.get();
    let p99 = f64::from(limits.p99_latency_ms.get());
    let count = |n: Threshold| f64::from(n.get());
    let api = |name| MetricSpec {
        namespace: "AWS/ApiGateway",
        name,
        dimensions: vec![
            ("ApiName", watched.api_name.clone()),
            ("Stage", Expr::literal(&watched.stage)),
        ],
        stat: "Sum",
    };
    let lambda = |name| MetricSpec {
        namespace: "AWS/Lambda",
        name,
        dimensions: vec![("FunctionName", watched.function_name.clone())],
        stat: "Sum",
    };
    let mut signals = vec![
        Signal {
            id: "Api5xxRate".into(),
            title: "API 5xx rate".into(),
            query: error_rate(api("5XXError"), api("Count")),
            comparison: ComparisonOperator::GreaterThanThreshold,
            threshold: percent,
            unit: " %",
            window: SUSTAINED,
            rollback: true,
        },
        Signal {
            id: "ApiP99".into(),
            title: "API p99 latency".into(),
            query: Query::Metric(MetricSpec {
                stat: "p99",
                ..api("Latency")
            }),
            comparison: ComparisonOperator::GreaterThanThreshold,
            threshold: p99,
            unit: " ms",
            window: SUSTAINED,
            rollback: true,
        },
    ];
    if watched.access_logs.is_some() {
        signals.push(Signal {
            id: "ApiAuthFailures".into(),
            title: "401 and 403 answers".into(),
            query: Query::Metric(MetricSpec {
                namespace: metrics::NAMESPACE,
                name: AUTH_FAILURES_METRIC,
                dimensions: vec![("ApiId", watched.api_id.clone())],
                stat: "Sum",
            }),
            comparison: ComparisonOperator::GreaterThanOrEqualToThreshold,
            threshold: count(limits.auth_failures_per_5_minutes),
            unit: "",
            window: FIVE_MINUTES,
            rollback: false,
        });
    }
    signals.extend([
        counted(
            "FunctionErrors",
            "Function errors",
            lambda("Errors"),
            limits.lambda_errors,
            true,
        ),
        counted(
            "FunctionThrottles",
            "Function throttles",
            lambda("Throttles"),
            limits.lambda_throttles,
            false,
        ),
        Signal {
            id: "TableThrottles".into(),
            title: "DynamoDB throttled requests".into(),
            query: throttled_requests(watched),
            comparison: ComparisonOperator::GreaterThanOrEqualToThreshold,
            threshold: count(limits.dynamodb_throttles),
            unit: "",
            window: FIVE_MINUTES,
            rollback: false,
        },
    ]);
    signals.extend(event_signals(environment, &watched.events));
    signals.extend(route_signals(watched, percent, p99));
    signals.extend(OPERATIONS.iter().map(|operation| {
        counted(
            &format!("Table{}SystemErrors", operation.api_name),
            &format!("DynamoDB {} system errors", operation.api_name),
            table_metric(watched, "SystemErrors", operation.api_name),
            limits.dynamodb_system_errors,
            false,
        )
    }));
    signals
}

/// The event path: dead letters waiting, batches the pipe gave up on, and notifications
/// the bus could not deliver. None rolls back a deployment: the API answers either way.
fn event_signals(environment: &Environment, events: &WatchedEvents) -> Vec<Signal> {
    let dead_letters = MetricSpec {
        namespace: "AWS/SQS",
        name: "ApproximateNumberOfMessagesVisible",
        dimensions: vec![("QueueName", events.dead_letter_queue.clone())],
        stat: "Maximum",
    };
    let pipe = MetricSpec {
        namespace: "AWS/EventBridge/Pipes",
        name: "ExecutionFailed",
        dimensions: vec![("PipeName", events.pipe_name.clone())],
        stat: "Sum",
    };
    let notifications = MetricSpec {
        namespace: "AWS/Events",
        name: "FailedInvocations",
        dimensions: vec![
            ("EventBusName", events.bus_name.clone()),
            ("RuleName", events.rule_name.clone()),
        ],
        stat: "Sum",
    };
    let one = Threshold::try_from(1).expect("1 is a threshold");
    vec![
        counted(
            "EventsDeadLetters",
            "Events in the dead-letter queue",
            dead_letters,
            Threshold::try_from(environment.events.dead_letter_alarm_threshold.get())
                .unwrap_or(one),
            false,
        ),
        counted(
            "EventsPipeFailures",
            "Event pipe failures",
            pipe,
            one,
            false,
        ),
        counted(
            "NotificationFailures",
            "Notifications not delivered",
            notifications,
            one,
            false,
        ),
    ]
}

/// The 5xx rate and p99 latency of every route but CORS preflight, which the function
/// answers without touching the table: its errors and latency would only be noise.
fn route_signals(watched: &Watched, percent: f64, p99: f64) -> Vec<Signal> {
    let by_route = |name, route: &str, stat| MetricSpec {
        namespace: metrics::NAMESPACE,
        name,
        dimensions: vec![
            (dimension::SERVICE, watched.function_name.clone()),
            (dimension::ROUTE, Expr::literal(route)),
        ],
        stat,
    };
    let mut signals = Vec::new();
    for (method, path) in operations() {
        if method == Method::Options {
            continue;
        }
        let route = metrics::route_value(method.as_str(), path);
        let id = crate::stack::api::operation_id(method, path);
        let mut errors = by_route(metrics::REQUESTS.name, &route, "Sum");
        errors
            .dimensions
            .push((dimension::STATUS_CLASS, Expr::literal("5xx")));
        signals.push(Signal {
            id: format!("{id}5xxRate"),
            title: format!("{route} 5xx rate"),
            query: error_rate(errors, by_route(metrics::REQUESTS.name, &route, "Sum")),
            comparison: ComparisonOperator::GreaterThanThreshold,
            threshold: percent,
            unit: " %",
            window: SUSTAINED,
            rollback: true,
        });
        signals.push(Signal {
            id: format!("{id}P99"),
            title: format!("{route} p99 latency"),
            query: Query::Metric(by_route(metrics::LATENCY.name, &route, "p99")),
            comparison: ComparisonOperator::GreaterThanThreshold,
            threshold: p99,
            unit: " ms",
            window: SUSTAINED,
            rollback: false,
        });
    }
    signals
}

/// `100 * errors / requests`, 0 without requests; a period with requests and no errors
/// has no error datapoint at all, hence the `FILL`.
fn error_rate(errors: MetricSpec, requests: MetricSpec) -> Query {
    Query::Math {
        expression: "IF(requests > 0, 100 * FILL(errors, 0) / requests, 0)".into(),
        inputs: vec![("errors", errors), ("requests", requests)],
    }
}

/// Throttled requests of every operation the function calls, summed: the table's own
/// throttle events leave out its indexes, which `Query` reads.
fn throttled_requests(watched: &Watched) -> Query {
    let ids = ["t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8"];
    assert!(
        OPERATIONS.len() <= ids.len(),
        "an alarm's metric math reads at most 10 metrics: sum the table's throttle events instead"
    );
    let inputs: Vec<(&'static str, MetricSpec)> = OPERATIONS
        .iter()
        .zip(ids)
        .map(|(operation, id)| {
            (
                id,
                table_metric(watched, "ThrottledRequests", operation.api_name),
            )
        })
        .collect();
    let expression = inputs
        .iter()
        .map(|(id, _)| format!("FILL({id}, 0)"))
        .collect::<Vec<_>>()
        .join(" + ");
    Query::Math { expression, inputs }
}

fn table_metric(watched: &Watched, name: &'static str, operation: &str) -> MetricSpec {
    MetricSpec {
        namespace: "AWS/DynamoDB",
        name,
        dimensions: vec![
            ("TableName", watched.table_name.clone()),
            ("Operation", Expr::literal(operation)),
        ],
        stat: "Sum",
    }
}

/// A count over 5 minutes, alarming at `threshold` or more.
fn counted(
    id: &str,
    title: &str,
    metric: MetricSpec,
    threshold: Threshold,
    rollback: bool,
) -> Signal {
    Signal {
        id: id.to_owned(),
        title: title.to_owned(),
        query: Query::Metric(metric),
        comparison: ComparisonOperator::GreaterThanOrEqualToThreshold,
        threshold: f64::from(threshold.get()),
        unit: "",
        window: FIVE_MINUTES,
        rollback,
    }
}
