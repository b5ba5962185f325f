//! `AWS::Pipes::Pipe`: a source polled in order, filtered, enriched, and sent to a target.

use super::expr::Expr;
use super::resource::{Attribute, ResourceInfo, ResourceType};
use serde::Serialize;

/// `AWS::Pipes::Pipe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Pipe {
    /// Physical name (at most 64 characters).
    pub name: Expr,
    /// Shown in the console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `RUNNING` or `STOPPED`.
    pub desired_state: String,
    /// The role the pipe reads, enriches and delivers as.
    pub role_arn: Expr,
    /// The source's ARN (a DynamoDB stream's).
    pub source: Expr,
    /// How the source is read and filtered.
    pub source_parameters: SourceParameters,
    /// The enrichment's ARN (a Lambda function's), invoked synchronously with each batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrichment: Option<Expr>,
    /// The target's ARN (an event bus's).
    pub target: Expr,
    /// How the target is called.
    pub target_parameters: TargetParameters,
}

impl ResourceType for Pipe {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::Pipes::Pipe",
        stateful: false,
        replaced_by: &["Name", "Source", "SourceParameters"],
        not_updatable: &[],
    };
    type Attribute = PipeAttribute;
}

/// Attributes of a pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PipeAttribute {
    /// The pipe's ARN.
    Arn,
}

impl Attribute for PipeAttribute {
    fn name(self) -> &'static str {
        match self {
            PipeAttribute::Arn => "Arn",
        }
    }
}

/// `SourceParameters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SourceParameters {
    /// Records pass if any pattern matches.
    pub filter_criteria: FilterCriteria,
    /// Reading a DynamoDB stream.
    #[serde(rename = "DynamoDBStreamParameters")]
    pub dynamodb_stream_parameters: DynamoDbStreamParameters,
}

/// `FilterCriteria`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FilterCriteria {
    /// The patterns.
    pub filters: Vec<Filter>,
}

/// `Filter`: an EventBridge pattern, as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Filter {
    /// The pattern.
    pub pattern: String,
}

/// `DynamoDBStreamParameters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DynamoDbStreamParameters {
    /// `TRIM_HORIZON` (the oldest record kept) or `LATEST`.
    pub starting_position: String,
    /// Records per batch.
    pub batch_size: u32,
    /// Seconds to gather a batch.
    pub maximum_batching_window_in_seconds: u32,
    /// Retries of a failing batch before its records go to the dead-letter queue.
    pub maximum_retry_attempts: i32,
    /// Records older than this go to the dead-letter queue (-1: as long as the stream keeps them).
    pub maximum_record_age_in_seconds: i32,
    /// `AUTOMATIC_BISECT`: a failing batch is halved until the failing record is alone.
    pub on_partial_batch_item_failure: String,
    /// Batches of one shard processed at once: 1 keeps each key's records in order.
    pub parallelization_factor: u32,
    /// Where records that keep failing go.
    pub dead_letter_config: DeadLetterConfig,
}

/// `DeadLetterConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterConfig {
    /// An SQS queue's ARN.
    pub arn: Expr,
}

/// `TargetParameters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetParameters {
    /// Putting events on a bus.
    pub event_bridge_event_bus_parameters: EventBusParameters,
}

/// `EventBridgeEventBusParameters`: static values, or JSON paths (`$.type`) into each event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventBusParameters {
    /// The `detail-type`.
    pub detail_type: String,
    /// The `source`.
    pub source: Expr,
    /// The `time`.
    pub time: String,
}
