//! `AWS::Events::EventBus`, `Archive` and `Rule`.

use super::expr::Expr;
use super::resource::{Attribute, ResourceInfo, ResourceType};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// `AWS::Events::EventBus`: a custom bus; `Ref` is its name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventBus {
    /// Physical name.
    pub name: Expr,
}

impl ResourceType for EventBus {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::Events::EventBus",
        stateful: false,
        replaced_by: &["Name", "EventSourceName"],
        not_updatable: &[],
    };
    type Attribute = EventBusAttribute;
}

/// Attributes of a bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventBusAttribute {
    /// The bus's ARN.
    Arn,
    /// The bus's name (what `Ref` returns too).
    Name,
}

impl Attribute for EventBusAttribute {
    fn name(self) -> &'static str {
        match self {
            EventBusAttribute::Arn => "Arn",
            EventBusAttribute::Name => "Name",
        }
    }
}

/// `AWS::Events::Archive`: every event of a bus, kept for replays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Archive {
    /// Physical name (at most 48 characters).
    pub archive_name: Expr,
    /// The bus's ARN.
    pub source_arn: Expr,
    /// Shown in the console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Days events are kept; 0 keeps them forever.
    pub retention_days: u32,
}

impl ResourceType for Archive {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::Events::Archive",
        // Replacing it loses the archived events.
        stateful: true,
        replaced_by: &["ArchiveName", "SourceArn"],
        not_updatable: &[],
    };
    type Attribute = ArchiveAttribute;
}

/// Attributes of an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveAttribute {
    /// The archive's ARN.
    Arn,
}

impl Attribute for ArchiveAttribute {
    fn name(self) -> &'static str {
        match self {
            ArchiveAttribute::Arn => "Arn",
        }
    }
}

/// `AWS::Events::Rule` on a bus.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Rule {
    /// Physical name (unique per bus).
    pub name: Expr,
    /// Shown in the console.
    pub description: String,
    /// The bus (name or ARN).
    pub event_bus_name: Expr,
    /// Which events match (intrinsics may fill values).
    pub event_pattern: Value,
    /// `ENABLED`.
    pub state: String,
    /// Where matching events go.
    pub targets: Vec<Target>,
}

impl ResourceType for Rule {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::Events::Rule",
        stateful: false,
        replaced_by: &["EventBusName", "Name"],
        not_updatable: &[],
    };
    type Attribute = RuleAttribute;
}

/// Attributes of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAttribute {
    /// The rule's ARN.
    Arn,
}

impl Attribute for RuleAttribute {
    fn name(self) -> &'static str {
        match self {
            RuleAttribute::Arn => "Arn",
        }
    }
}

/// A rule's `Target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Target {
    /// Unique within the rule.
    pub id: String,
    /// The target's ARN.
    pub arn: Expr,
    /// What the target receives instead of the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_transformer: Option<InputTransformer>,
    /// How long and how often delivery is retried.
    pub retry_policy: RetryPolicy,
    /// Where events go that could not be delivered.
    pub dead_letter_config: TargetDeadLetterConfig,
}

/// `InputTransformer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InputTransformer {
    /// Variable → JSON path into the event.
    pub input_paths_map: BTreeMap<String, String>,
    /// The text sent, with `<variable>` placeholders.
    pub input_template: String,
}

/// `RetryPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryPolicy {
    /// Retries, 0 to 185.
    pub maximum_retry_attempts: u32,
    /// Seconds an event is retried, 60 to 86400.
    pub maximum_event_age_in_seconds: u32,
}

/// `DeadLetterConfig` of a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetDeadLetterConfig {
    /// An SQS queue's ARN.
    pub arn: Expr,
}
