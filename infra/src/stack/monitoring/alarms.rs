//! The alert topic and its email subscriptions, the metric of failed authentications, and
//! one alarm per signal.

use super::{AUTH_FAILURES_METRIC, MetricSpec, Query, Signal, Watched};
use crate::cfn::cloudwatch::{
    Alarm, Dimension, Metric, MetricDataQuery, MetricStat, SingleMetric, TreatMissingData,
    Watched as AlarmWatched,
};
use crate::cfn::logs::{MetricFilter, MetricFilterDimension, MetricTransformation};
use crate::cfn::sns::{Subscription, SubscriptionProtocol, Topic};
use crate::cfn::{Expr, Ref, Resource, Template};
use crate::environment::Environment;
use sha2::{Digest, Sha256};
use tickets_manifest::metrics;

/// Logical id of the alert topic.
pub const ALERT_TOPIC: &str = "AlertTopic";
/// Logical id of the metric filter counting 401 and 403 answers.
pub const AUTH_FAILURES_FILTER: &str = "AuthFailuresMetricFilter";

/// The topic and the alarms, in the order of the signals.
pub(super) struct Declared {
    pub topic: Ref<Topic>,
    pub alarms: Vec<Ref<Alarm>>,
}

/// Declares the topic, its subscriptions, the access-log metric and every signal's alarm.
pub(super) fn declare(
    template: &mut Template,
    environment: &Environment,
    watched: &Watched,
    signals: &[Signal],
) -> Declared {
    let topic = template.add(Resource::new(
        ALERT_TOPIC,
        Topic {
            display_name: Some(format!("Tickets alerts ({})", environment.name)),
        },
    ));
    for email in &environment.alarms.email {
        // One resource per address, named after a digest of it: adding or removing one
        // address touches only its own subscription.
        let digest = hex::encode(&Sha256::digest(email.as_str().as_bytes())[..4]);
        template.add(Resource::new(
            format!("AlertEmail{digest}"),
            Subscription {
                topic_arn: topic.reference(),
                protocol: SubscriptionProtocol::Email,
                endpoint: email.as_str().to_owned(),
                filter_policy: None,
                filter_policy_scope: None,
            },
        ));
    }
    let rollout = &environment.rollout;
    let gradual = rollout.alias && rollout.deployment.is_gradual();
    if let Some(access_logs) = &watched.access_logs {
        auth_failures_filter(template, access_logs);
    }
    let alarms = signals
        .iter()
        .map(|signal| {
            template.add(Resource::new(
                format!("Alarm{}", signal.id),
                alarm(signal, &topic, gradual),
            ))
        })
        .collect();
    Declared { topic, alarms }
}

/// Counts 401 and 403 answers of the stage, from its access log, by API: the stage knows
/// who failed to authenticate (the authorizer answers before the function runs).
fn auth_failures_filter(template: &mut Template, access_logs: &Expr) {
    template.add(Resource::new(
        AUTH_FAILURES_FILTER,
        MetricFilter {
            log_group_name: access_logs.clone(),
            // The access log quotes every value (see stack/access_logs.rs).
            filter_pattern: r#"{ ($.status = "401") || ($.status = "403") }"#.to_owned(),
            metric_transformations: vec![MetricTransformation {
                metric_namespace: metrics::NAMESPACE.to_owned(),
                metric_name: AUTH_FAILURES_METRIC.to_owned(),
                metric_value: "1".to_owned(),
                // Without a dimension, every stack of the account would add to one metric.
                dimensions: vec![MetricFilterDimension {
                    key: "ApiId".to_owned(),
                    value: "$.apiId".to_owned(),
                }],
                unit: Some("Count".to_owned()),
            }],
        },
    ));
}

/// The alarm of a signal, notifying the topic when it goes off and when it recovers.
fn alarm(signal: &Signal, topic: &Ref<Topic>, gradual: bool) -> Alarm {
    Alarm {
        alarm_description: signal.description(gradual),
        // Left out: actions are enabled by default, and the template is near
        // `TemplateBody`'s 51,200 bytes.
        actions_enabled: None,
        alarm_actions: vec![topic.reference()],
        ok_actions: vec![topic.reference()],
        comparison_operator: signal.comparison,
        threshold: signal.threshold,
        evaluation_periods: signal.window.periods,
        datapoints_to_alarm: (signal.window.breaching != signal.window.periods)
            .then_some(signal.window.breaching),
        // No traffic is not an outage: a quiet period neither raises nor clears an alarm
        // by itself.
        treat_missing_data: TreatMissingData::NotBreaching,
        watched: watched(signal),
    }
}

/// The signal as one metric (the shorter form) or as metric data queries, of which the
/// first returns the compared series.
fn watched(signal: &Signal) -> AlarmWatched {
    let period = signal.window.period;
    match &signal.query {
        Query::Metric(metric) => {
            let percentile = metric.stat.starts_with('p');
            AlarmWatched::Metric(SingleMetric {
                namespace: metric.namespace.to_owned(),
                metric_name: metric.name.to_owned(),
                dimensions: dimensions(metric),
                statistic: (!percentile).then(|| metric.stat.to_owned()),
                extended_statistic: percentile.then(|| metric.stat.to_owned()),
                period,
            })
        }
        Query::Math { expression, inputs } => {
            let mut metrics = vec![MetricDataQuery {
                id: "e".to_owned(),
                expression: Some(expression.clone()),
                metric_stat: None,
                label: None,
                return_data: true,
            }];
            metrics.extend(inputs.iter().map(|(id, metric)| MetricDataQuery {
                id: (*id).to_owned(),
                expression: None,
                metric_stat: Some(metric_stat(metric, period)),
                label: None,
                return_data: false,
            }));
            AlarmWatched::Math { metrics }
        }
    }
}

fn dimensions(metric: &MetricSpec) -> Vec<Dimension> {
    metric
        .dimensions
        .iter()
        .map(|(name, value)| Dimension {
            name: (*name).to_owned(),
            value: value.clone(),
        })
        .collect()
}

fn metric_stat(metric: &MetricSpec, period: u32) -> MetricStat {
    MetricStat {
        metric: Metric {
            namespace: metric.namespace.to_owned(),
            metric_name: metric.name.to_owned(),
            dimensions: dimensions(metric),
        },
        period,
        stat: metric.stat.to_owned(),
    }
}
