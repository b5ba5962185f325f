//! The API Gateway REST API: resources and methods from the manifest's routes, the Cognito
//! authorizer, CORS on gateway-made errors, the deployment, and the stage with its access
//! log and tracing.

use super::{access_logs, physical_name};
use crate::cfn::apigateway::{
    AuthorizationType, Authorizer, AuthorizerType, Deployment, EndpointConfiguration, EndpointType,
    GatewayResponse, GatewayResponseType, Integration, IntegrationType, Method, MethodSetting,
    Resource as PathResource, RestApi, RestApiAttribute, Stage,
};
use crate::cfn::cognito::{UserPool, UserPoolAttribute};
use crate::cfn::kms::Key;
use crate::cfn::logs::LogGroup;
use crate::cfn::{Expr, LogicalId, Pseudo, Ref, Resource, ResourceType, Template};
use crate::environment::{Environment, Origin};
use std::collections::BTreeMap;
use tickets_manifest::cors;
use tickets_manifest::metrics::route_value;
use tickets_manifest::routes::{self, ROUTES};

/// Logical id of the REST API.
pub const REST_API: &str = "RestApi";
/// Logical id of the Cognito authorizer.
pub const AUTHORIZER: &str = "CognitoAuthorizer";
/// Prefix of the deployment's logical id, followed by a digest of the API's shape.
pub const DEPLOYMENT_PREFIX: &str = "ApiDeployment";
/// Logical id of the stage.
pub const STAGE: &str = "ApiStage";
/// `Metadata` key of each method naming the operation it serves (`GET /v1/tickets/{id}`, the
/// `Route` of the function's metrics), so policy rules can match methods with alarms.
pub const ROUTE_METADATA: &str = "Route";

/// Where the header carrying the Cognito token is read.
const IDENTITY_SOURCE: &str = "method.request.header.Authorization";

/// What the rest of the stack needs from the API.
pub struct Api {
    /// Base URL, stage included.
    pub url: Expr,
    /// The REST API.
    pub rest_api: Ref<RestApi>,
    /// The stage.
    pub stage: Ref<Stage>,
    /// The stage's access log group, when access logs are on.
    pub access_logs: Option<Ref<LogGroup>>,
}

/// The REST API's name, the `ApiName` of its CloudWatch metrics.
pub fn api_name() -> Expr {
    physical_name("api")
}

/// `GET /v1/tickets/{id}` → `GetV1TicketsById`: names of what is declared per operation.
pub fn operation_id(method: routes::Method, path: &str) -> String {
    let resource = resource_logical_id(path);
    format!(
        "{}{}",
        pascal_case(method.as_str()),
        resource.strip_prefix("Api").unwrap_or(&resource)
    )
}

/// What the methods call, and as whom.
pub struct Backend {
    /// The function's or its alias's ARN.
    pub target: Expr,
    /// The ARN of the role API Gateway assumes to invoke it.
    pub role: Expr,
}

/// Declares the REST API and everything that serves it; methods invoke `backend`.
pub fn rest_api(
    template: &mut Template,
    environment: &Environment,
    backend: &Backend,
    user_pool: &Ref<UserPool>,
    key: Option<&Ref<Key>>,
) -> Api {
    let api = template.add(Resource::new(
        REST_API,
        RestApi {
            name: api_name(),
            description: Some(format!("Ticket API ({}).", environment.name)),
            endpoint_configuration: Some(EndpointConfiguration {
                types: vec![EndpointType::Regional],
            }),
        },
    ));
    let authorizer = template.add(Resource::new(
        AUTHORIZER,
        Authorizer {
            name: "cognito".to_owned(),
            rest_api_id: api.reference(),
            kind: AuthorizerType::CognitoUserPools,
            identity_source: IDENTITY_SOURCE.to_owned(),
            provider_arns: vec![user_pool.get_att(UserPoolAttribute::Arn)],
        },
    ));
    let methods = methods(template, &api, &authorizer, backend);
    let responses = gateway_responses(template, &api, environment);
    let deployment = deployment(template, &api, &methods, &responses);
    let access_logs = environment
        .observability
        .access_logs
        .then(|| access_logs::log_group(template, environment, key));
    let stage = stage(
        template,
        &api,
        &deployment,
        environment,
        access_logs.as_ref(),
    );

    Api {
        url: crate::sub!(
            "https://",
            &api,
            ".execute-api.",
            Pseudo::Region,
            ".",
            Pseudo::UrlSuffix,
            "/",
            environment.name.as_str()
        ),
        rest_api: api,
        stage,
        access_logs,
    }
}

