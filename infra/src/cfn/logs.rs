//! `AWS::Logs::LogGroup`.

use super::expr::Expr;
use super::resource::{Attribute, ResourceInfo, ResourceType};
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
