//! IAM policy documents and `AWS::IAM::Role`.

use super::expr::Expr;
use super::resource::{Attribute, ResourceInfo, ResourceType};
use serde::Serialize;
use std::collections::BTreeMap;

/// An IAM policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    /// The policy language version.
    pub version: PolicyVersion,
    /// The statements.
    pub statement: Vec<Statement>,
}

impl PolicyDocument {
    /// A document of the current policy language holding `statements`.
    pub fn new(statements: impl IntoIterator<Item = Statement>) -> Self {
        PolicyDocument {
            version: PolicyVersion::V2012_10_17,
            statement: statements.into_iter().collect(),
        }
    }
}

/// The policy language version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PolicyVersion {
    /// The current version (policy variables need it).
    #[serde(rename = "2012-10-17")]
    V2012_10_17,
}

/// One statement of a policy document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    /// Statement id, for people reading the policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// Allow or deny.
    pub effect: Effect,
    /// Who (resource-based and trust policies only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<Principal>,
    /// Actions, `service:Action`.
    pub action: Vec<String>,
    /// ARNs the statement applies to (empty in trust policies).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<Expr>,
    /// Condition operator → condition key → values.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub condition: BTreeMap<String, BTreeMap<String, Vec<Expr>>>,
}

impl Statement {
    /// Allows `actions` on `resources`.
    pub fn allow<A, R>(sid: &str, actions: A, resources: R) -> Self
    where
        A: IntoIterator,
        A::Item: Into<String>,
        R: IntoIterator<Item = Expr>,
    {
        Statement {
            sid: Some(sid.to_owned()),
            effect: Effect::Allow,
            principal: None,
            action: actions.into_iter().map(Into::into).collect(),
            resource: resources.into_iter().collect(),
            condition: BTreeMap::new(),
        }
    }

    /// Lets an AWS service assume the role (a trust policy statement).
    pub fn service_may_assume_role(service: &str) -> Self {
        Statement {
            sid: None,
            effect: Effect::Allow,
            principal: Some(Principal::service(service)),
            action: vec!["sts:AssumeRole".to_owned()],
            resource: Vec::new(),
            condition: BTreeMap::new(),
        }
    }
}

/// `Effect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Refuses, overriding any grant.
    Deny,
}

/// `Principal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// AWS service principals (`lambda.amazonaws.com`).
    #[serde(rename = "Service", skip_serializing_if = "Vec::is_empty")]
    pub service: Vec<Expr>,
    /// Accounts, roles or users.
    #[serde(rename = "AWS", skip_serializing_if = "Vec::is_empty")]
    pub aws: Vec<Expr>,
}

impl Principal {
    /// One AWS service.
    pub fn service(service: &str) -> Self {
        Principal::service_expr(Expr::literal(service))
    }

    /// One AWS service whose name CloudFormation resolves (`logs.${AWS::Region}.amazonaws.com`).
    pub fn service_expr(service: Expr) -> Self {
        Principal {
            service: vec![service],
            aws: Vec::new(),
        }
    }
}

/// `AWS::IAM::Role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Role {
    /// Physical name. Left out, CloudFormation derives one from the stack name and logical
    /// id that is unique per region, and deploying needs only `CAPABILITY_IAM`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_name: Option<Expr>,
    /// Shown in the console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who may assume the role.
    pub assume_role_policy_document: PolicyDocument,
    /// Inline policies.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<InlinePolicy>,
}

impl ResourceType for Role {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::IAM::Role",
        stateful: false,
        replaced_by: &["Path", "RoleName"],
        not_updatable: &[],
    };
    type Attribute = RoleAttribute;
}

/// Attributes of a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleAttribute {
    /// The role's ARN.
    Arn,
    /// The role's stable id.
    RoleId,
}

impl Attribute for RoleAttribute {
    fn name(self) -> &'static str {
        match self {
            RoleAttribute::Arn => "Arn",
            RoleAttribute::RoleId => "RoleId",
        }
    }
}

/// A policy embedded in a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InlinePolicy {
    /// Name, unique within the role.
    pub policy_name: String,
    /// The permissions.
    pub policy_document: PolicyDocument,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_a_trust_policy_without_resources() {
        let document =
            PolicyDocument::new([Statement::service_may_assume_role("lambda.amazonaws.com")]);
        assert_eq!(
            serde_json::to_value(&document).unwrap(),
            json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Effect": "Allow",
                    "Principal": {"Service": ["lambda.amazonaws.com"]},
                    "Action": ["sts:AssumeRole"]
                }]
            })
        );
    }

    #[test]
    fn renders_sid_actions_resources_and_conditions() {
        let mut statement = Statement::allow(
            "Read",
            ["dynamodb:GetItem"],
            [Expr::literal("arn:aws:dynamodb:::table/t")],
        );
        statement.condition.insert(
            "StringEquals".into(),
            BTreeMap::from([("aws:SourceAccount".into(), vec![Expr::literal("1")])]),
        );
        assert_eq!(
            serde_json::to_value(&statement).unwrap(),
            json!({
                "Sid": "Read",
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem"],
                "Resource": ["arn:aws:dynamodb:::table/t"],
                "Condition": {"StringEquals": {"aws:SourceAccount": ["1"]}}
            })
        );
    }
}
