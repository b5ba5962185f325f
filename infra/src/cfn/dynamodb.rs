//! `AWS::DynamoDB::Table`.

use super::expr::Expr;
use super::resource::{Attribute, ResourceInfo, ResourceType};
use serde::Serialize;

/// `AWS::DynamoDB::Table`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Table {
    /// Physical name; changing it replaces the table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table_name: Option<Expr>,
    /// How reads and writes are paid for.
    pub billing_mode: BillingMode,
    /// Every attribute used in a key of the table or an index.
    pub attribute_definitions: Vec<AttributeDefinition>,
    /// The table's primary key.
    pub key_schema: Vec<KeySchemaElement>,
    /// Global secondary indexes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub global_secondary_indexes: Vec<GlobalSecondaryIndex>,
    /// Expiry of items by an epoch-seconds attribute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_to_live_specification: Option<TimeToLiveSpecification>,
    /// Server-side encryption.
    #[serde(rename = "SSESpecification", skip_serializing_if = "Option::is_none")]
    pub sse_specification: Option<SseSpecification>,
    /// Continuous backups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub point_in_time_recovery_specification: Option<PointInTimeRecoverySpecification>,
    /// Whether `DeleteTable` is refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion_protection_enabled: Option<bool>,
    /// The table's stream: every write, in order per item, kept 24 hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_specification: Option<StreamSpecification>,
}

/// `StreamSpecification`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSpecification {
    /// What each record holds (`NEW_AND_OLD_IMAGES`).
    pub stream_view_type: String,
}

impl ResourceType for Table {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::DynamoDB::Table",
        stateful: true,
        // `AttributeDefinitions` also replaces the table when an existing definition is
        // edited, but adding one (with a new index) does not, so it is not listed here.
        replaced_by: &[
            "TableName",
            "KeySchema",
            "LocalSecondaryIndexes",
            "ImportSourceSpecification",
        ],
        not_updatable: &[],
    };
    type Attribute = TableAttribute;
}

/// Attributes of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableAttribute {
    /// The table's ARN.
    Arn,
    /// The stream's ARN (with a stream specification only).
    StreamArn,
}

impl Attribute for TableAttribute {
    fn name(self) -> &'static str {
        match self {
            TableAttribute::Arn => "Arn",
            TableAttribute::StreamArn => "StreamArn",
        }
    }
}

/// `BillingMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BillingMode {
    /// On-demand.
    PayPerRequest,
    /// Provisioned capacity.
    Provisioned,
}

/// `AttributeDefinition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    /// Attribute name.
    pub attribute_name: String,
    /// `S`, `N` or `B`.
    pub attribute_type: String,
}

/// `KeySchema` element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchemaElement {
    /// Attribute name.
    pub attribute_name: String,
    /// Partition or sort key.
    pub key_type: KeyType,
}

/// `KeyType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum KeyType {
    /// Partition key.
    Hash,
    /// Sort key.
    Range,
}

/// `GlobalSecondaryIndex`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GlobalSecondaryIndex {
    /// Index name.
    pub index_name: String,
    /// The index's key.
    pub key_schema: Vec<KeySchemaElement>,
    /// Which attributes the index copies.
    pub projection: Projection,
}

/// `Projection`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    /// What is projected.
    pub projection_type: ProjectionType,
}

/// `ProjectionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProjectionType {
    /// Every attribute.
    All,
    /// Keys only.
    KeysOnly,
}

/// `TimeToLiveSpecification`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLiveSpecification {
    /// Attribute holding the expiry in epoch seconds.
    pub attribute_name: String,
    /// Whether TTL is on.
    pub enabled: bool,
}

/// `SSESpecification`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SseSpecification {
    /// `true`: encrypt with a KMS key (`aws/dynamodb`, or `KMSMasterKeyId`); `false`: with
    /// a key DynamoDB owns (still encrypted at rest).
    #[serde(rename = "SSEEnabled")]
    pub sse_enabled: bool,
    /// `KMS` with `SSEEnabled`.
    #[serde(rename = "SSEType", skip_serializing_if = "Option::is_none")]
    pub sse_type: Option<SseType>,
    /// A customer managed key (ARN); left out, the AWS managed `aws/dynamodb`.
    #[serde(rename = "KMSMasterKeyId", skip_serializing_if = "Option::is_none")]
    pub kms_master_key_id: Option<Expr>,
}

/// `SSEType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SseType {
    /// AWS KMS.
    Kms,
}

/// `PointInTimeRecoverySpecification`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PointInTimeRecoverySpecification {
    /// Whether continuous backups are on.
    pub point_in_time_recovery_enabled: bool,
}