/// One method per route and HTTP method of the manifest, each proxying to the function;
/// all but preflight behind the Cognito authorizer.
fn methods(
    template: &mut Template,
    api: &Ref<RestApi>,
    authorizer: &Ref<Authorizer>,
    backend: &Backend,
) -> Vec<Ref<Method>> {
    let invoke_uri = crate::sub!(
        "arn:",
        Pseudo::Partition,
        ":apigateway:",
        Pseudo::Region,
        ":lambda:path/2015-03-31/functions/",
        &backend.target,
        "/invocations"
    );
    let paths = path_resources(template, api);
    let mut methods = Vec::new();
    for route in ROUTES {
        let resource = &paths
            .iter()
            .find(|(path, _)| path == route.path)
            .expect("every route's path was declared")
            .1;
        for method in route.methods {
            let (authorization_type, authorizer_id) = if method.requires_identity() {
                (
                    AuthorizationType::CognitoUserPools,
                    Some(authorizer.reference()),
                )
            } else {
                (AuthorizationType::None, None)
            };
            let declared = Resource::new(
                format!("{}{}", resource.logical_id(), pascal_case(method.as_str())),
                Method {
                    rest_api_id: api.reference(),
                    resource_id: resource.reference(),
                    http_method: method.as_str().to_owned(),
                    authorization_type,
                    authorizer_id,
                    // The function answers every method, preflight included.
                    integration: Integration {
                        kind: IntegrationType::AwsProxy,
                        integration_http_method: "POST".to_owned(),
                        uri: invoke_uri.clone(),
                        credentials: Some(backend.role.clone()),
                    },
                },
            )
            .metadata(ROUTE_METADATA, route_value(method.as_str(), route.path));
            methods.push(template.add(declared));
        }
    }
    methods
}

/// CORS headers on the errors API Gateway answers itself.
fn gateway_responses(
    template: &mut Template,
    api: &Ref<RestApi>,
    environment: &Environment,
) -> Vec<Ref<GatewayResponse>> {
    [
        GatewayResponseType::Default4xx,
        GatewayResponseType::Default5xx,
    ]
    .into_iter()
    .map(|response_type| {
        template.add(Resource::new(
            format!("GatewayResponse{}", pascal_case(response_type.as_str())),
            GatewayResponse {
                rest_api_id: api.reference(),
                response_type,
                response_parameters: cors_headers(environment),
            },
        ))
    })
    .collect()
}

/// The deployment: a snapshot of the API, taken after every method and gateway response
/// exists (or the first deployment would serve without them).
fn deployment(
    template: &mut Template,
    api: &Ref<RestApi>,
    methods: &[Ref<Method>],
    responses: &[Ref<GatewayResponse>],
) -> Ref<Deployment> {
    // CloudFormation only takes a new snapshot when the resource is new, so its logical id
    // carries a digest of everything the snapshot contains.
    let shape = template.fingerprint(|entry| {
        [
            RestApi::INFO.type_name,
            PathResource::INFO.type_name,
            Method::INFO.type_name,
            Authorizer::INFO.type_name,
            GatewayResponse::INFO.type_name,
        ]
        .contains(&entry.type_name())
    });
    let mut deployment = Resource::new(
        format!("{DEPLOYMENT_PREFIX}{shape}"),
        Deployment {
            rest_api_id: api.reference(),
            description: Some(format!("API shape {shape}.")),
        },
    );
    for method in methods {
        deployment = deployment.depends_on(method);
    }
    for response in responses {
        deployment = deployment.depends_on(response);
    }
    template.add(deployment)
}

