//! `AWS::SNS::Topic` and `AWS::SNS::Subscription`.

use super::expr::Expr;
use super::resource::{Attribute, NoAttributes, ResourceInfo, ResourceType};
use serde::Serialize;

/// `AWS::SNS::Topic`; `TopicName` is left out, so CloudFormation generates one and `Ref`
/// returns the ARN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Topic {
    /// The sender name of email notifications.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl ResourceType for Topic {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::SNS::Topic",
        stateful: false,
        replaced_by: &["FifoTopic", "TopicName"],
        not_updatable: &[],
    };
    type Attribute = TopicAttribute;
}

/// Attributes of a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicAttribute {
    /// The topic's ARN (what `Ref` returns too).
    TopicArn,
    /// The generated name.
    TopicName,
}

impl Attribute for TopicAttribute {
    fn name(self) -> &'static str {
        match self {
            TopicAttribute::TopicArn => "TopicArn",
            TopicAttribute::TopicName => "TopicName",
        }
    }
}

/// `AWS::SNS::Subscription`: one endpoint receiving a topic's messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subscription {
    /// The topic.
    pub topic_arn: Expr,
    /// How messages are delivered.
    pub protocol: SubscriptionProtocol,
    /// Where (an email address for `email`).
    pub endpoint: String,
}

impl ResourceType for Subscription {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::SNS::Subscription",
        stateful: false,
        replaced_by: &["Endpoint", "Protocol", "TopicArn"],
        not_updatable: &[],
    };
    type Attribute = NoAttributes;
}

/// `Protocol` of a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionProtocol {
    /// Plain-text email; the recipient confirms the subscription by a link first.
    Email,
}
