//! Template parameters and outputs: what a deploy tool passes in, and what it reads back.

use super::expr::Expr;
use super::resource::LogicalId;
use serde::Serialize;

/// The type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ParameterType {
    /// A string.
    String,
}

/// A template parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Parameter {
    #[serde(rename = "Type")]
    kind: ParameterType,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    default: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allowed_values: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    constraint_description: Option<String>,
}

impl Parameter {
    /// A string parameter.
    pub fn string(description: impl Into<String>) -> Self {
        Parameter {
            kind: ParameterType::String,
            description: description.into(),
            default: None,
            allowed_values: Vec::new(),
            allowed_pattern: None,
            constraint_description: None,
        }
    }

    /// Restricts values to `pattern`, explaining the rule with `constraint` when it fails.
    pub fn allowed_pattern(
        mut self,
        pattern: impl Into<String>,
        constraint: impl Into<String>,
    ) -> Self {
        self.allowed_pattern = Some(pattern.into());
        self.constraint_description = Some(constraint.into());
        self
    }

    /// Restricts values to `values`.
    pub fn allowed_values<V: Into<String>>(mut self, values: impl IntoIterator<Item = V>) -> Self {
        self.allowed_values = values.into_iter().map(Into::into).collect();
        self
    }

    /// The value used when a create or an update does not pass one: a deploy that omits the
    /// parameter goes back to it.
    pub fn default_value(mut self, value: impl Into<String>) -> Self {
        self.default = Some(value.into());
        self
    }

    /// The description.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The default value, when there is one.
    pub fn default(&self) -> Option<&str> {
        self.default.as_deref()
    }

    /// The values allowed (empty: any).
    pub fn allowed(&self) -> &[String] {
        &self.allowed_values
    }
}

/// A handle to a declared parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamRef {
    pub(super) id: String,
}

impl LogicalId for ParamRef {
    fn logical_id(&self) -> &str {
        &self.id
    }
}

impl From<&ParamRef> for Expr {
    fn from(handle: &ParamRef) -> Self {
        Expr::reference(&handle.id)
    }
}

/// A template output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Output {
    description: String,
    value: Expr,
}

impl Output {
    /// An output with this description and value.
    pub fn new(description: impl Into<String>, value: impl Into<Expr>) -> Self {
        Output {
            description: description.into(),
            value: value.into(),
        }
    }

    /// The value.
    pub fn value(&self) -> &Expr {
        &self.value
    }

    /// The description.
    pub fn description(&self) -> &str {
        &self.description
    }
}
