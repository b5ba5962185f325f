//! What a piece of a rendered template refers to: the one walker the stack's deployment
//! digest, `cargo xtask import` and the deploy tests' proxy share.

use serde_json::Value;
use std::collections::BTreeSet;

/// The names `value` references through `Ref`, `Fn::GetAtt` and `${…}` in `Fn::Sub`:
/// logical ids, parameters and pseudo parameters (`AWS::Region`); a `Fn::Sub`'s own
/// variables and `${!Literal}` text are not references.
pub fn references(value: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    collect(value, &mut out);
    out
}

fn collect(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("Ref", Value::String(name)) => {
                        out.insert(name.clone());
                    }
                    ("Fn::GetAtt", Value::Array(parts)) => {
                        if let Some(Value::String(name)) = parts.first() {
                            out.insert(name.clone());
                        }
                    }
                    ("Fn::GetAtt", Value::String(dotted)) => {
                        out.insert(dotted.split('.').next().unwrap_or_default().to_owned());
                    }
                    ("Fn::Sub", Value::String(text)) => sub_names(text, &[], out),
                    ("Fn::Sub", Value::Array(parts)) => {
                        let variables: Vec<&str> = parts
                            .get(1)
                            .and_then(Value::as_object)
                            .map(|v| v.keys().map(String::as_str).collect())
                            .unwrap_or_default();
                        if let Some(Value::String(text)) = parts.first() {
                            sub_names(text, &variables, out);
                        }
                        parts.iter().skip(1).for_each(|p| collect(p, out));
                    }
                    _ => collect(inner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect(item, out)),
        _ => {}
    }
}

/// The names `${Name}` and `${Name.Attribute}` of a `Fn::Sub` text, but its `variables`.
fn sub_names(text: &str, variables: &[&str], out: &mut BTreeSet<String>) {
    for rest in text.split("${").skip(1) {
        let name = rest.split('}').next().unwrap_or_default();
        if name.starts_with('!') {
            continue;
        }
        let name = name.split('.').next().unwrap_or_default();
        if !variables.contains(&name) {
            out.insert(name.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_refs_attributes_and_sub_names_but_not_sub_variables_or_literals() {
        let value = json!({
            "A": {"Ref": "Table"},
            "B": {"Fn::GetAtt": ["Role", "Arn"]},
            "C": {"Fn::GetAtt": "Key.Arn"},
            "D": {"Fn::Sub": "${AWS::StackName}-${Pool.Arn}-${!Literal}"},
            "E": {"Fn::Sub": ["${Var}/${Bus}", {"Var": {"Ref": "Queue"}}]},
        });
        let expected: BTreeSet<String> = [
            "AWS::StackName",
            "Bus",
            "Key",
            "Pool",
            "Queue",
            "Role",
            "Table",
        ]
        .map(String::from)
        .into();
        assert_eq!(references(&value), expected);
    }
}
