//! What a template declares about its REST API, read into the routes, authorizers,
//! integrations and gateway responses the emulator serves.

use super::routing::{Segment, match_segments, segments};
use super::throttle::{Bucket, throttle};
use crate::emulator::auth::{UserPool, Verifier};
use crate::emulator::template::LocalTemplate;
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// The REST API of a template, ready to serve.
pub struct Api {
    /// The API's name.
    pub name: String,
    /// Its id (`Ref` of the RestApi).
    pub id: String,
    /// The stage it is deployed to (`requestContext.stage`).
    pub stage: String,
    pub(super) account: String,
    pub(super) binary_media_types: Vec<String>,
    pub(super) stage_variables: Value,
    pub(super) routes: Vec<Route>,
    pub(super) authorizers: HashMap<String, AuthorizerDef>,
    pub(super) responses: HashMap<String, GatewayResponseDef>,
    /// Logical ids of the functions its methods integrate with.
    pub functions: Vec<String>,
    pub(super) throttle: Option<Mutex<Bucket>>,
}

/// A resource of the API: its full path and the methods it has.
#[derive(Debug)]
pub(super) struct Route {
    pub(super) resource_id: String,
    pub(super) path: String,
    pub(super) segments: Vec<Segment>,
    pub(super) methods: BTreeMap<String, MethodDef>,
}

#[derive(Debug)]
pub(super) struct MethodDef {
    pub(super) authorizer: Option<String>,
    pub(super) integration: Integration,
}

#[derive(Debug)]
pub(super) enum Integration {
    /// `AWS_PROXY` to the function with this logical id.
    LambdaProxy(String),
    /// `MOCK`: a canned answer.
    Mock {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
}

pub(super) struct AuthorizerDef {
    pub(super) header: String,
    pub(super) verifier: Verifier,
}

#[derive(Debug, Default, Clone)]
pub(super) struct GatewayResponseDef {
    pub(super) status: Option<u16>,
    pub(super) parameters: Vec<(String, String)>,
    pub(super) template: Option<String>,
}

impl Api {
    /// Reads the template's only REST API; tokens are checked against `jwks`.
    pub fn from_template(template: &LocalTemplate, jwks: &Value) -> Result<Self> {
        let apis: Vec<_> = template.resources("AWS::ApiGateway::RestApi").collect();
        let [(api_logical, api_properties)] = apis.as_slice() else {
            bail!(
                "the template has {} AWS::ApiGateway::RestApi resources; the local gateway serves exactly one",
                apis.len()
            );
        };
        let declared = Declared {
            template,
            api_id: template.reference(api_logical)?,
        };
        let stage = declared.stage()?;
        let paths = declared.resource_paths(template.get_att(api_logical, "RootResourceId")?)?;
        let authorizers = declared.authorizers(jwks)?;
        let (routes, functions) = declared.routes(&paths, &authorizers)?;
        let responses = declared.gateway_responses()?;
        let binary_media_types = template
            .resolve(&api_properties["BinaryMediaTypes"])?
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(|s| s.replace("~1", "/")))
            .collect();
        Ok(Api {
            name: template
                .resolve_string(&api_properties["Name"])
                .unwrap_or_else(|_| api_logical.to_string()),
            id: declared.api_id,
            stage: stage.name,
            account: template.account.clone(),
            binary_media_types,
            stage_variables: stage.variables,
            routes,
            authorizers,
            responses,
            functions,
            throttle: stage.throttle.map(Mutex::new),
        })
    }

    /// Every `(method, path)` the API serves, sorted.
    pub fn operations(&self) -> Vec<(String, String)> {
        let mut ops: Vec<_> = self
            .routes
            .iter()
            .flat_map(|r| r.methods.keys().map(|m| (m.clone(), r.path.clone())))
            .collect();
        ops.sort();
        ops
    }

    /// The route `path` matches (a literal segment beats a parameter beats a greedy one), and
    /// its path parameters.
    pub(super) fn find(&self, path: &str) -> Option<(&Route, BTreeMap<String, String>)> {
        let trimmed = if path.len() > 1 {
            path.strip_suffix('/').unwrap_or(path)
        } else {
            path
        };
        let parts: Vec<&str> = if trimmed == "/" {
            Vec::new()
        } else {
            trimmed[1..].split('/').collect()
        };
        if parts.iter().any(|p| p.is_empty()) {
            return None;
        }
        self.routes
            .iter()
            .filter_map(|route| {
                match_segments(&route.segments, &parts).map(|params| (route, params))
            })
            .min_by(|(a, _), (b, _)| a.segments.cmp(&b.segments))
    }
}

/// The stage the API is deployed to.
struct Stage {
    name: String,
    variables: Value,
    throttle: Option<Bucket>,
}

