//! A typed model of CloudFormation templates: one struct per resource type, typed handles
//! for references, and deterministic JSON/YAML rendering.

pub mod apigateway;
pub mod cloudwatch;
pub mod codedeploy;
pub mod cognito;
pub mod dynamodb;
pub mod events;
mod expr;
pub mod iam;
pub mod kms;
pub mod lambda;
pub mod logs;
mod parameter;
pub mod pipes;
mod references;
mod registry;
mod resource;
pub mod sns;
pub mod sqs;
mod template;
pub mod wafv2;
mod yaml;

pub use expr::{Expr, Pseudo};
pub use parameter::{Output, ParamRef, Parameter, ParameterType};
pub use references::references;
pub use registry::{Properties, RESOURCE_TYPES, resource_info};
pub use resource::{
    Attribute, CodeDeployLambdaAliasUpdate, LogicalId, NoAttributes, Ref, RemovalPolicy, Resource,
    ResourceInfo, ResourceType, UpdatePolicy,
};
pub use template::{Format, ResourceEntry, Template};
