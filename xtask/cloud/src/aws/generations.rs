//! Replacing a resource that has a custom physical name. CloudFormation creates the new
//! resource before it deletes the old one, so it refuses to replace one under the same
//! name ("cannot update a stack when a custom-named resource requires replacing"). When a
//! replacement of the table is allowed (`--allow-replace`), it gets a new name, a
//! generation suffix (`…-tickets-g2`), which later rollouts keep; any other named resource
//! that would be replaced under its name is refused with that reason.

use super::stack_diff::{Action, StackDiff};
use anyhow::Result;
use serde_json::Value;
use xtask_core::outcome::refused;

/// The property holding a type's custom physical name, for the types the stack names.
fn name_property(resource_type: &str) -> Option<&'static str> {
    match resource_type {
        "AWS::DynamoDB::Table" => Some("TableName"),
        "AWS::Lambda::Function" => Some("FunctionName"),
        "AWS::Logs::LogGroup" => Some("LogGroupName"),
        _ => None,
    }
}

/// Types that take a new generation of their name when replaced: the table (its data is
/// the point of the refusal; a function or log group renamed would break what derives
/// from their names).
fn renamed_when_replaced(resource_type: &str) -> bool {
    resource_type == "AWS::DynamoDB::Table"
}

/// A resource renamed for its replacement.
#[derive(Debug, Clone)]
pub struct Renamed {
    /// Logical id.
    pub logical_id: String,
    /// The name it had (resolved for the stack).
    pub old_name: String,
    /// The name it takes.
    pub new_name: String,
    /// The old one is kept by `UpdateReplacePolicy: Retain`.
    pub old_kept: bool,
}

/// The name template (`${AWS::StackName}-tickets`) and its generation (1 without suffix).
fn split_generation(name: &str) -> (&str, u32) {
    if let Some((base, generation)) = name.rsplit_once("-g")
        && let Ok(generation) = generation.parse::<u32>()
        && generation >= 2
    {
        return (base, generation);
    }
    (name, 1)
}

fn name_text(value: &Value) -> Option<&str> {
    value
        .get("Fn::Sub")
        .and_then(Value::as_str)
        .or_else(|| value.as_str())
}

fn set_name_text(value: &mut Value, text: String) {
    match value.get_mut("Fn::Sub") {
        Some(sub) => *sub = Value::String(text),
        None => *value = Value::String(text),
    }
}

/// Keeps the generation a deployed name took at an earlier allowed replacement, where
/// `new` still asks for the base name.
pub fn carry_over(deployed: &Value, new: &mut Value) {
    let Some(resources) = new["Resources"].as_object_mut() else {
        return;
    };
    for (id, resource) in resources.iter_mut() {
        let Some(property) = resource["Type"].as_str().and_then(name_property) else {
            continue;
        };
        let Some(old) = name_text(&deployed["Resources"][id]["Properties"][property]) else {
            continue;
        };
        let (old_base, generation) = split_generation(old);
        let name = &mut resource["Properties"][property];
        if generation >= 2 && name_text(name) == Some(old_base) {
            let old = old.to_owned();
            set_name_text(name, old);
        }
    }
}

/// For each replacement in `diff` of a resource that keeps its custom name: renames it
/// in `new` when it is the table and replacements are allowed, and otherwise refuses with
/// the reason. Returns what it renamed.
pub fn rename_replaced(
    diff: &StackDiff,
    new: &mut Value,
    stack: &str,
    allow_replace: bool,
) -> Result<Vec<Renamed>> {
    let mut renamed = Vec::new();
    for change in &diff.resources {
        let Some(property) = name_property(&change.resource_type) else {
            continue;
        };
        let name_path = format!("Properties.{property}");
        if change.action != Action::Replace || change.paths.contains(&name_path) {
            continue;
        }
        let resource = &mut new["Resources"][&change.logical_id];
        let Some(text) = name_text(&resource["Properties"][property]).map(str::to_owned) else {
            continue;
        };
        let shown = |t: &str| t.replace("${AWS::StackName}", stack);
        if !renamed_when_replaced(&change.resource_type) {
            return Err(refused(format!(
                "refusing to deploy: {} ({}) would be replaced, and CloudFormation cannot replace a resource \
                 with a custom name ({}) under that name (the update would fail and roll back). \
                 Nothing was changed. Change its name in the template together with the replacing change",
                change.logical_id,
                change.resource_type,
                shown(&text)
            )));
        }
        if !allow_replace {
            continue;
        }
        let (base, generation) = split_generation(&text);
        let next = format!("{base}-g{}", generation + 1);
        let old_kept = resource["UpdateReplacePolicy"] == "Retain";
        set_name_text(&mut resource["Properties"][property], next.clone());
        renamed.push(Renamed {
            logical_id: change.logical_id.clone(),
            old_name: shown(&text),
            new_name: shown(&next),
            old_kept,
        });
    }
    Ok(renamed)
}

/// What happens to the data of a renamed resource, for people.
pub fn explain(renamed: &Renamed) -> String {
    let old = if renamed.old_kept {
        format!(
            "{} is kept outside the stack (UpdateReplacePolicy: Retain) with its data: copy what you need, then delete it",
            renamed.old_name
        )
    } else {
        format!("{} is deleted with its data", renamed.old_name)
    };
    format!(
        "{} is replaced under a new name, {} (CloudFormation cannot replace it under its name): the new one starts empty; {old}",
        renamed.logical_id, renamed.new_name
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_generations_from_name_suffixes() {
        assert_eq!(
            split_generation("${AWS::StackName}-tickets"),
            ("${AWS::StackName}-tickets", 1)
        );
        assert_eq!(
            split_generation("${AWS::StackName}-tickets-g3"),
            ("${AWS::StackName}-tickets", 3)
        );
        assert_eq!(split_generation("x-g1"), ("x-g1", 1));
    }

    #[test]
    fn a_deployed_generation_is_kept_for_the_base_name() {
        let table = |name: &str| {
            json!({"Resources": {"T": {"Type": "AWS::DynamoDB::Table",
                "Properties": {"TableName": {"Fn::Sub": name}}}}})
        };
        let deployed = table("${AWS::StackName}-tickets-g2");
        let mut new = table("${AWS::StackName}-tickets");
        carry_over(&deployed, &mut new);
        assert_eq!(new, deployed);
        let mut renamed = table("${AWS::StackName}-other");
        carry_over(&deployed, &mut renamed);
        assert_eq!(renamed, table("${AWS::StackName}-other"));
    }
}