/// API resource ids with their parent and path part, to spell out full paths.
struct ResourcePaths {
    root_id: String,
    parents: HashMap<String, (String, String)>,
}

impl ResourcePaths {
    /// `/v1/tickets/{id}` for the resource `id`.
    fn path_of(&self, id: &str) -> Result<String> {
        if id == self.root_id {
            return Ok("/".to_owned());
        }
        let mut parts = Vec::new();
        let mut current = id.to_owned();
        while current != self.root_id {
            let (parent, part) = self
                .parents
                .get(&current)
                .with_context(|| format!("API resource {current} has no path to the root"))?;
            parts.push(part.clone());
            current = parent.clone();
            if parts.len() > 64 {
                bail!("API resources form a cycle");
            }
        }
        parts.reverse();
        Ok(format!("/{}", parts.join("/")))
    }
}

/// The resources of the template that belong to one REST API.
struct Declared<'a> {
    template: &'a LocalTemplate,
    api_id: String,
}

impl<'a> Declared<'a> {
    /// `(logical id, Properties)` of the API's resources of type `kind`.
    fn of_type(&self, kind: &'a str) -> Vec<(&'a str, &'a Value)> {
        self.template
            .resources(kind)
            .filter(|(_, properties)| {
                self.template
                    .resolve_string(&properties["RestApiId"])
                    .ok()
                    .as_deref()
                    == Some(self.api_id.as_str())
            })
            .collect()
    }

    fn stage(&self) -> Result<Stage> {
        let (_, properties) = self
            .of_type("AWS::ApiGateway::Stage")
            .into_iter()
            .next()
            .context("the template has no AWS::ApiGateway::Stage for the REST API")?;
        Ok(Stage {
            name: self.template.resolve_string(&properties["StageName"])?,
            variables: self.template.resolve(&properties["Variables"])?,
            throttle: throttle(&self.template.resolve(&properties["MethodSettings"])?),
        })
    }

    fn resource_paths(&self, root_id: String) -> Result<ResourcePaths> {
        let mut parents = HashMap::new();
        for (logical_id, properties) in self.of_type("AWS::ApiGateway::Resource") {
            let id = self.template.reference(logical_id)?;
            let parent = self.template.resolve_string(&properties["ParentId"])?;
            let part = self.template.resolve_string(&properties["PathPart"])?;
            parents.insert(id, (parent, part));
        }
        Ok(ResourcePaths { root_id, parents })
    }

    /// The API's authorizers by id; only Cognito user pools are emulated.
    fn authorizers(&self, jwks: &Value) -> Result<HashMap<String, AuthorizerDef>> {
        let template = self.template;
        let mut authorizers = HashMap::new();
        for (logical_id, properties) in self.of_type("AWS::ApiGateway::Authorizer") {
            let kind = properties["Type"].as_str().unwrap_or_default();
            if kind != "COGNITO_USER_POOLS" {
                bail!(
                    "authorizer {logical_id} is of type {kind}; the local gateway emulates COGNITO_USER_POOLS only"
                );
            }
            let source = template.resolve_string(&properties["IdentitySource"])?;
            let header = source
                .strip_prefix("method.request.header.")
                .with_context(|| {
                    format!(
                        "authorizer {logical_id}: IdentitySource {source:?} is not a request header"
                    )
                })?
                .to_ascii_lowercase();
            let arns = template.resolve(&properties["ProviderARNs"])?;
            let arn = arns
                .as_array()
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .with_context(|| format!("authorizer {logical_id} has no ProviderARNs"))?;
            let pool = UserPool::from_arn(template, arn)?;
            authorizers.insert(
                template.reference(logical_id)?,
                AuthorizerDef {
                    header,
                    verifier: Verifier::new(jwks, &pool)?,
                },
            );
        }
        Ok(authorizers)
    }

    /// The API's routes, each with its methods, and the functions they integrate with.
    fn routes(
        &self,
        paths: &ResourcePaths,
        authorizers: &HashMap<String, AuthorizerDef>,
    ) -> Result<(Vec<Route>, Vec<String>)> {
        let template = self.template;
        let function_arns: Vec<(String, String)> = template
            .resources("AWS::Lambda::Function")
            .map(|(id, _)| Ok((template.get_att(id, "Arn")?, id.to_owned())))
            .collect::<Result<_>>()?;
        let mut routes: BTreeMap<String, Route> = BTreeMap::new();
        let mut functions = Vec::new();
        for (logical_id, properties) in self.of_type("AWS::ApiGateway::Method") {
            let resource_id = template.resolve_string(&properties["ResourceId"])?;
            let path = paths.path_of(&resource_id)?;
            let method = template
                .resolve_string(&properties["HttpMethod"])?
                .to_ascii_uppercase();
            let authorizer = self.method_authorizer(logical_id, properties, authorizers)?;
            let integration = integration(
                template,
                logical_id,
                &properties["Integration"],
                &function_arns,
            )?;
            if let Integration::LambdaProxy(function) = &integration
                && !functions.contains(function)
            {
                functions.push(function.clone());
            }
            let route = routes.entry(path.clone()).or_insert_with(|| Route {
                resource_id: resource_id.clone(),
                segments: segments(&path),
                path,
                methods: BTreeMap::new(),
            });
            route.methods.insert(
                method,
                MethodDef {
                    authorizer,
                    integration,
                },
            );
        }
        Ok((routes.into_values().collect(), functions))
    }

