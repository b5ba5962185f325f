//! The template: parameters, resources and outputs, rendered deterministically to JSON or YAML.

use super::parameter::{Output, ParamRef, Parameter};
use super::registry::Properties;
use super::resource::{Ref, RemovalPolicy, Resource, ResourceType, UpdatePolicy};
use super::yaml;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The only template format version there is.
const FORMAT_VERSION: &str = "2010-09-09";

/// A CloudFormation template.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Template {
    #[serde(rename = "AWSTemplateFormatVersion")]
    format_version: &'static str,
    description: String,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    metadata: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "InsertionOrder::is_empty")]
    parameters: InsertionOrder<Parameter>,
    resources: InsertionOrder<ResourceEntry>,
    #[serde(skip_serializing_if = "InsertionOrder::is_empty")]
    outputs: InsertionOrder<Output>,
}

/// The two formats CloudFormation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Pretty-printed JSON.
    Json,
    /// YAML (long-form intrinsics, no tags).
    Yaml,
}

impl Template {
    /// An empty template.
    pub fn new(description: impl Into<String>) -> Self {
        Template {
            format_version: FORMAT_VERSION,
            description: description.into(),
            metadata: BTreeMap::new(),
            parameters: InsertionOrder::default(),
            resources: InsertionOrder::default(),
            outputs: InsertionOrder::default(),
        }
    }

    /// Sets a top-level `Metadata` entry (read by policy checks, ignored by CloudFormation).
    pub fn set_metadata(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.metadata.insert(key.into(), value.into());
    }

    /// The template's description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// A top-level `Metadata` entry.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).map(String::as_str)
    }

    /// Declares a parameter and returns the handle to reference it.
    ///
    /// # Panics
    /// If `logical_id` is not alphanumeric or already names a parameter or resource.
    pub fn add_parameter(&mut self, logical_id: &str, parameter: Parameter) -> ParamRef {
        self.check_new_id(logical_id);
        self.parameters.push(logical_id, parameter);
        ParamRef {
            id: logical_id.to_owned(),
        }
    }

    /// Declares a resource and returns the typed handle to reference it.
    ///
    /// # Panics
    /// If the logical id is not alphanumeric or already names a parameter or resource, or a
    /// `DependsOn` target has not been declared yet.
    pub fn add<T: ResourceType + Into<Properties>>(&mut self, resource: Resource<T>) -> Ref<T> {
        let Resource {
            logical_id,
            properties,
            depends_on,
            deletion_policy,
            update_replace_policy,
            update_policy,
            metadata,
        } = resource;
        self.check_new_id(&logical_id);
        for target in &depends_on {
            assert!(
                self.resources.get(target).is_some(),
                "{logical_id} depends on {target}, which is not a resource of this template"
            );
        }
        self.resources.push(
            &logical_id,
            ResourceEntry {
                type_name: T::INFO.type_name,
                depends_on,
                deletion_policy,
                update_replace_policy,
                update_policy,
                metadata,
                properties: properties.into(),
            },
        );
        Ref::new(logical_id)
    }

    /// Declares an output.
    ///
    /// # Panics
    /// If `name` is not alphanumeric or already names an output.
    pub fn add_output(&mut self, name: &str, output: Output) {
        assert!(
            is_logical_id(name),
            "output name {name:?} is not alphanumeric"
        );
        assert!(
            self.outputs.get(name).is_none(),
            "output {name} is declared twice"
        );
        self.outputs.push(name, output);
    }

    /// Parameters in declaration order.
    pub fn parameters(&self) -> impl Iterator<Item = (&str, &Parameter)> {
        self.parameters.iter()
    }

    /// Resources in declaration order.
    pub fn resources(&self) -> impl Iterator<Item = (&str, &ResourceEntry)> {
        self.resources.iter()
    }

    /// Outputs in declaration order.
    pub fn outputs(&self) -> impl Iterator<Item = (&str, &Output)> {
        self.outputs.iter()
    }

    /// A short hex digest of the resources `include` selects (logical ids, attributes and
    /// properties): it changes exactly when one of them changes.
    pub fn fingerprint(&self, include: impl Fn(&ResourceEntry) -> bool) -> String {
        let mut hasher = Sha256::new();
        for (id, entry) in self.resources.iter().filter(|(_, e)| include(e)) {
            hasher.update(id.as_bytes());
            hasher.update(b"\n");
            hasher.update(serde_json::to_vec(entry).expect("a resource always serializes"));
            hasher.update(b"\n");
        }
        hex::encode(&hasher.finalize()[..5])
    }

    /// Pretty JSON, for people and files.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a template always serializes");
        text.push('\n');
        text
    }

    /// Compact JSON, for API calls (`TemplateBody` is limited to 51,200 bytes).
    pub fn to_json_compact(&self) -> String {
        serde_json::to_string(self).expect("a template always serializes")
    }

    /// YAML with long-form intrinsics (`Ref:`, `Fn::Sub:`), so no custom tags are needed.
    pub fn to_yaml(&self) -> String {
        yaml::quote_yaml11_ambiguities(
            &serde_norway::to_string(self).expect("a template always serializes"),
        )
    }

    /// Renders in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Json => self.to_json(),
            Format::Yaml => self.to_yaml(),
        }
    }

    fn check_new_id(&self, logical_id: &str) {
        assert!(
            is_logical_id(logical_id),
            "logical id {logical_id:?} must be 1 to 255 ASCII letters and digits"
        );
        assert!(
            self.parameters.get(logical_id).is_none() && self.resources.get(logical_id).is_none(),
            "logical id {logical_id} is declared twice"
        );
    }
}

