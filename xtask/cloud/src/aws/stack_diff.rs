//! The diff `deploy` and `diff` show before anything changes: resources added, removed and
//! modified (with property paths), which of them CloudFormation will replace, the stateful
//! ones whose loss would destroy data, and changes the service refuses to make in place.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use tickets_infra::cfn::ResourceInfo;

/// How a resource changes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Action {
    /// New in the template.
    Add,
    /// Gone from the template: CloudFormation deletes it (unless its policy retains it).
    Remove,
    /// Updated in place.
    Modify,
    /// Deleted and created anew (new physical resource).
    Replace,
}

/// One resource's change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceChange {
    /// Logical id.
    pub logical_id: String,
    /// CloudFormation type.
    pub resource_type: String,
    /// What happens to it.
    pub action: Action,
    /// Changed property paths (`Properties.Environment.Variables.LOG_LEVEL`).
    pub paths: Vec<String>,
    /// Holds data.
    pub stateful: bool,
    /// Kept by its `DeletionPolicy` (`Retain`, `RetainExceptOnCreate`) when removed.
    pub retained: bool,
    /// Changed top-level properties the service cannot update in place: the update fails.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_updatable: Vec<String>,
}

impl ResourceChange {
    /// A replacement or removal that would destroy data. A replaced resource is new and
    /// empty even when the old one is retained, so every stateful replacement counts.
    pub fn destroys_data(&self) -> bool {
        self.stateful
            && match self.action {
                Action::Replace => true,
                Action::Remove => !self.retained,
                Action::Add | Action::Modify => false,
            }
    }
}

/// Everything that differs between the deployed stack and the new one.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StackDiff {
    /// Resource changes, by logical id.
    pub resources: Vec<ResourceChange>,
    /// Parameters whose value changes: name → (old, new).
    pub parameters: BTreeMap<String, (Option<String>, Option<String>)>,
    /// Outputs added, removed or changed.
    pub outputs: Vec<String>,
    /// Anything else at the top level (description, conditions...).
    pub other: Vec<String>,
}

impl StackDiff {
    /// Whether nothing changes at all.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
            && self.parameters.is_empty()
            && self.outputs.is_empty()
            && self.other.is_empty()
    }

    /// The changes that would destroy data.
    pub fn destructive(&self) -> Vec<&ResourceChange> {
        self.resources
            .iter()
            .filter(|c| c.destroys_data())
            .collect()
    }

    /// A human-readable rendering, like `cdk diff`.
    pub fn render(&self) -> String {
        if self.is_empty() {
            return "no changes\n".into();
        }
        let mut out = String::new();
        if !self.parameters.is_empty() {
            out.push_str("Parameters\n");
            for (name, (old, new)) in &self.parameters {
                let _ = writeln!(
                    out,
                    "  ~ {name}: {} → {}",
                    old.as_deref().unwrap_or("(none)"),
                    new.as_deref().unwrap_or("(none)")
                );
            }
        }
        if !self.resources.is_empty() {
            out.push_str("Resources\n");
            for change in &self.resources {
                let (mark, word) = match change.action {
                    Action::Add => ("+", "add"),
                    Action::Remove if change.retained => ("-", "remove from stack (retained)"),
                    Action::Remove => ("-", "remove"),
                    Action::Modify => ("~", "modify"),
                    Action::Replace => ("!", "REPLACE"),
                };
                let warning = if change.destroys_data() {
                    "  ⚠ destroys data"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "  {mark} {} {} ({word}){warning}",
                    change.logical_id, change.resource_type
                );
                for path in &change.paths {
                    let _ = writeln!(out, "      {path}");
                }
                for property in &change.not_updatable {
                    let _ = writeln!(
                        out,
                        "      ⚠ {property} cannot be updated in place: CloudFormation's update will fail \
                         (only a new resource, under a new logical id, can take the new value)"
                    );
                }
            }
        }
        if !self.outputs.is_empty() {
            let _ = writeln!(out, "Outputs\n  ~ {}", self.outputs.join(", "));
        }
        for other in &self.other {
            let _ = writeln!(out, "  ~ {other}");
        }
        out
    }
}

