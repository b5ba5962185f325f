//! `AWS::Logs::LogGroup` and `AWS::Logs::MetricFilter`.

use super::expr::Expr;
use super::resource::{Attribute, NoAttributes, ResourceInfo, ResourceType};
use serde::Serialize;

/// `AWS::Logs::LogGroup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogGroup {
    /// Physical name; changing it replaces the group (and loses its logs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group_name: Option<Expr>,
    /// Days events are kept; left out, forever.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_in_days: Option<u32>,
    /// ARN of the KMS key encrypting the events; left out, CloudWatch Logs' own encryption.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<Expr>,
}

impl ResourceType for LogGroup {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::Logs::LogGroup",
        stateful: false,
        replaced_by: &["LogGroupName"],
        not_updatable: &[],
    };
    type Attribute = LogGroupAttribute;
}

/// Attributes of a log group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogGroupAttribute {
    /// The group's ARN, ending in `:*`.
    Arn,
}

impl Attribute for LogGroupAttribute {
    fn name(self) -> &'static str {
        match self {
            LogGroupAttribute::Arn => "Arn",
        }
    }
}

/// `AWS::Logs::MetricFilter`: turns matching log events into a CloudWatch metric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricFilter {
    /// The group whose events are matched.
    pub log_group_name: Expr,
    /// CloudWatch Logs filter syntax (`{ $.status = "401" }` for JSON events).
    pub filter_pattern: String,
    /// The metric each match adds to (exactly one).
    pub metric_transformations: Vec<MetricTransformation>,
}

impl ResourceType for MetricFilter {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::Logs::MetricFilter",
        stateful: false,
        replaced_by: &["FilterName", "LogGroupName"],
        not_updatable: &[],
    };
    type Attribute = NoAttributes;
}

/// `MetricTransformation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricTransformation {
    /// The metric's namespace.
    pub metric_namespace: String,
    /// The metric's name.
    pub metric_name: String,
    /// What a match adds (`1` to count matches, or `$.field`).
    pub metric_value: String,
    /// Dimensions read from each event (`$.field`); CloudWatch refuses a default value
    /// next to them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<MetricFilterDimension>,
    /// The metric's unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

/// A dimension of a metric filter's metric.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricFilterDimension {
    /// The dimension's name.
    pub key: String,
    /// The event field holding its value (`$.apiId`).
    pub value: String,
}
