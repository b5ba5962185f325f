//! What `import` adopts into a stack: the template of an `IMPORT` change set, and each
//! resource's identifier. CloudFormation requires that an import adds the imported
//! resources only, each with a `DeletionPolicy`; the rest of the stack comes with the next
//! deploy.

use super::leftovers::Leftover;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use tickets_infra::cfn::references;

/// One resource to adopt, as `CreateChangeSet` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adopted {
    /// Logical id in the template.
    pub logical_id: String,
    /// Resource type.
    pub resource_type: String,
    /// The identifier's name (`TableName`, `UserPoolId`).
    pub key: String,
    /// Its value.
    pub value: String,
}

/// The identifier CloudFormation imports a leftover by, or `None` for a type it is not
/// written for.
pub fn adopted(leftover: &Leftover) -> Option<Adopted> {
    let (resource_type, key, value) = match (leftover.kind, &leftover.id) {
        ("table", _) => ("AWS::DynamoDB::Table", "TableName", leftover.name.clone()),
        ("user pool", Some(id)) => ("AWS::Cognito::UserPool", "UserPoolId", id.clone()),
        _ => return None,
    };
    Some(Adopted {
        logical_id: leftover.logical_id.clone(),
        resource_type: resource_type.to_owned(),
        key: key.to_owned(),
        value,
    })
}

/// The import template: the adopted resources as `template` declares them, retained
/// whatever happens (an import that rolls back, a stack deleted before the next deploy
/// sets the environment's policies), and without the properties that refer to resources
/// the stack does not hold yet (the next deploy sets those). Also returns, per resource,
/// the properties left out.
pub fn import_template(
    template: &Value,
    logical_ids: &[&str],
) -> (Value, Vec<(String, Vec<String>)>) {
    let kept: BTreeSet<&str> = logical_ids.iter().copied().collect();
    let mut resources = Map::new();
    let mut left_out = Vec::new();
    for id in logical_ids {
        let declared = &template["Resources"][*id];
        let mut properties = Map::new();
        let mut dropped = Vec::new();
        for (name, value) in declared["Properties"].as_object().into_iter().flatten() {
            if refers_outside(value, &kept) {
                dropped.push(name.clone());
            } else {
                properties.insert(name.clone(), value.clone());
            }
        }
        resources.insert(
            (*id).to_owned(),
            json!({
                "Type": declared["Type"],
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": properties,
            }),
        );
        if !dropped.is_empty() {
            left_out.push(((*id).to_owned(), dropped));
        }
    }
    let template = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "cargo xtask import: resources adopted from an earlier stack",
        "Resources": resources,
    });
    (template, left_out)
}

/// Whether `value` refers to a resource or parameter other than `kept` (pseudo
/// parameters such as `AWS::StackName` are always there).
fn refers_outside(value: &Value, kept: &BTreeSet<&str>) -> bool {
    references(value)
        .iter()
        .any(|name| !name.starts_with("AWS::") && !kept.contains(name.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_adopted_resources_retained_and_leaves_out_references_to_the_rest() {
        let template = json!({"Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Delete",
                "DependsOn": "Key",
                "Properties": {
                    "TableName": {"Fn::Sub": "${AWS::StackName}-tickets"},
                    "BillingMode": "PAY_PER_REQUEST",
                    "SSESpecification": {"SSEEnabled": true,
                        "KMSMasterKeyId": {"Fn::GetAtt": ["Key", "Arn"]}},
                }},
            "Key": {"Type": "AWS::KMS::Key"},
            "Function": {"Type": "AWS::Lambda::Function"},
        }});
        let (imported, left_out) = import_template(&template, &["Table"]);
        let resources = imported["Resources"].as_object().unwrap();
        assert_eq!(resources.keys().collect::<Vec<_>>(), ["Table"]);
        let table = &resources["Table"];
        assert_eq!(table["DeletionPolicy"], "Retain");
        assert_eq!(table["UpdateReplacePolicy"], "Retain");
        assert!(table.get("DependsOn").is_none());
        assert_eq!(
            table["Properties"]["TableName"],
            json!({"Fn::Sub": "${AWS::StackName}-tickets"})
        );
        assert!(table["Properties"].get("SSESpecification").is_none());
        assert_eq!(
            left_out,
            [("Table".to_owned(), vec!["SSESpecification".to_owned()])]
        );
    }

    #[test]
    fn tells_references_to_other_resources_from_pseudo_parameters_and_sub_variables() {
        let kept = BTreeSet::from(["Pool"]);
        assert!(!refers_outside(&json!({"Ref": "AWS::Region"}), &kept));
        assert!(!refers_outside(&json!({"Ref": "Pool"}), &kept));
        assert!(refers_outside(&json!({"Ref": "ArtifactKey"}), &kept));
        assert!(refers_outside(&json!({"Fn::GetAtt": "Key.Arn"}), &kept));
        assert!(!refers_outside(
            &json!({"Fn::Sub": "${Pool.Arn}-${!Literal}"}),
            &kept
        ));
        assert!(refers_outside(&json!({"Fn::Sub": "x-${Key}"}), &kept));
        assert!(!refers_outside(
            &json!({"Fn::Sub": ["${Name}-x", {"Name": "n"}]}),
            &kept
        ));
        assert!(refers_outside(&json!([1, {"Ref": "Other"}]), &kept));
    }

    #[test]
    fn imports_a_table_by_name_and_a_pool_by_id() {
        let table = Leftover {
            logical_id: "TicketsTable".into(),
            kind: "table",
            name: "s-tickets".into(),
            id: None,
        };
        let pool = Leftover {
            logical_id: "UserPool".into(),
            kind: "user pool",
            name: "s-users".into(),
            id: Some("us-east-1_abc".into()),
        };
        assert_eq!(
            adopted(&table).map(|a| (a.key, a.value)),
            Some(("TableName".to_owned(), "s-tickets".to_owned()))
        );
        assert_eq!(
            adopted(&pool).map(|a| (a.key, a.value)),
            Some(("UserPoolId".to_owned(), "us-east-1_abc".to_owned()))
        );
    }
}
