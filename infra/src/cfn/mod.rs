//! A typed model of CloudFormation templates: one struct per resource type, typed handles
//! for references, and deterministic JSON/YAML rendering.

pub mod apigateway;
pub mod cognito;
pub mod dynamodb;
mod expr;
pub mod iam;
pub mod lambda;
pub mod logs;
mod resource;
mod template;

pub use expr::{Expr, Pseudo};
pub use resource::{
    Attribute, LogicalId, NoAttributes, Properties, RESOURCE_TYPES, Ref, RemovalPolicy, Resource,
    ResourceInfo, ResourceType, resource_info,
};
pub use template::{Format, Output, ParamRef, Parameter, ParameterType, ResourceEntry, Template};