/// Compares the deployed template and parameters (`None` when the stack does not exist)
/// with the new ones, using `info` (`tickets_infra::cfn::resource_info`) to know which types
/// are stateful, what replaces them and what cannot change in place.
pub fn diff(
    old: Option<(&Value, &BTreeMap<String, String>)>,
    new: (&Value, &BTreeMap<String, String>),
    info: impl Fn(&str) -> Option<ResourceInfo>,
) -> StackDiff {
    let empty = Value::Object(Map::new());
    let no_params = BTreeMap::new();
    let (old_template, old_params) = old.unwrap_or((&empty, &no_params));
    let (new_template, new_params) = new;
    let mut result = StackDiff::default();

    let section = |t: &Value, name: &str| {
        t.get(name)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let old_resources = section(old_template, "Resources");
    let new_resources = section(new_template, "Resources");
    let mut ids: Vec<&String> = old_resources.keys().chain(new_resources.keys()).collect();
    ids.sort();
    ids.dedup();
    for id in ids {
        let (before, after) = (old_resources.get(id), new_resources.get(id));
        let resource_type = after
            .or(before)
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_owned();
        let type_info = info(&resource_type);
        let stateful = type_info.is_some_and(|i| i.stateful);
        let retained = |r: Option<&Value>| {
            matches!(
                r.and_then(|r| r.get("DeletionPolicy"))
                    .and_then(Value::as_str),
                Some("Retain" | "RetainExceptOnCreate")
            )
        };
        let change = match (before, after) {
            (None, Some(_)) => Some((Action::Add, Vec::new(), false, Vec::new())),
            (Some(b), None) => Some((Action::Remove, Vec::new(), retained(Some(b)), Vec::new())),
            (Some(b), Some(a)) if b != a => {
                let mut paths = Vec::new();
                changed_paths("", b, a, &mut paths);
                // The top-level properties that change, in order, once each.
                let mut properties: Vec<&str> = paths
                    .iter()
                    .filter_map(|p| p.strip_prefix("Properties."))
                    .map(|p| p.split(['.', '[']).next().unwrap_or(""))
                    .collect();
                properties.dedup();
                let type_changed = b.get("Type") != a.get("Type");
                let replaced = type_changed
                    || properties
                        .iter()
                        .any(|p| type_info.is_some_and(|i| i.replaces_on(p)));
                // A replacement is a new resource, which takes any value.
                let not_updatable = match type_info {
                    Some(i) if !replaced => properties
                        .iter()
                        .filter(|p| i.not_updatable.contains(p))
                        .map(|p| (*p).to_owned())
                        .collect(),
                    _ => Vec::new(),
                };
                Some((
                    if replaced {
                        Action::Replace
                    } else {
                        Action::Modify
                    },
                    paths,
                    retained(Some(a)),
                    not_updatable,
                ))
            }
            _ => None,
        };
        if let Some((action, paths, retained, not_updatable)) = change {
            result.resources.push(ResourceChange {
                logical_id: id.clone(),
                resource_type,
                action,
                paths,
                stateful,
                retained,
                not_updatable,
            });
        }
    }

    let mut names: Vec<&String> = old_params.keys().chain(new_params.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let (before, after) = (old_params.get(name), new_params.get(name));
        if before != after {
            result
                .parameters
                .insert(name.clone(), (before.cloned(), after.cloned()));
        }
    }

    let old_outputs = section(old_template, "Outputs");
    let new_outputs = section(new_template, "Outputs");
    let mut outputs: Vec<&String> = old_outputs.keys().chain(new_outputs.keys()).collect();
    outputs.sort();
    outputs.dedup();
    for name in outputs {
        if old_outputs.get(name) != new_outputs.get(name) {
            result.outputs.push(name.clone());
        }
    }
    if old.is_some() {
        for key in [
            "Description",
            "Conditions",
            "Mappings",
            "Metadata",
            "Parameters",
            "Transform",
        ] {
            if old_template.get(key) != new_template.get(key) {
                result.other.push(key.to_owned());
            }
        }
    }
    result
}

/// Collects the paths where `a` and `b` differ: object members by name, arrays by index
/// (or whole when their lengths differ), scalars by value.
fn changed_paths(prefix: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                match (x.get(key), y.get(key)) {
                    (Some(u), Some(v)) => changed_paths(&path, u, v, out),
                    (None, None) => {}
                    _ => out.push(path),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                changed_paths(&format!("{prefix}[{i}]"), u, v, out);
            }
        }
        _ if a != b => out.push(prefix.to_owned()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(t: &str) -> Option<ResourceInfo> {
        match t {
            "AWS::DynamoDB::Table" => Some(ResourceInfo {
                type_name: "AWS::DynamoDB::Table",
                stateful: true,
                replaced_by: &["TableName", "KeySchema"],
                not_updatable: &[],
            }),
            _ => Some(ResourceInfo {
                type_name: "AWS::Lambda::Function",
                stateful: false,
                replaced_by: &["FunctionName"],
                not_updatable: &[],
            }),
        }
    }

    fn template(table_key: &str, memory: u32) -> Value {
        json!({
            "Resources": {
                "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"KeySchema": [{"AttributeName": table_key, "KeyType": "HASH"}]}},
                "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"MemorySize": memory, "Environment": {"Variables": {"A": "1"}}}}
            },
            "Outputs": {"Url": {"Value": "x"}}
        })
    }

    #[test]
    fn identical_stacks_have_no_changes() {
        let params = BTreeMap::from([("ArtifactKey".to_owned(), "a".to_owned())]);
        let t = template("pk", 256);
        let d = diff(Some((&t, &params)), (&t, &params), info);
        assert!(d.is_empty());
        assert_eq!(d.render(), "no changes\n");
    }

    #[test]
    fn names_the_changed_property_paths() {
        let p = BTreeMap::new();
        let (a, b) = (template("pk", 256), template("pk", 512));
        let d = diff(Some((&a, &p)), (&b, &p), info);
        assert_eq!(d.resources.len(), 1);
        assert_eq!(d.resources[0].action, Action::Modify);
        assert_eq!(d.resources[0].paths, vec!["Properties.MemorySize"]);
        assert!(d.render().contains("Properties.MemorySize"));
    }

    #[test]
    fn flags_a_table_replacement_as_destructive() {
        let p = BTreeMap::new();
        let (a, b) = (template("pk", 256), template("id", 256));
        let d = diff(Some((&a, &p)), (&b, &p), info);
        assert_eq!(d.resources[0].action, Action::Replace);
        assert_eq!(d.destructive().len(), 1);
        assert!(d.render().contains("destroys data"));
    }

    #[test]
    fn a_removed_table_destroys_data_unless_retained() {
        let p = BTreeMap::new();
        let a = template("pk", 256);
        let mut b = a.clone();
        b["Resources"].as_object_mut().unwrap().remove("Table");
        assert_eq!(diff(Some((&a, &p)), (&b, &p), info).destructive().len(), 1);
        let mut retained = a.clone();
        retained["Resources"]["Table"]["DeletionPolicy"] = json!("Retain");
        assert!(
            diff(Some((&retained, &p)), (&b, &p), info)
                .destructive()
                .is_empty()
        );
    }

    #[test]
    fn a_new_stack_adds_everything() {
        let t = template("pk", 256);
        let d = diff(None, (&t, &BTreeMap::new()), info);
        assert!(d.resources.iter().all(|c| c.action == Action::Add));
        assert!(d.destructive().is_empty());
    }

    #[test]
    fn reports_parameter_changes() {
        let t = template("pk", 256);
        let old = BTreeMap::from([("ArtifactKey".to_owned(), "a".to_owned())]);
        let new = BTreeMap::from([("ArtifactKey".to_owned(), "b".to_owned())]);
        let d = diff(Some((&t, &old)), (&t, &new), info);
        assert_eq!(
            d.parameters["ArtifactKey"],
            (Some("a".into()), Some("b".into()))
        );
    }

    #[test]
    fn warns_about_properties_that_cannot_be_updated_in_place() {
        let p = BTreeMap::new();
        let pool = |attributes: Value, name: &str| {
            json!({"Resources": {"Pool": {"Type": "AWS::Cognito::UserPool", "Properties": {
                "UsernameAttributes": attributes, "UserPoolName": name}}}})
        };
        let info = tickets_infra::cfn::resource_info;
        let a = pool(json!(["email"]), "a");
        let b = pool(json!(["phone_number"]), "a");
        let d = diff(Some((&a, &p)), (&b, &p), info);
        assert_eq!(d.resources[0].action, Action::Modify);
        assert_eq!(d.resources[0].not_updatable, vec!["UsernameAttributes"]);
        assert!(
            d.render()
                .contains("UsernameAttributes cannot be updated in place"),
            "{}",
            d.render()
        );
        let renamed = pool(json!(["email"]), "b");
        let d = diff(Some((&a, &p)), (&renamed, &p), info);
        assert!(d.resources[0].not_updatable.is_empty());
        assert!(!d.render().contains("cannot be updated in place"));
    }
}