fn is_logical_id(id: &str) -> bool {
    (1..=255).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A declared resource: its type, resource attributes and properties.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceEntry {
    #[serde(rename = "Type")]
    type_name: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    depends_on: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deletion_policy: Option<RemovalPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_replace_policy: Option<RemovalPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    update_policy: Option<UpdatePolicy>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    metadata: BTreeMap<String, String>,
    properties: Properties,
}

impl ResourceEntry {
    /// The CloudFormation type name.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// Logical ids this resource waits for (`DependsOn`).
    pub fn depends_on(&self) -> &[String] {
        &self.depends_on
    }

    /// `DeletionPolicy`, when set.
    pub fn deletion_policy(&self) -> Option<RemovalPolicy> {
        self.deletion_policy
    }

    /// `UpdateReplacePolicy`, when set.
    pub fn update_replace_policy(&self) -> Option<RemovalPolicy> {
        self.update_replace_policy
    }

    /// `UpdatePolicy`, when set.
    pub fn update_policy(&self) -> Option<&UpdatePolicy> {
        self.update_policy.as_ref()
    }

    /// A `Metadata` entry.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata.get(key).map(String::as_str)
    }
}

/// A map that keeps its keys in insertion order, so templates read top-down like the code
/// that declares them.
#[derive(Debug, Clone, PartialEq)]
struct InsertionOrder<V>(Vec<(String, V)>);

impl<V> Default for InsertionOrder<V> {
    fn default() -> Self {
        InsertionOrder(Vec::new())
    }
}

