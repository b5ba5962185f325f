//! API Gateway REST API resource types.

use super::expr::Expr;
use super::resource::{Attribute, NoAttributes, ResourceInfo, ResourceType};
use serde::Serialize;
use std::collections::BTreeMap;

/// `AWS::ApiGateway::RestApi`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RestApi {
    /// Name (not unique; shown in the console).
    pub name: Expr,
    /// Shown in the console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where the endpoint lives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint_configuration: Option<EndpointConfiguration>,
}

impl ResourceType for RestApi {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::ApiGateway::RestApi",
        stateful: false,
        replaced_by: &[],
        not_updatable: &[],
    };
    type Attribute = RestApiAttribute;
}

/// Attributes of a REST API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestApiAttribute {
    /// The API id (what `Ref` returns too).
    RestApiId,
    /// The id of the `/` resource.
    RootResourceId,
}

impl Attribute for RestApiAttribute {
    fn name(self) -> &'static str {
        match self {
            RestApiAttribute::RestApiId => "RestApiId",
            RestApiAttribute::RootResourceId => "RootResourceId",
        }
    }
}

/// `EndpointConfiguration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointConfiguration {
    /// Endpoint types.
    pub types: Vec<EndpointType>,
}

/// An endpoint type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EndpointType {
    /// Served from the API's region.
    Regional,
    /// Served through CloudFront.
    Edge,
    /// Reachable from a VPC only.
    Private,
}

/// `AWS::ApiGateway::Resource`: one path segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    /// The API.
    pub rest_api_id: Expr,
    /// The parent resource (the root's id for a first-level segment).
    pub parent_id: Expr,
    /// The segment (`tickets`, `{id}`).
    pub path_part: String,
}

impl ResourceType for Resource {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::ApiGateway::Resource",
        stateful: false,
        replaced_by: &["ParentId", "PathPart", "RestApiId"],
        not_updatable: &[],
    };
    type Attribute = ResourceAttribute;
}

/// Attributes of an API resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceAttribute {
    /// The resource id (what `Ref` returns too).
    ResourceId,
}

impl Attribute for ResourceAttribute {
    fn name(self) -> &'static str {
        match self {
            ResourceAttribute::ResourceId => "ResourceId",
        }
    }
}

/// `AWS::ApiGateway::Method`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Method {
    /// The API.
    pub rest_api_id: Expr,
    /// The resource (path) it serves.
    pub resource_id: Expr,
    /// The HTTP method.
    pub http_method: String,
    /// How callers are authenticated.
    pub authorization_type: AuthorizationType,
    /// The authorizer, with `COGNITO_USER_POOLS` or `CUSTOM`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorizer_id: Option<Expr>,
    /// Where requests go.
    pub integration: Integration,
}

impl ResourceType for Method {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::ApiGateway::Method",
        stateful: false,
        replaced_by: &["HttpMethod", "ResourceId", "RestApiId"],
        not_updatable: &[],
    };
    type Attribute = NoAttributes;
}

/// `AuthorizationType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthorizationType {
    /// Anyone.
    None,
    /// A Cognito user pool token.
    CognitoUserPools,
    /// SigV4-signed requests.
    AwsIam,
    /// A Lambda authorizer.
    Custom,
}

/// `Integration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Integration {
    /// Kind of backend.
    #[serde(rename = "Type")]
    pub kind: IntegrationType,
    /// Method API Gateway uses to call the backend (`POST` for Lambda).
    pub integration_http_method: String,
    /// The backend (for Lambda, the function's invocation URI).
    pub uri: Expr,
    /// A role API Gateway assumes to call the backend, instead of the backend's own
    /// resource policy allowing API Gateway.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Expr>,
}

/// Integration `Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IntegrationType {
    /// Lambda proxy: the function receives the whole request and returns the whole response.
    AwsProxy,
    /// An AWS service action.
    Aws,
    /// HTTP proxy.
    HttpProxy,
    /// A canned response.
    Mock,
}

/// `AWS::ApiGateway::Authorizer`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Authorizer {
    /// Name, unique within the API.
    pub name: String,
    /// The API.
    pub rest_api_id: Expr,
    /// Kind of authorizer.
    #[serde(rename = "Type")]
    pub kind: AuthorizerType,
    /// Where the token is read (`method.request.header.Authorization`).
    pub identity_source: String,
    /// User pool ARNs (Cognito authorizers).
    #[serde(rename = "ProviderARNs", skip_serializing_if = "Vec::is_empty")]
    pub provider_arns: Vec<Expr>,
}

