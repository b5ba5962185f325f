//! The API Gateway REST API: resources and methods from the manifest's routes, the Cognito
//! authorizer, CORS on gateway-made errors, the deployment, and the stage with its access
//! log and tracing.
//! (Over 500 lines: the REST API's resources, methods and deployment reference each other's ids; read together.)

use super::{access_logs, physical_name};
use crate::cfn::apigateway::{
    AuthorizationType, Authorizer, AuthorizerType, Deployment, EndpointConfiguration, EndpointType,
    GatewayResponse, GatewayResponseType, Integration, IntegrationType, Method, MethodSetting,
    Resource as PathResource, RestApi, RestApiAttribute, Stage,
};
use crate::cfn::cognito::{UserPool, UserPoolAttribute};
use crate::cfn::kms::Key;
use crate::cfn::logs::LogGroup;
use crate::cfn::{Expr, LogicalId, Pseudo, Ref, Resource, ResourceType, Template, resource_info};
use crate::environment::{Environment, Origin};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
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
    // carries a digest of everything the snapshot serves.
    let rendered = serde_json::to_value(&*template).expect("a template always serializes");
    let shape = deployment_fingerprint(rendered["Resources"].as_object().unwrap_or(&Map::new()));
    let mut deployment = Resource::new(
        format!("{DEPLOYMENT_PREFIX}{shape}"),
        Deployment {
            rest_api_id: api.reference(),
            description: Some(deployment_description(&shape)),
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

fn deployment_description(shape: &str) -> String {
    format!("API shape {shape}.")
}

/// The types a deployment snapshots.
const SNAPSHOT_TYPES: [&str; 5] = [
    RestApi::INFO.type_name,
    PathResource::INFO.type_name,
    Method::INFO.type_name,
    Authorizer::INFO.type_name,
    GatewayResponse::INFO.type_name,
];

/// A digest of everything the stage serves, for the deployment's logical id (`resources` is
/// a template's `Resources`): the API's own resources as declared, and the identity of
/// every resource they reference, followed through references. A resource's identity is
/// its type and the properties whose change replaces it ([`ResourceInfo::replaced_by`]):
/// what decides whether `Fn::GetAtt UserPool.Arn` or `Fn::GetAtt ApiInvokeRole.Arn` still
/// names the same physical resource. So a user pool, function or role replaced under the
/// same logical id (same template text in the API, a new ARN behind it) takes a new
/// snapshot, and the stage stops serving the old one; a change that keeps every physical
/// resource (a function's memory) does not.
///
/// [`ResourceInfo::replaced_by`]: crate::cfn::ResourceInfo::replaced_by
pub fn deployment_fingerprint(resources: &Map<String, Value>) -> String {
    let type_of = |id: &str| {
        resources
            .get(id)
            .and_then(|r| r["Type"].as_str())
            .unwrap_or_default()
    };
    let served: Vec<&String> = resources
        .keys()
        .filter(|id| SNAPSHOT_TYPES.contains(&type_of(id)))
        .collect();
    let mut hasher = Sha256::new();
    let mut referenced = BTreeSet::new();
    for id in &served {
        hasher.update(id.as_bytes());
        hasher.update(b"\n");
        hasher.update(canonical(&resources[id.as_str()]).as_bytes());
        hasher.update(b"\n");
        referenced.extend(crate::cfn::references(&resources[id.as_str()]));
    }
    // Identities of the referenced resources, and of what their identities reference.
    let mut identities = BTreeMap::new();
    let mut pending: Vec<String> = referenced.into_iter().collect();
    while let Some(id) = pending.pop() {
        if served.iter().any(|s| **s == id)
            || identities.contains_key(&id)
            || !resources.contains_key(&id)
        {
            continue;
        }
        let resource = &resources[&id];
        let kind = type_of(&id);
        let mut identity = kind.to_owned();
        let mut inner = BTreeSet::new();
        for property in resource_info(kind).map_or(&[][..], |info| info.replaced_by) {
            if let Some(value) = resource["Properties"].get(*property) {
                identity.push_str(&format!("|{property}={}", canonical(value)));
                inner.extend(crate::cfn::references(value));
            }
        }
        pending.extend(inner);
        identities.insert(id, identity);
    }
    for (id, identity) in &identities {
        hasher.update(format!("{id}:{identity}\n").as_bytes());
    }
    hex::encode(&hasher.finalize()[..5])
}

/// Gives `template`'s deployment (`ApiDeployment<digest>`) the logical id its digest asks
/// for, after anything edited the template (a physical name changed by the deploy tool, a
/// hand-edited `--template`); references to it follow. Returns the old and the new id
/// when it changed.
pub fn restamp_deployment(template: &mut Value) -> Option<(String, String)> {
    let resources = template.get("Resources")?.as_object()?;
    let old = resources
        .iter()
        .find(|(id, r)| {
            id.starts_with(DEPLOYMENT_PREFIX) && r["Type"] == Deployment::INFO.type_name
        })
        .map(|(id, _)| id.clone())?;
    let shape = deployment_fingerprint(resources);
    let new = format!("{DEPLOYMENT_PREFIX}{shape}");
    if new == old {
        return None;
    }
    let resources = template["Resources"].as_object_mut()?;
    let mut deployment = resources.remove(&old)?;
    deployment["Properties"]["Description"] = Value::String(deployment_description(&shape));
    resources.insert(new.clone(), deployment);
    rename_references(template, &old, &new);
    Some((old, new))
}

/// `Ref`s, `DependsOn` entries and `Fn::GetAtt`s naming `old` now name `new`.
fn rename_references(value: &mut Value, old: &str, new: &str) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                match (key.as_str(), &mut *inner) {
                    ("Ref" | "DependsOn", Value::String(name)) if name == old => {
                        *name = new.to_owned()
                    }
                    ("DependsOn", Value::Array(names)) => {
                        for name in names.iter_mut().filter(|n| *n == old) {
                            *name = Value::String(new.to_owned());
                        }
                    }
                    ("Fn::GetAtt", Value::Array(parts))
                        if parts.first().is_some_and(|p| p == old) =>
                    {
                        parts[0] = Value::String(new.to_owned())
                    }
                    _ => rename_references(inner, old, new),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rename_references(item, old, new)),
        _ => {}
    }
}

/// JSON with object members in name order, whatever order a parser or serializer kept.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let members: BTreeMap<&String, String> =
                map.iter().map(|(k, v)| (k, canonical(v))).collect();
            let inner: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}:{v}", Value::String((*k).clone())))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(canonical).collect::<Vec<_>>().join(",")
        ),
        other => other.to_string(),
    }
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