    /// The id of the authorizer that guards method `logical_id`, if any.
    fn method_authorizer(
        &self,
        logical_id: &str,
        properties: &Value,
        authorizers: &HashMap<String, AuthorizerDef>,
    ) -> Result<Option<String>> {
        match properties["AuthorizationType"].as_str().unwrap_or("NONE") {
            "NONE" => Ok(None),
            "COGNITO_USER_POOLS" => {
                let id = self.template.resolve_string(&properties["AuthorizerId"])?;
                if !authorizers.contains_key(&id) {
                    bail!(
                        "method {logical_id} names authorizer {id}, which the template does not define"
                    );
                }
                Ok(Some(id))
            }
            other => bail!(
                "method {logical_id} uses AuthorizationType {other}; the local gateway emulates NONE and COGNITO_USER_POOLS"
            ),
        }
    }

    /// The API's gateway responses by response type.
    fn gateway_responses(&self) -> Result<HashMap<String, GatewayResponseDef>> {
        let template = self.template;
        let mut responses = HashMap::new();
        for (_, properties) in self.of_type("AWS::ApiGateway::GatewayResponse") {
            let kind = template.resolve_string(&properties["ResponseType"])?;
            let status = match properties.get("StatusCode") {
                Some(code) => Some(
                    template
                        .resolve_string(code)?
                        .parse()
                        .context("GatewayResponse StatusCode")?,
                ),
                None => None,
            };
            let parameters = template
                .resolve(&properties["ResponseParameters"])?
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect();
            let template_text =
                template.resolve(&properties["ResponseTemplates"])?["application/json"]
                    .as_str()
                    .map(str::to_owned);
            responses.insert(
                kind,
                GatewayResponseDef {
                    status,
                    parameters,
                    template: template_text,
                },
            );
        }
        Ok(responses)
    }
}

fn integration(
    template: &LocalTemplate,
    method: &str,
    integration: &Value,
    functions: &[(String, String)],
) -> Result<Integration> {
    let kind = integration["Type"].as_str().unwrap_or_default();
    match kind {
        "AWS_PROXY" => {
            let uri = template.resolve_string(&integration["Uri"])?;
            let arn = uri
                .split_once("/functions/")
                .and_then(|(_, rest)| rest.strip_suffix("/invocations"))
                .with_context(|| {
                    format!(
                        "method {method}: integration Uri {uri:?} is not a Lambda invocation URI"
                    )
                })?;
            functions
                .iter()
                .find(|(function_arn, _)| arn == function_arn || arn.starts_with(&format!("{function_arn}:")))
                .map(|(_, id)| Integration::LambdaProxy(id.clone()))
                .with_context(|| format!("method {method} integrates with {arn}, which is not a function of the template"))
        }
        "MOCK" => mock(template, integration),
        other => bail!(
            "method {method} has a {other} integration; the local gateway emulates AWS_PROXY and MOCK"
        ),
    }
}

/// The canned answer of a `MOCK` integration: the status its request template picks, with
/// that status's integration response.
fn mock(template: &LocalTemplate, integration: &Value) -> Result<Integration> {
    let request = template.resolve(&integration["RequestTemplates"])?;
    let status = request["application/json"]
        .as_str()
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| v["statusCode"].as_u64())
        .unwrap_or(200) as u16;
    let responses = template.resolve(&integration["IntegrationResponses"])?;
    let chosen = responses.as_array().into_iter().flatten().find(|r| {
        r["StatusCode"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .or(r["StatusCode"].as_u64().map(|n| n as u16))
            == Some(status)
    });
    let headers = chosen
        .and_then(|r| r["ResponseParameters"].as_object())
        .into_iter()
        .flatten()
        .filter_map(|(name, value)| {
            let name = name.strip_prefix("method.response.header.")?;
            let value = value.as_str()?.strip_prefix('\'')?.strip_suffix('\'')?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect();
    let body = chosen
        .and_then(|r| r["ResponseTemplates"]["application/json"].as_str())
        .unwrap_or("")
        .to_owned();
    Ok(Integration::Mock {
        status,
        headers,
        body,
    })
}
