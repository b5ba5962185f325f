//! A typed model of CloudFormation templates: one struct per resource type, typed handles
//! for references, and deterministic JSON/YAML rendering.

pub mod apigateway;
pub mod cognito;
pub mod dynamodb;
mod expr;
pub mod iam;
pub mod lambda;
pub mod logs;
mod registry;
mod resource;
mod template;
mod yaml;

pub use expr::{Expr, Pseudo};
pub use registry::{Properties, RESOURCE_TYPES, resource_info};
pub use resource::{
    Attribute, LogicalId, NoAttributes, Ref, RemovalPolicy, Resource, ResourceInfo, ResourceType,
};
pub use template::{Format, Output, ParamRef, Parameter, ParameterType, ResourceEntry, Template};