impl<V> InsertionOrder<V> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn push(&mut self, key: &str, value: V) {
        self.0.push((key.to_owned(), value));
    }

    fn get(&self, key: &str) -> Option<&V> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn iter(&self) -> impl Iterator<Item = (&str, &V)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl<V: Serialize> Serialize for InsertionOrder<V> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfn::{Pseudo, logs};
    use serde_json::json;

    fn log_group(name: &str) -> logs::LogGroup {
        logs::LogGroup {
            log_group_name: Some(name.into()),
            retention_in_days: Some(7),
            kms_key_id: None,
        }
    }

    fn sample() -> Template {
        let mut template = Template::new("sample");
        let first = template.add(Resource::new("First", log_group("/a")));
        template.add(
            Resource::new("Second", log_group("/b"))
                .depends_on(&first)
                .retain(),
        );
        template.add_output("FirstName", Output::new("name", &first));
        template
    }

    fn json_of(template: &Template) -> serde_json::Value {
        serde_json::from_str(&template.to_json()).unwrap()
    }

    #[test]
    fn renders_resource_attributes_next_to_the_type() {
        let json = json_of(&sample());
        assert_eq!(
            json["Resources"]["Second"],
            json!({
                "Type": "AWS::Logs::LogGroup",
                "DependsOn": ["First"],
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {"LogGroupName": "/b", "RetentionInDays": 7}
            })
        );
        assert_eq!(json["Resources"]["First"].get("DependsOn"), None);
        assert_eq!(
            json["Outputs"]["FirstName"]["Value"],
            json!({"Ref": "First"})
        );
        assert_eq!(json["AWSTemplateFormatVersion"], json!("2010-09-09"));
    }

    #[test]
    fn retain_except_on_create_is_a_deletion_policy_only() {
        let mut template = Template::new("sample");
        template.add(
            Resource::new("Kept", log_group("/k"))
                .removal_policy(RemovalPolicy::RetainExceptOnCreate),
        );
        let json = json_of(&template);
        assert_eq!(
            json["Resources"]["Kept"]["DeletionPolicy"],
            "RetainExceptOnCreate"
        );
        assert_eq!(json["Resources"]["Kept"]["UpdateReplacePolicy"], "Retain");
    }

    #[test]
    fn keeps_declaration_order() {
        let text = sample().to_json();
        assert!(text.find("\"First\"").unwrap() < text.find("\"Second\"").unwrap());
    }

    #[test]
    fn renders_identical_bytes_every_time() {
        assert_eq!(sample().to_json(), sample().to_json());
        assert_eq!(sample().to_yaml(), sample().to_yaml());
        assert_eq!(sample().to_json_compact(), sample().to_json_compact());
    }

    #[test]
    fn json_and_yaml_hold_the_same_document() {
        let template = sample();
        let from_yaml: serde_json::Value = serde_norway::from_str(&template.to_yaml()).unwrap();
        let from_compact: serde_json::Value =
            serde_json::from_str(&template.to_json_compact()).unwrap();
        assert_eq!(from_yaml, json_of(&template));
        assert_eq!(from_compact, json_of(&template));
    }

    #[test]
    fn yaml_quotes_the_format_version_for_yaml_1_1_readers() {
        let yaml = sample().to_yaml();
        assert!(
            yaml.starts_with("AWSTemplateFormatVersion: '2010-09-09'\n"),
            "{yaml}"
        );
    }

    #[test]
    fn parameters_are_referenced_through_their_handle() {
        let mut template = Template::new("p");
        let bucket = template.add_parameter("Bucket", Parameter::string("where"));
        template.add_output(
            "Where",
            Output::new("o", crate::sub!(&bucket, "/", Pseudo::Region)),
        );
        let json = json_of(&template);
        assert_eq!(
            json["Parameters"]["Bucket"],
            json!({"Type": "String", "Description": "where"})
        );
        assert_eq!(
            json["Outputs"]["Where"]["Value"],
            json!({"Fn::Sub": "${Bucket}/${AWS::Region}"})
        );
    }

    #[test]
    fn fingerprint_follows_the_selected_resources_only() {
        let base = sample().fingerprint(|e| e.type_name() == "AWS::Logs::LogGroup");
        assert_eq!(base.len(), 10);
        let mut other = sample();
        other.add_output("Extra", Output::new("x", "y"));
        assert_eq!(
            other.fingerprint(|e| e.type_name() == "AWS::Logs::LogGroup"),
            base
        );
        let mut changed = sample();
        changed.add(Resource::new("Third", log_group("/c")));
        assert_ne!(
            changed.fingerprint(|e| e.type_name() == "AWS::Logs::LogGroup"),
            base
        );
    }

    #[test]
    #[should_panic(expected = "declared twice")]
    fn refuses_a_duplicate_logical_id() {
        let mut template = sample();
        template.add(Resource::new("First", log_group("/z")));
    }

    #[test]
    #[should_panic(expected = "letters and digits")]
    fn refuses_a_logical_id_with_punctuation() {
        Template::new("x").add(Resource::new("my-group", log_group("/z")));
    }
}
