//! Resource types, typed handles to declared resources, and what the deploy tool needs to
//! know about each type. The list of types lives in [`super::registry`].

use super::expr::Expr;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// A CloudFormation resource type: its properties struct plus static knowledge about it.
pub trait ResourceType: Serialize {
    /// The type's name, stateful-ness and replacement rules.
    const INFO: ResourceInfo;
    /// The attributes `Fn::GetAtt` can read from a resource of this type.
    type Attribute: Attribute;
}

/// An attribute `Fn::GetAtt` can read.
pub trait Attribute: Copy {
    /// The attribute's name in the template (`Arn`).
    fn name(self) -> &'static str;
}

/// The attribute set of a type `Fn::GetAtt` has nothing to read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoAttributes {}

impl Attribute for NoAttributes {
    fn name(self) -> &'static str {
        match self {}
    }
}

/// What the deploy tool needs to know about a resource type before it changes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceInfo {
    /// The CloudFormation type name (`AWS::DynamoDB::Table`).
    pub type_name: &'static str,
    /// Whether the resource holds data that is lost when it is replaced or deleted.
    pub stateful: bool,
    /// Top-level properties whose change makes CloudFormation replace the resource
    /// ("Update requires: Replacement" in the template reference).
    pub replaced_by: &'static [&'static str],
    /// Top-level properties the service refuses to change at all: the update fails, and only
    /// a new resource (a new logical id) can take the new value.
    pub not_updatable: &'static [&'static str],
}

impl ResourceInfo {
    /// Whether changing `property` replaces the resource.
    pub fn replaces_on(&self, property: &str) -> bool {
        self.replaced_by.contains(&property)
    }
}

/// Something with a logical id in a template: a resource or a parameter handle.
pub trait LogicalId {
    /// The logical id.
    fn logical_id(&self) -> &str;
}

/// A typed handle to a resource declared in a [`Template`](super::Template): the only way to
/// reference it, so references are checked by the compiler.
pub struct Ref<T> {
    id: String,
    _type: PhantomData<fn() -> T>,
}

impl<T: ResourceType> Ref<T> {
    pub(crate) fn new(id: String) -> Self {
        Ref {
            id,
            _type: PhantomData,
        }
    }

    /// `Ref` of the resource (what it returns depends on the type: a name, an id, ...).
    pub fn reference(&self) -> Expr {
        Expr::reference(&self.id)
    }

    /// `Fn::GetAtt` of one of the type's attributes.
    pub fn get_att(&self, attribute: T::Attribute) -> Expr {
        Expr::get_att(&self.id, attribute.name())
    }
}

impl<T> LogicalId for Ref<T> {
    fn logical_id(&self) -> &str {
        &self.id
    }
}

impl<T> Clone for Ref<T> {
    fn clone(&self) -> Self {
        Ref {
            id: self.id.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Ref<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ref({})", self.id)
    }
}

impl<T: ResourceType> From<&Ref<T>> for Expr {
    fn from(handle: &Ref<T>) -> Self {
        handle.reference()
    }
}

/// What CloudFormation does with a resource's physical resource when it deletes or replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RemovalPolicy {
    /// Delete it (the default).
    Delete,
    /// Keep it, outside the stack.
    Retain,
    /// Keep it, except when the stack operation that created it rolls back (a failed first
    /// creation deletes it, so nothing is stranded). A `DeletionPolicy` only: as an
    /// `UpdateReplacePolicy` it reads as `Retain`.
    RetainExceptOnCreate,
}

/// A resource about to be added to a template: logical id, properties and resource attributes.
#[derive(Debug, Clone)]
pub struct Resource<T> {
    pub(crate) logical_id: String,
    pub(crate) properties: T,
    pub(crate) depends_on: Vec<String>,
    pub(crate) deletion_policy: Option<RemovalPolicy>,
    pub(crate) update_replace_policy: Option<RemovalPolicy>,
    pub(crate) update_policy: Option<UpdatePolicy>,
    pub(crate) metadata: BTreeMap<String, String>,
}

impl<T: ResourceType> Resource<T> {
    /// A resource with this logical id (letters and digits only) and these properties.
    pub fn new(logical_id: impl Into<String>, properties: T) -> Self {
        Resource {
            logical_id: logical_id.into(),
            properties,
            depends_on: Vec::new(),
            deletion_policy: None,
            update_replace_policy: None,
            update_policy: None,
            metadata: BTreeMap::new(),
        }
    }

    /// Creates this resource only after `other` (`DependsOn`), for ordering that no
    /// reference implies.
    pub fn depends_on(mut self, other: &impl LogicalId) -> Self {
        self.depends_on.push(other.logical_id().to_owned());
        self
    }

    /// `DeletionPolicy`.
    pub fn deletion_policy(mut self, policy: RemovalPolicy) -> Self {
        self.deletion_policy = Some(policy);
        self
    }

    /// `UpdateReplacePolicy`.
    pub fn update_replace_policy(mut self, policy: RemovalPolicy) -> Self {
        self.update_replace_policy = Some(policy);
        self
    }

    /// Sets both `DeletionPolicy` and `UpdateReplacePolicy`: one alone leaves the other path
    /// deleting (or keeping) data. `RetainExceptOnCreate` exists for deletion only, so a
    /// replacement then retains.
    pub fn removal_policy(self, policy: RemovalPolicy) -> Self {
        let on_replace = match policy {
            RemovalPolicy::RetainExceptOnCreate => RemovalPolicy::Retain,
            other => other,
        };
        self.deletion_policy(policy)
            .update_replace_policy(on_replace)
    }

    /// Keeps the physical resource when the stack deletes or replaces it.
    pub fn retain(self) -> Self {
        self.removal_policy(RemovalPolicy::Retain)
    }

    /// `UpdatePolicy`: how CloudFormation carries out an update of this resource.
    pub fn update_policy(mut self, policy: UpdatePolicy) -> Self {
        self.update_policy = Some(policy);
        self
    }

    /// A `Metadata` entry: ignored by CloudFormation, read by policy rules and people.
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }
}

/// `UpdatePolicy`, of the kinds this model uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdatePolicy {
    /// Shift a Lambda alias to its new version through a CodeDeploy deployment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_deploy_lambda_alias_update: Option<CodeDeployLambdaAliasUpdate>,
}

/// `CodeDeployLambdaAliasUpdate`: when the alias's version changes, CloudFormation asks
/// CodeDeploy to move traffic, and the update waits for (and fails with) the deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeDeployLambdaAliasUpdate {
    /// The CodeDeploy application.
    pub application_name: Expr,
    /// Its deployment group: the traffic-shifting configuration and the rollback alarms.
    pub deployment_group_name: Expr,
}
