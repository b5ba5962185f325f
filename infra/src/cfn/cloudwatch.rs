//! `AWS::CloudWatch::Alarm`, `AWS::CloudWatch::CompositeAlarm` and `AWS::CloudWatch::Dashboard`.

use super::expr::Expr;
use super::resource::{Attribute, NoAttributes, ResourceInfo, ResourceType};
use serde::Serialize;

/// `AWS::CloudWatch::Alarm` on one metric (`Namespace`, `MetricName`, ...) or on metric
/// math (`Metrics`, a list of metric data queries).
///
/// `AlarmName` is left out on purpose: CloudFormation then generates a unique one, so the
/// alarm can be replaced (a custom-named resource cannot be), and `Ref` returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Alarm {
    /// What the alarm watches, for whoever receives it.
    pub alarm_description: String,
    /// Whether actions run on state changes; left out, they do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actions_enabled: Option<bool>,
    /// Notified when the alarm goes to `ALARM` (SNS topic ARNs).
    pub alarm_actions: Vec<Expr>,
    /// Notified when it goes back to `OK`.
    #[serde(rename = "OKActions")]
    pub ok_actions: Vec<Expr>,
    /// How the value is compared with the threshold.
    pub comparison_operator: ComparisonOperator,
    /// The threshold.
    pub threshold: f64,
    /// Periods looked at.
    pub evaluation_periods: u32,
    /// Of those, how many must breach; left out, all of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<u32>,
    /// What a period without data counts as.
    pub treat_missing_data: TreatMissingData,
    /// The metric, or the queries of which exactly one returns the compared series.
    #[serde(flatten)]
    pub watched: Watched,
}

/// What an alarm compares with its threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Watched {
    /// A statistic of one metric.
    Metric(SingleMetric),
    /// Metric math.
    Math {
        /// The queries.
        #[serde(rename = "Metrics")]
        metrics: Vec<MetricDataQuery>,
    },
}

/// The properties of an alarm on one metric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SingleMetric {
    /// The namespace.
    pub namespace: String,
    /// The metric's name.
    pub metric_name: String,
    /// Dimension values, all of them.
    pub dimensions: Vec<Dimension>,
    /// `Sum`, `Average`, ... (or `ExtendedStatistic`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statistic: Option<String>,
    /// A percentile (`p99`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extended_statistic: Option<String>,
    /// Seconds per datapoint.
    pub period: u32,
}

impl ResourceType for Alarm {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::CloudWatch::Alarm",
        stateful: false,
        replaced_by: &["AlarmName"],
        not_updatable: &[],
    };
    type Attribute = AlarmAttribute;
}

/// Attributes of an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmAttribute {
    /// The alarm's ARN.
    Arn,
}

impl Attribute for AlarmAttribute {
    fn name(self) -> &'static str {
        match self {
            AlarmAttribute::Arn => "Arn",
        }
    }
}

/// `ComparisonOperator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ComparisonOperator {
    /// `>`
    GreaterThanThreshold,
    /// `>=`
    GreaterThanOrEqualToThreshold,
}

/// `TreatMissingData`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum TreatMissingData {
    /// No data is good data: no traffic, no errors.
    NotBreaching,
    /// No data is bad data.
    Breaching,
    /// Keep the current state.
    Ignore,
    /// Go to `INSUFFICIENT_DATA`.
    Missing,
}

/// `MetricDataQuery`: a metric with a statistic, or a metric math expression over others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricDataQuery {
    /// Id, referenced by expressions (starts with a lower-case letter).
    pub id: String,
    /// Metric math over other queries' ids.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// A metric and its statistic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric_stat: Option<MetricStat>,
    /// Shown on graphs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Whether this is the series the alarm compares (exactly one is).
    pub return_data: bool,
}

/// `MetricStat`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricStat {
    /// The metric.
    pub metric: Metric,
    /// Seconds per datapoint.
    pub period: u32,
    /// `Sum`, `Average`, `Maximum`, `p99`, ...
    pub stat: String,
}

/// `Metric`: a namespace, a name and dimension values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Metric {
    /// The namespace (`AWS/Lambda`, `Tickets`).
    pub namespace: String,
    /// The metric's name.
    pub metric_name: String,
    /// Dimension values, all of them (CloudWatch matches the exact set).
    pub dimensions: Vec<Dimension>,
}

/// `Dimension`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dimension {
    /// The dimension's name.
    pub name: String,
    /// Its value.
    pub value: Expr,
}

/// `AWS::CloudWatch::Dashboard`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Dashboard {
    /// Physical name; changing it replaces the dashboard.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dashboard_name: Option<Expr>,
    /// The widgets, as the JSON text CloudWatch reads (free-form: `Fn::Sub` fills in names).
    pub dashboard_body: Expr,
}

impl ResourceType for Dashboard {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::CloudWatch::Dashboard",
        stateful: false,
        replaced_by: &["DashboardName"],
        not_updatable: &[],
    };
    type Attribute = NoAttributes;
}

/// `AWS::CloudWatch::CompositeAlarm`: in `ALARM` when its rule over other alarms holds.
///
/// `AlarmName` is required; the stack names it after itself so several stacks coexist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompositeAlarm {
    /// Physical name; changing it replaces the alarm.
    pub alarm_name: Expr,
    /// What the alarm watches.
    pub alarm_description: String,
    /// Whether actions run on state changes.
    pub actions_enabled: bool,
    /// `ALARM("a") OR ALARM("b")`, over the other alarms' names.
    pub alarm_rule: Expr,
}

impl ResourceType for CompositeAlarm {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::CloudWatch::CompositeAlarm",
        stateful: false,
        replaced_by: &["AlarmName"],
        not_updatable: &[],
    };
    type Attribute = AlarmAttribute;
}