impl ResourceType for Authorizer {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::ApiGateway::Authorizer",
        stateful: false,
        replaced_by: &["RestApiId"],
        not_updatable: &[],
    };
    type Attribute = AuthorizerAttribute;
}

/// Attributes of an authorizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizerAttribute {
    /// The authorizer id (what `Ref` returns too).
    AuthorizerId,
}

impl Attribute for AuthorizerAttribute {
    fn name(self) -> &'static str {
        match self {
            AuthorizerAttribute::AuthorizerId => "AuthorizerId",
        }
    }
}

/// Authorizer `Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthorizerType {
    /// Validates Cognito user pool tokens.
    CognitoUserPools,
    /// A Lambda validating a token.
    Token,
    /// A Lambda reading request parameters.
    Request,
}

/// `AWS::ApiGateway::GatewayResponse`: a response API Gateway itself produces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GatewayResponse {
    /// The API.
    pub rest_api_id: Expr,
    /// Which responses this customizes.
    pub response_type: GatewayResponseType,
    /// `gatewayresponse.header.<Name>` → a single-quoted literal or a request mapping.
    pub response_parameters: BTreeMap<String, String>,
}

impl ResourceType for GatewayResponse {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::ApiGateway::GatewayResponse",
        stateful: false,
        replaced_by: &["ResponseType", "RestApiId"],
        not_updatable: &[],
    };
    type Attribute = NoAttributes;
}

/// `ResponseType` of a gateway response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GatewayResponseType {
    /// Every 4xx API Gateway produces without a more specific response.
    #[serde(rename = "DEFAULT_4XX")]
    Default4xx,
    /// Every 5xx API Gateway produces without a more specific response.
    #[serde(rename = "DEFAULT_5XX")]
    Default5xx,
}

impl GatewayResponseType {
    /// The name in the template.
    pub const fn as_str(self) -> &'static str {
        match self {
            GatewayResponseType::Default4xx => "DEFAULT_4XX",
            GatewayResponseType::Default5xx => "DEFAULT_5XX",
        }
    }
}

/// `AWS::ApiGateway::Deployment`: an immutable snapshot of the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Deployment {
    /// The API.
    pub rest_api_id: Expr,
    /// Shown in the console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl ResourceType for Deployment {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::ApiGateway::Deployment",
        stateful: false,
        replaced_by: &["DeploymentCanarySettings", "RestApiId"],
        not_updatable: &[],
    };
    type Attribute = DeploymentAttribute;
}

/// Attributes of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentAttribute {
    /// The deployment id (what `Ref` returns too).
    DeploymentId,
}

impl Attribute for DeploymentAttribute {
    fn name(self) -> &'static str {
        match self {
            DeploymentAttribute::DeploymentId => "DeploymentId",
        }
    }
}

/// `AWS::ApiGateway::Stage`: a named, callable pointer to a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Stage {
    /// The API.
    pub rest_api_id: Expr,
    /// The deployment it serves.
    pub deployment_id: Expr,
    /// Name, the first segment of the URL path.
    pub stage_name: String,
    /// Shown in the console.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Per-method settings (throttling, logging, caching).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub method_settings: Vec<MethodSetting>,
    /// X-Ray tracing of the stage's requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracing_enabled: Option<bool>,
    /// One line per request in a log group (needs the account's CloudWatch role).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_log_setting: Option<AccessLogSetting>,
}

/// `AccessLogSetting`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AccessLogSetting {
    /// The log group's ARN, without the `:*` its `Arn` attribute ends with.
    pub destination_arn: Expr,
    /// The line's format, with `$context` variables.
    pub format: String,
}

impl ResourceType for Stage {
    const INFO: ResourceInfo = ResourceInfo {
        type_name: "AWS::ApiGateway::Stage",
        stateful: false,
        replaced_by: &["RestApiId", "StageName"],
        not_updatable: &[],
    };
    type Attribute = NoAttributes;
}

/// `MethodSetting`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MethodSetting {
    /// `*` for every method.
    pub http_method: String,
    /// `/*` for every resource.
    pub resource_path: String,
    /// Requests allowed in a burst.
    pub throttling_burst_limit: u32,
    /// Steady requests per second.
    pub throttling_rate_limit: u32,
}
