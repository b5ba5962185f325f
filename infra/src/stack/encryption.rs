//! The optional customer managed KMS key of the table and the log groups, with a key policy
//! that lets the account administer it and the two services use it, nothing else.

use super::data::removal;
use crate::cfn::iam::{Effect, PolicyDocument, Principal, Statement};
use crate::cfn::kms::Key;
use crate::cfn::{Expr, Pseudo, Ref, Resource, Template};
use crate::environment::Environment;
use std::collections::BTreeMap;

/// Logical id of the key.
pub const KEY: &str = "DataKey";

/// What administering the key takes (the key administrators' actions of the KMS guide,
/// spelled out): nothing that encrypts or decrypts.
const ADMINISTRATION: &[&str] = &[
    "kms:CancelKeyDeletion",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
];

/// What DynamoDB does with the key on behalf of a caller (creating the table's grant,
/// encrypting and decrypting its table key).
pub const DYNAMODB_USE: &[&str] = &[
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
];

/// What CloudWatch Logs does with the key for a log group.
const LOGS_USE: &[&str] = &[
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
];

/// `dynamodb.<region>.amazonaws.com`: the `kms:ViaService` of calls DynamoDB makes.
pub fn dynamodb_service() -> Expr {
    crate::sub!("dynamodb.", Pseudo::Region, ".amazonaws.com")
}

/// Declares the key when the environment asks for one. `log_groups` are the names of the
/// stack's log groups, the only ones CloudWatch Logs may use it for.
pub fn key(
    template: &mut Template,
    environment: &Environment,
    log_groups: &[Expr],
) -> Option<Ref<Key>> {
    if !environment.encryption.customer_managed_key {
        return None;
    }
    let account_root = crate::sub!(
        "arn:",
        Pseudo::Partition,
        ":iam::",
        Pseudo::AccountId,
        ":root"
    );
    // In a key policy, `*` as the resource means this key.
    let this_key = || vec![Expr::literal("*")];
    let administration = Statement {
        sid: Some("AccountAdministersTheKey".to_owned()),
        effect: Effect::Allow,
        principal: Some(Principal {
            service: Vec::new(),
            aws: vec![account_root.clone()],
        }),
        action: ADMINISTRATION.iter().map(|a| (*a).to_owned()).collect(),
        resource: this_key(),
        condition: BTreeMap::new(),
    };
    // The account's principals (the deployer creating the table, the function reading it)
    // may use the key through DynamoDB only, as far as their IAM policies allow.
    let dynamodb = Statement {
        sid: Some("UseThroughDynamoDbOnly".to_owned()),
        effect: Effect::Allow,
        principal: Some(Principal {
            service: Vec::new(),
            aws: vec![account_root],
        }),
        action: DYNAMODB_USE.iter().map(|a| (*a).to_owned()).collect(),
        resource: this_key(),
        condition: BTreeMap::from([(
            "StringEquals".to_owned(),
            BTreeMap::from([
                (
                    "kms:CallerAccount".to_owned(),
                    vec![Pseudo::AccountId.into()],
                ),
                ("kms:ViaService".to_owned(), vec![dynamodb_service()]),
            ]),
        )]),
    };
    let log_group_arns = log_groups
        .iter()
        .map(|name| {
            crate::sub!(
                "arn:",
                Pseudo::Partition,
                ":logs:",
                Pseudo::Region,
                ":",
                Pseudo::AccountId,
                ":log-group:",
                name.clone()
            )
        })
        .collect();
    let logs = Statement {
        sid: Some("CloudWatchLogsForThisStacksGroups".to_owned()),
        effect: Effect::Allow,
        principal: Some(Principal::service_expr(crate::sub!(
            "logs.",
            Pseudo::Region,
            ".amazonaws.com"
        ))),
        action: LOGS_USE.iter().map(|a| (*a).to_owned()).collect(),
        resource: this_key(),
        condition: BTreeMap::from([(
            "ArnEquals".to_owned(),
            BTreeMap::from([(
                "kms:EncryptionContext:aws:logs:arn".to_owned(),
                log_group_arns,
            )]),
        )]),
    };
    Some(
        template.add(
            Resource::new(
                KEY,
                Key {
                    description: Some(format!("Tickets table and logs ({}).", environment.name)),
                    enable_key_rotation: true,
                    key_policy: PolicyDocument::new([administration, dynamodb, logs]),
                    pending_window_in_days: Some(30),
                },
            )
            // Deleting the key would make the retained table unreadable.
            .removal_policy(removal(environment)),
        ),
    )
}