/// The stage named after the environment, with its throttling, tracing and access log.
fn stage(
    template: &mut Template,
    api: &Ref<RestApi>,
    deployment: &Ref<Deployment>,
    environment: &Environment,
    access_logs: Option<&Ref<LogGroup>>,
) -> Ref<Stage> {
    template.add(Resource::new(
        STAGE,
        Stage {
            rest_api_id: api.reference(),
            deployment_id: deployment.reference(),
            stage_name: environment.name.clone(),
            description: Some(format!("Ticket API ({}).", environment.name)),
            method_settings: vec![MethodSetting {
                http_method: "*".to_owned(),
                resource_path: "/*".to_owned(),
                throttling_burst_limit: environment.api_throttling.burst_limit.get(),
                throttling_rate_limit: environment.api_throttling.rate_limit.get(),
            }],
            tracing_enabled: Some(environment.observability.tracing),
            access_log_setting: access_logs.map(access_logs::setting),
        },
    ))
}

/// Declares one resource per path segment of the routes, parents first.
fn path_resources(template: &mut Template, api: &Ref<RestApi>) -> Vec<(String, Ref<PathResource>)> {
    let mut declared: Vec<(String, Ref<PathResource>)> = Vec::new();
    for route in ROUTES {
        let mut parent = String::new();
        for segment in route.path.trim_start_matches('/').split('/') {
            let path = format!("{parent}/{segment}");
            if !declared.iter().any(|(known, _)| *known == path) {
                let parent_id = match declared.iter().find(|(known, _)| *known == parent) {
                    Some((_, resource)) => resource.reference(),
                    None => api.get_att(RestApiAttribute::RootResourceId),
                };
                let handle = template.add(Resource::new(
                    resource_logical_id(&path),
                    PathResource {
                        rest_api_id: api.reference(),
                        parent_id,
                        path_part: segment.to_owned(),
                    },
                ));
                declared.push((path.clone(), handle));
            }
            parent = path;
        }
    }
    declared
}

/// `/v1/tickets/{id}` → `ApiV1TicketsById`.
fn resource_logical_id(path: &str) -> String {
    let mut id = String::from("Api");
    for segment in path.split('/').filter(|s| !s.is_empty()) {
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(parameter) => {
                id.push_str("By");
                id.push_str(&pascal_case(parameter));
            }
            None => id.push_str(&pascal_case(segment)),
        }
    }
    id
}

/// `DEFAULT_4XX` → `Default4xx`, `tickets` → `Tickets`.
fn pascal_case(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let lower = word.to_ascii_lowercase();
            let mut chars = lower.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// CORS headers of the errors API Gateway produces itself (401 without a token, 403, 429,
/// 5xx), so browsers can read them.
///
/// API Gateway cannot check the caller's `Origin` against a list here: it can send a
/// literal, or echo the request's `Origin` unchecked (which allows every site, like `*`).
/// So an environment that allows any origin sends `'*'`, and one with a list sends its
/// first origin (the main web app); other listed origins still get CORS headers on
/// every response the function produces, which is all but these errors.
fn cors_headers(environment: &Environment) -> BTreeMap<String, String> {
    let origin = if environment.allows_any_origin() {
        Some(cors::ANY_ORIGIN)
    } else {
        environment
            .allowed_origins
            .iter()
            .find_map(|origin| match origin {
                Origin::Exact(value) => Some(value.as_str()),
                Origin::Any => None,
            })
    };
    // Gateway response header values are single-quoted literals.
    let quoted = |value: &str| format!("'{value}'");
    let mut headers = BTreeMap::from([
        (
            "gatewayresponse.header.Access-Control-Allow-Headers".to_owned(),
            quoted(&cors::allow_headers_value()),
        ),
        (
            "gatewayresponse.header.Access-Control-Allow-Methods".to_owned(),
            quoted(&cors::allow_methods_value()),
        ),
    ]);
    if let Some(origin) = origin {
        headers.insert(
            "gatewayresponse.header.Access-Control-Allow-Origin".to_owned(),
            quoted(origin),
        );
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resources_after_their_path() {
        assert_eq!(resource_logical_id("/v1"), "ApiV1");
        assert_eq!(resource_logical_id("/v1/tickets/{id}"), "ApiV1TicketsById");
        assert_eq!(pascal_case("DEFAULT_4XX"), "Default4xx");
        assert_eq!(pascal_case("OPTIONS"), "Options");
        assert_eq!(
            operation_id(routes::Method::Patch, "/v1/tickets/{id}"),
            "PatchV1TicketsById"
        );
    }
}
