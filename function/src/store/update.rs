//! Conditions and update expressions, with their placeholder names and values.

use super::item::Item;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use tickets_manifest::table::attr;

/// Builds an `UpdateExpression` and a `ConditionExpression` with their names and values.
#[derive(Default)]
pub(super) struct Update {
    set: Vec<String>,
    remove: Vec<String>,
    names: HashMap<String, String>,
    values: Item,
}

impl Update {
    /// `SET #name = :name`
    pub(super) fn set(&mut self, name: &str, value: AttributeValue) {
        self.set.push(format!("#{name} = :{name}"));
        self.names.insert(format!("#{name}"), name.to_owned());
        self.values.insert(format!(":{name}"), value);
    }

    /// `SET` with a value, `REMOVE` without one.
    pub(super) fn set_or_remove(&mut self, name: &str, value: Option<AttributeValue>) {
        match value {
            Some(value) => self.set(name, value),
            None => {
                self.remove.push(format!("#{name}"));
                self.names.insert(format!("#{name}"), name.to_owned());
            }
        }
    }

    /// `SET #version = #version + 1`
    pub(super) fn increment_version(&mut self) {
        self.set
            .push(format!("#{v} = #{v} + :one", v = attr::VERSION));
        self.names
            .insert(format!("#{}", attr::VERSION), attr::VERSION.to_owned());
        self.values
            .insert(":one".into(), AttributeValue::N("1".into()));
    }

    /// The update expression.
    pub(super) fn expression(&self) -> String {
        let mut expr = format!("SET {}", self.set.join(", "));
        if !self.remove.is_empty() {
            expr.push_str(&format!(" REMOVE {}", self.remove.join(", ")));
        }
        expr
    }

    /// The condition of a write: the ticket exists and, when `versions` names any, is at
    /// one of them (`If-Match` with several entity tags).
    pub(super) fn existing_at(&mut self, versions: &[u64]) -> String {
        self.names.insert("#pk".into(), attr::PK.to_owned());
        if versions.is_empty() {
            return "attribute_exists(#pk)".into();
        }
        self.names
            .insert("#version".into(), attr::VERSION.to_owned());
        let placeholders: Vec<String> = versions
            .iter()
            .enumerate()
            .map(|(i, version)| {
                let placeholder = format!(":expected{i}");
                self.values
                    .insert(placeholder.clone(), AttributeValue::N(version.to_string()));
                placeholder
            })
            .collect();
        format!(
            "attribute_exists(#pk) AND #version IN ({})",
            placeholders.join(", ")
        )
    }

    /// The placeholder names and values; values are `None` when there are none, since
    /// DynamoDB refuses an empty map.
    pub(super) fn into_placeholders(self) -> (HashMap<String, String>, Option<Item>) {
        let values = (!self.values.is_empty()).then_some(self.values);
        (self.names, values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_set_and_remove_clauses() {
        let mut update = Update::default();
        update.set("title", AttributeValue::S("t".into()));
        update.set_or_remove("assignee", None);
        update.increment_version();
        assert_eq!(
            update.expression(),
            "SET #title = :title, #version = #version + :one REMOVE #assignee"
        );
    }

    #[test]
    fn conditions_on_any_of_the_expected_versions() {
        let mut update = Update::default();
        assert_eq!(
            update.existing_at(&[3, 4]),
            "attribute_exists(#pk) AND #version IN (:expected0, :expected1)"
        );
        assert_eq!(update.into_placeholders().1.unwrap().len(), 2);
        let mut any = Update::default();
        assert_eq!(any.existing_at(&[]), "attribute_exists(#pk)");
        assert!(any.into_placeholders().1.is_none());
    }
}
