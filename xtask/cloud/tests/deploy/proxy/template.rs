//! What CloudFormation reads in a template before it acts: the order it creates resources
//! in, the changes between two versions (with CloudFormation's replacement verdicts), the
//! physical names it resolves.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use tickets_infra::cfn::resource_info;

/// Parses a template (JSON, or YAML as CloudFormation also reads).
pub fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text)
        .ok()
        .or_else(|| serde_norway::from_str(text).ok())
}

/// The resources of a template.
pub fn resources(template: &Value) -> BTreeMap<String, Value> {
    template["Resources"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// The type of a resource.
pub fn type_of(resource: &Value) -> String {
    resource["Type"].as_str().unwrap_or_default().to_owned()
}

/// Logical ids and parameters `value` references (the walker the stack itself uses).
pub fn references(value: &Value, out: &mut BTreeSet<String>) {
    out.extend(tickets_infra::cfn::references(value));
}

/// What a resource waits for: the resources it references or names in `DependsOn`.
fn dependencies(id: &str, resource: &Value, all: &BTreeMap<String, Value>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    references(&resource["Properties"], &mut found);
    match &resource["DependsOn"] {
        Value::String(name) => {
            found.insert(name.clone());
        }
        Value::Array(names) => {
            found.extend(names.iter().filter_map(|n| n.as_str().map(str::to_owned)))
        }
        _ => {}
    }
    found.retain(|name| name != id && all.contains_key(name));
    found
}

/// The order CloudFormation creates resources in: every resource after what it depends on
/// (in parallel on AWS; one line here).
pub fn creation_order(template: &Value) -> Vec<String> {
    let all = resources(template);
    let mut waiting: BTreeMap<String, BTreeSet<String>> = all
        .iter()
        .map(|(id, r)| (id.clone(), dependencies(id, r, &all)))
        .collect();
    let mut order = Vec::new();
    while !waiting.is_empty() {
        let ready: Vec<String> = waiting
            .iter()
            .filter(|(_, deps)| deps.is_empty())
            .map(|(id, _)| id.clone())
            .collect();
        // A cycle (CloudFormation refuses it): take the rest as it comes.
        let ready = if ready.is_empty() {
            waiting.keys().cloned().collect()
        } else {
            ready
        };
        for id in &ready {
            waiting.remove(id);
        }
        for deps in waiting.values_mut() {
            for id in &ready {
                deps.remove(id);
            }
        }
        order.extend(ready);
    }
    order
}

/// Resolves a physical-name expression that only uses literals and pseudo parameters.
pub fn resolve(value: &Value, stack: &str, region: &str, account: &str) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Object(map) => {
            let text = map.get("Fn::Sub")?.as_str()?;
            let mut out = String::new();
            let mut rest = text;
            while let Some(start) = rest.find("${") {
                out.push_str(&rest[..start]);
                let end = rest[start..].find('}')? + start;
                out.push_str(match &rest[start + 2..end] {
                    "AWS::StackName" => stack,
                    "AWS::Region" => region,
                    "AWS::AccountId" => account,
                    "AWS::Partition" => "aws",
                    "AWS::URLSuffix" => "amazonaws.com",
                    _ => return None,
                });
                rest = &rest[end + 1..];
            }
            out.push_str(rest);
            Some(out)
        }
        _ => None,
    }
}

/// The property holding a resource type's custom physical name, when it has one: a
/// replacement must change it ("CloudFormation cannot update a stack when a custom-named
/// resource requires replacing").
pub fn name_property(resource_type: &str) -> Option<&'static str> {
    Some(match resource_type {
        "AWS::DynamoDB::Table" => "TableName",
        "AWS::Lambda::Function" => "FunctionName",
        "AWS::Logs::LogGroup" => "LogGroupName",
        "AWS::IAM::Role" => "RoleName",
        "AWS::CloudWatch::Alarm" => "AlarmName",
        "AWS::CloudWatch::Dashboard" => "DashboardName",
        "AWS::SNS::Topic" => "TopicName",
        "AWS::CodeDeploy::Application" => "ApplicationName",
        "AWS::CodeDeploy::DeploymentGroup" => "DeploymentGroupName",
        _ => return None,
    })
}

/// One change of a change set.
#[derive(Debug, Clone)]
pub struct Change {
    /// `Add`, `Modify`, `Remove` or `Import`.
    pub action: &'static str,
    /// Logical id.
    pub logical_id: String,
    /// Type.
    pub resource_type: String,
    /// `True`, `False` or `Conditional` (modifications only).
    pub replacement: Option<&'static str>,
    /// Changed top-level properties: name, `RequiresRecreation` and `ChangeSource`.
    pub details: Vec<(String, &'static str, &'static str)>,
}

