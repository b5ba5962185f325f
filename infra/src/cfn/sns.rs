//! `AWS::SNS::Topic`, `AWS::SNS::TopicPolicy` and `AWS::SNS::Subscription`.

use super::expr::Expr;
use super::iam::PolicyDocument;
use super::resource::{Attribute, NoAttributes, ResourceInfo, ResourceType};
use serde::Serialize;
use serde_json::Value;

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

/// `AWS::SNS::TopicPolicy`: who may publish to the topics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TopicPolicy {
    /// The topics' ARNs.
    pub topics: Vec<Expr>,
    /// The policy.
    pub policy_document: PolicyDocument,
}

impl ResourceType for TopicPolicy {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::SNS::TopicPolicy",
        stateful: false,
        replaced_by: &[],
        not_updatable: &[],
    };
    type Attribute = NoAttributes;
}

/// `AWS::SNS::Subscription`: one endpoint receiving a topic's messages.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subscription {
    /// The topic.
    pub topic_arn: Expr,
    /// How messages are delivered.
    pub protocol: SubscriptionProtocol,
    /// Where (an email address for `email`, a phone number for `sms`, a URL for `https`).
    pub endpoint: String,
    /// Only messages matching it are delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_policy: Option<Value>,
    /// What the filter policy reads: `MessageBody` or `MessageAttributes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_policy_scope: Option<String>,
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
    /// A text message to a phone number.
    Sms,
    /// A POST to an HTTPS endpoint, which confirms the subscription first.
    Https,
}
