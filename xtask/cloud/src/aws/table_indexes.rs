//! DynamoDB's rule for global secondary indexes: one update of a table creates or deletes
//! at most one of them. CloudFormation finds out half-way through an update and rolls it
//! back (moto accepts it), so a rollout that would do more is refused before any change set.

use anyhow::Result;
use serde_json::Value;
use std::collections::BTreeSet;
use xtask_core::outcome::refused;

/// Refuses going from `old` to `new` when a table would gain or lose more than one index.
pub fn check_one_change_per_update(old: &Value, new: &Value) -> Result<()> {
    let tables = new["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, r)| r["Type"] == "AWS::DynamoDB::Table");
    for (id, table) in tables {
        let before = &old["Resources"][id];
        if before["Type"] != "AWS::DynamoDB::Table" {
            continue;
        }
        let (was, is) = (index_names(before), index_names(table));
        let created: Vec<&String> = is.difference(&was).collect();
        let deleted: Vec<&String> = was.difference(&is).collect();
        if created.len() + deleted.len() > 1 {
            let mut parts = Vec::new();
            if !created.is_empty() {
                parts.push(format!("create indexes {}", join(&created)));
            }
            if !deleted.is_empty() {
                parts.push(format!("delete indexes {}", join(&deleted)));
            }
            return Err(refused(format!(
                "refusing to deploy: table {id} would {} in one update, but DynamoDB creates or \
                 deletes only one index per update (CloudFormation would fail and roll back). \
                 Nothing was changed. Stage it: deploy a version with one index change, then the next; \
                 for a promotion, promote each intermediate version in turn",
                parts.join(" and ")
            )));
        }
    }
    Ok(())
}

fn index_names(table: &Value) -> BTreeSet<String> {
    table["Properties"]["GlobalSecondaryIndexes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["IndexName"].as_str().map(str::to_owned))
        .collect()
}

fn join(names: &[&String]) -> String {
    names
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template(indexes: &[&str]) -> Value {
        let indexes: Vec<Value> = indexes.iter().map(|n| json!({"IndexName": n})).collect();
        json!({"Resources": {"T": {"Type": "AWS::DynamoDB::Table",
            "Properties": {"GlobalSecondaryIndexes": indexes}}}})
    }

    #[test]
    fn allows_one_index_created_or_deleted() {
        assert!(check_one_change_per_update(&template(&["a"]), &template(&["a", "b"])).is_ok());
        assert!(check_one_change_per_update(&template(&["a", "b"]), &template(&["a"])).is_ok());
    }

    #[test]
    fn refuses_two_index_changes_naming_them() {
        let err = check_one_change_per_update(&template(&["a"]), &template(&["b"])).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("create indexes b") && text.contains("delete indexes a"),
            "{text}"
        );
    }
}
