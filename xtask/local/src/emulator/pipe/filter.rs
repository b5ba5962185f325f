//! The pipe's `FilterCriteria`, applied locally: a record passes when any pattern matches.
//! Patterns are EventBridge's; the local pipe knows the parts the template uses (values,
//! `prefix`, `exists`, nested fields) and refuses any other at start, so that a filter it
//! cannot apply never passes records silently.

use anyhow::{Result, bail};
use serde_json::Value;

/// A list of event patterns: a record passes when any matches.
#[derive(Debug, Clone)]
pub struct Filter(Vec<Value>);

impl Filter {
    /// Reads the patterns (JSON texts); fails on a part the local pipe cannot apply.
    pub fn parse(patterns: &[String]) -> Result<Self> {
        let mut parsed = Vec::new();
        for text in patterns {
            let pattern: Value = serde_json::from_str(text)
                .map_err(|e| anyhow::anyhow!("the pipe's filter {text} is not JSON: {e}"))?;
            check(&pattern)?;
            parsed.push(pattern);
        }
        Ok(Filter(parsed))
    }

    /// Whether `record` passes (a pipe with no patterns passes everything).
    pub fn passes(&self, record: &Value) -> bool {
        self.0.is_empty() || self.0.iter().any(|p| matches(p, Some(record)))
    }
}

fn check(pattern: &Value) -> Result<()> {
    match pattern {
        Value::Object(fields) => fields.values().try_for_each(check),
        Value::Array(rules) => rules.iter().try_for_each(|rule| match rule {
            Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => Ok(()),
            Value::Object(op) if op.len() == 1 && (op.contains_key("prefix") || op.contains_key("exists")) => Ok(()),
            other => bail!(
                "the local pipe cannot apply the filter rule {other}: it knows values, prefix and exists"
            ),
        }),
        other => bail!("the filter part {other} is neither a field nor a list of rules"),
    }
}

/// Whether `value` (absent: `None`) matches `pattern`.
fn matches(pattern: &Value, value: Option<&Value>) -> bool {
    match pattern {
        Value::Object(fields) => fields
            .iter()
            .all(|(name, sub)| matches(sub, value.and_then(|v| v.get(name)))),
        Value::Array(rules) => rules.iter().any(|rule| match rule {
            Value::Object(op) if op.contains_key("exists") => {
                op["exists"].as_bool() == Some(value.is_some())
            }
            Value::Object(op) => match (op["prefix"].as_str(), value.and_then(Value::as_str)) {
                (Some(prefix), Some(text)) => text.starts_with(prefix),
                _ => false,
            },
            literal => value == Some(literal),
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn filter() -> Filter {
        Filter::parse(&[
            r#"{"eventName":["INSERT","REMOVE"],"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"TICKET#"}]}}}}"#.into(),
            r#"{"eventName":["MODIFY"],"dynamodb":{"Keys":{"pk":{"S":[{"prefix":"TICKET#"}]}},"NewImage":{"deletedBy":{"S":[{"exists":false}]}}}}"#.into(),
        ])
        .unwrap()
    }

    fn record(name: &str, pk: &str, deleted_by: Option<&str>) -> Value {
        let mut new = json!({"pk": {"S": pk}});
        if let Some(by) = deleted_by {
            new["deletedBy"] = json!({"S": by});
        }
        json!({"eventName": name, "dynamodb": {"Keys": {"pk": {"S": pk}}, "NewImage": new}})
    }

    #[test]
    fn passes_ticket_writes_only() {
        let filter = filter();
        assert!(filter.passes(&record("INSERT", "TICKET#1", None)));
        assert!(filter.passes(&record("MODIFY", "TICKET#1", None)));
        assert!(filter.passes(&record("REMOVE", "TICKET#1", None)));
        assert!(!filter.passes(&record("INSERT", "IDEMPOTENCY#k", None)));
        assert!(!filter.passes(&record("MODIFY", "TICKET#1", Some("alice"))));
    }

    #[test]
    fn refuses_rules_it_cannot_apply() {
        let err = Filter::parse(&[r#"{"size":[{"numeric":[">",3]}]}"#.into()]).unwrap_err();
        assert!(err.to_string().contains("prefix and exists"), "{err}");
    }
}