/// The changes from `old` to `new`, in the order CloudFormation makes them. With
/// `conditional`, stateful resources updated in place are reported as CloudFormation does
/// when it cannot tell yet (`Replacement: Conditional`, `RequiresRecreation:
/// Conditionally`).
pub fn changes(
    old: &Value,
    old_parameters: &BTreeMap<String, String>,
    new: &Value,
    new_parameters: &BTreeMap<String, String>,
    conditional: bool,
) -> Vec<Change> {
    let (before, after) = (resources(old), resources(new));
    let changed_parameters: BTreeSet<String> = old_parameters
        .keys()
        .chain(new_parameters.keys())
        .filter(|k| old_parameters.get(*k) != new_parameters.get(*k))
        .cloned()
        .collect();
    let mut order = creation_order(new);
    order.extend(before.keys().filter(|id| !after.contains_key(*id)).cloned());
    let mut out = Vec::new();
    for id in order {
        match (before.get(&id), after.get(&id)) {
            (None, Some(resource)) => out.push(Change {
                action: "Add",
                logical_id: id.clone(),
                resource_type: type_of(resource),
                replacement: None,
                details: Vec::new(),
            }),
            (Some(resource), None) => out.push(Change {
                action: "Remove",
                logical_id: id.clone(),
                resource_type: type_of(resource),
                replacement: None,
                details: Vec::new(),
            }),
            (Some(b), Some(a)) => {
                let kind = type_of(a);
                let info = resource_info(&kind);
                let empty = serde_json::Map::new();
                let (bp, ap) = (
                    b["Properties"].as_object().unwrap_or(&empty),
                    a["Properties"].as_object().unwrap_or(&empty),
                );
                let names: BTreeSet<&String> = bp.keys().chain(ap.keys()).collect();
                let mut details = Vec::new();
                for name in names {
                    let source = if bp.get(name) != ap.get(name) {
                        "DirectModification"
                    } else {
                        let mut used = BTreeSet::new();
                        references(&ap[name.as_str()], &mut used);
                        if used.iter().any(|u| changed_parameters.contains(u)) {
                            "ParameterReference"
                        } else {
                            continue;
                        }
                    };
                    let recreation = if info.is_some_and(|i| i.replaces_on(name)) {
                        "Always"
                    } else {
                        "Never"
                    };
                    details.push((name.clone(), recreation, source));
                }
                let retyped = type_of(b) != kind;
                if details.is_empty() && !retyped {
                    continue;
                }
                let stateful = info.is_some_and(|i| i.stateful);
                let replacement = if retyped || details.iter().any(|d| d.1 == "Always") {
                    "True"
                } else if conditional && stateful {
                    for detail in &mut details {
                        detail.1 = "Conditionally";
                    }
                    "Conditional"
                } else {
                    "False"
                };
                out.push(Change {
                    action: "Modify",
                    logical_id: id.clone(),
                    resource_type: kind,
                    replacement: Some(replacement),
                    details,
                });
            }
            (None, None) => {}
        }
    }
    out
}

/// The names of a table's global secondary indexes.
pub fn index_names(table: &Value) -> BTreeSet<String> {
    table["Properties"]["GlobalSecondaryIndexes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["IndexName"].as_str().map(str::to_owned))
        .collect()
}

/// `template` as moto should store it: moto keeps only `Retain`, so a resource kept once
/// created (`RetainExceptOnCreate`) is `Retain` there, and `policy` decides for the others
/// (a failed creation deletes what it made).
pub fn with_deletion_policies(template: &Value, policy: impl Fn(&str, &str) -> String) -> Value {
    let mut copy = template.clone();
    if let Some(map) = copy["Resources"].as_object_mut() {
        for (id, resource) in map.iter_mut() {
            let current = resource["DeletionPolicy"]
                .as_str()
                .unwrap_or("Delete")
                .to_owned();
            resource["DeletionPolicy"] = Value::String(policy(id, &current));
        }
    }
    copy
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn creates_dependencies_first() {
        let t = json!({"Resources": {
            "A": {"Type": "X", "Properties": {"B": {"Fn::GetAtt": ["B", "Arn"]}}},
            "B": {"Type": "X", "Properties": {"N": {"Fn::Sub": "${C}-b"}}},
            "C": {"Type": "X", "DependsOn": "D"},
            "D": {"Type": "X"}
        }});
        assert_eq!(creation_order(&t), vec!["D", "C", "B", "A"]);
    }

    #[test]
    fn judges_replacements_like_cloudformation() {
        let table = |key: &str, name: &str| {
            json!({"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {
                "TableName": name, "KeySchema": [{"AttributeName": key}], "BillingMode": "PAY_PER_REQUEST"}}}})
        };
        let none = BTreeMap::new();
        let c = changes(&table("a", "n"), &none, &table("b", "n"), &none, false);
        assert_eq!(c[0].replacement, Some("True"));
        let mut billing = table("a", "n");
        billing["Resources"]["T"]["Properties"]["BillingMode"] = json!("PROVISIONED");
        let c = changes(&table("a", "n"), &none, &billing, &none, true);
        assert_eq!(c[0].replacement, Some("Conditional"));
        assert_eq!(c[0].details[0].1, "Conditionally");
        assert!(changes(&billing, &none, &billing, &none, true).is_empty());
    }

    #[test]
    fn resolves_names_from_the_stack_name() {
        let name = json!({"Fn::Sub": "${AWS::StackName}-tickets"});
        assert_eq!(resolve(&name, "s", "r", "a").unwrap(), "s-tickets");
        assert_eq!(
            resolve(&json!({"Fn::Sub": "${Other}"}), "s", "r", "a"),
            None
        );
    }
}
