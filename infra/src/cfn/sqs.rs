//! `AWS::SQS::Queue` and `AWS::SQS::QueuePolicy`.

use super::expr::Expr;
use super::iam::PolicyDocument;
use super::resource::{Attribute, NoAttributes, ResourceInfo, ResourceType};
use serde::Serialize;

/// `AWS::SQS::Queue`; `Ref` is its URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Queue {
    /// Physical name.
    pub queue_name: Expr,
    /// Seconds a message is kept, 60 to 1209600 (14 days).
    pub message_retention_period: u32,
    /// Encryption with keys SQS owns.
    pub sqs_managed_sse_enabled: bool,
}

impl ResourceType for Queue {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::SQS::Queue",
        // Replacing it loses the messages waiting in it.
        stateful: true,
        replaced_by: &["FifoQueue", "QueueName"],
        not_updatable: &[],
    };
    type Attribute = QueueAttribute;
}

/// Attributes of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueAttribute {
    /// The queue's ARN.
    Arn,
    /// The queue's name.
    QueueName,
}

impl Attribute for QueueAttribute {
    fn name(self) -> &'static str {
        match self {
            QueueAttribute::Arn => "Arn",
            QueueAttribute::QueueName => "QueueName",
        }
    }
}

/// `AWS::SQS::QueuePolicy`: who may send to the queues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueuePolicy {
    /// The queues' URLs.
    pub queues: Vec<Expr>,
    /// The policy.
    pub policy_document: PolicyDocument,
}

impl ResourceType for QueuePolicy {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::SQS::QueuePolicy",
        stateful: false,
        replaced_by: &[],
        not_updatable: &[],
    };
    type Attribute = NoAttributes;
}
