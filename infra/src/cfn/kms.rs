//! `AWS::KMS::Key`.

use super::iam::PolicyDocument;
use super::resource::{Attribute, ResourceInfo, ResourceType};
use serde::Serialize;

/// `AWS::KMS::Key`: a symmetric encryption key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Key {
    /// Shown in the console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Rotate the key material every year (old material still decrypts).
    pub enable_key_rotation: bool,
    /// Who may administer and use the key; `Resource` is `*`, which means this key.
    pub key_policy: PolicyDocument,
    /// Days between scheduling deletion and deletion, when it can still be cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_window_in_days: Option<u32>,
}

impl ResourceType for Key {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::KMS::Key",
        // Deleting the key makes everything encrypted with it unreadable.
        stateful: true,
        replaced_by: &["KeySpec", "KeyUsage", "MultiRegion", "Origin"],
        not_updatable: &[],
    };
    type Attribute = KeyAttribute;
}

/// Attributes of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAttribute {
    /// The key's ARN.
    Arn,
    /// The key id (what `Ref` returns too).
    KeyId,
}

impl Attribute for KeyAttribute {
    fn name(self) -> &'static str {
        match self {
            KeyAttribute::Arn => "Arn",
            KeyAttribute::KeyId => "KeyId",
        }
    }
}
