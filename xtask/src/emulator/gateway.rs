//! An API Gateway REST API, emulated from a rendered template: routes from its
//! `AWS::ApiGateway::Resource`/`Method`s, Cognito authorizers, gateway responses and the
//! service limits, each request turned into the REST proxy event Lambda would receive and
//! the function's answer turned back into the HTTP response.
//!
//! A path or method the template lacks answers `403 Missing Authentication Token` and a
//! method with an authorizer refuses a missing or invalid token with `401`, exactly as the
//! deployed API does, so the template is tested with every local request.

use super::auth::{self, UserPool, Verifier};
use super::runtime_api::InvokeError;
use super::template::LocalTemplate;
use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

/// API Gateway's largest request payload.
pub const MAX_PAYLOAD: usize = 10 * 1024 * 1024;
/// API Gateway's limit on the request line and headers together.
pub const MAX_HEADER_SECTION: usize = 10 * 1024;
/// API Gateway's integration timeout for REST APIs.
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);

/// Runs the functions the API integrates with.
pub trait Backend: Send + Sync + 'static {
    /// Invokes function `logical_id` (its logical id in the template) with a proxy event.
    fn invoke(
        &self,
        logical_id: &str,
        event: Bytes,
    ) -> Pin<Box<dyn Future<Output = Result<Bytes, InvokeError>> + Send + '_>>;
}

/// One path segment of a resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    // Declared in matching priority: a literal beats a parameter beats a greedy parameter.
    Literal(String),
    Param(String),
    Greedy(String),
}

#[derive(Debug)]
struct Route {
    resource_id: String,
    path: String,
    segments: Vec<Segment>,
    methods: BTreeMap<String, MethodDef>,
}

#[derive(Debug)]
struct MethodDef {
    authorizer: Option<String>,
    integration: Integration,
}

#[derive(Debug)]
enum Integration {
    /// `AWS_PROXY` to the function with this logical id.
    LambdaProxy(String),
    /// `MOCK`: a canned answer.
    Mock {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
}

struct AuthorizerDef {
    header: String,
    verifier: Verifier,
}

#[derive(Debug, Default, Clone)]
struct GatewayResponseDef {
    status: Option<u16>,
    parameters: Vec<(String, String)>,
    template: Option<String>,
}

/// The REST API of a template, ready to serve.
pub struct Api {
    /// The API's name.
    pub name: String,
    /// Its id (`Ref` of the RestApi).
    pub id: String,
    /// The stage it is deployed to (`requestContext.stage`).
    pub stage: String,
    account: String,
    binary_media_types: Vec<String>,
    stage_variables: Value,
    routes: Vec<Route>,
    authorizers: HashMap<String, AuthorizerDef>,
    responses: HashMap<String, GatewayResponseDef>,
    /// Logical ids of the functions its methods integrate with.
    pub functions: Vec<String>,
    throttle: Option<std::sync::Mutex<Bucket>>,
}

/// The stage's request rate limit: a token bucket refilled at `rate` per second up to `burst`.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn admit(&mut self) -> bool {
        let now = Instant::now();
        self.tokens =
            (self.tokens + self.rate * now.duration_since(self.last).as_secs_f64()).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The stage-wide limit of `MethodSettings` (`HttpMethod: "*"`, `ResourcePath: "/*"`), if any.
fn throttle(method_settings: &Value) -> Option<Bucket> {
    let all = method_settings
        .as_array()?
        .iter()
        .find(|s| s["HttpMethod"] == "*" && s["ResourcePath"] == "/*")?;
    let rate = all["ThrottlingRateLimit"].as_f64()?;
    let burst = all["ThrottlingBurstLimit"]
        .as_f64()
        .unwrap_or(rate)
        .max(1.0);
    Some(Bucket {
        rate,
        burst,
        tokens: burst,
        last: Instant::now(),
    })
}

/// Something API Gateway itself answers, by gateway response type.
struct GatewayError {
    kind: &'static str,
    status: u16,
    message: &'static str,
    error_type: Option<&'static str>,
}

const MISSING_AUTHENTICATION_TOKEN: GatewayError = GatewayError {
    kind: "MISSING_AUTHENTICATION_TOKEN",
    status: 403,
    message: "Missing Authentication Token",
    error_type: Some("MissingAuthenticationTokenException"),
};
const UNAUTHORIZED: GatewayError = GatewayError {
    kind: "UNAUTHORIZED",
    status: 401,
    message: "Unauthorized",
    error_type: Some("UnauthorizedException"),
};
const REQUEST_TOO_LARGE: GatewayError = GatewayError {
    kind: "REQUEST_TOO_LARGE",
    status: 413,
    message: "Request Too Long",
    error_type: None,
};
const HEADERS_TOO_LARGE: GatewayError = GatewayError {
    kind: "DEFAULT_4XX",
    status: 431,
    message: "Request Header Fields Too Large",
    error_type: None,
};
const THROTTLED: GatewayError = GatewayError {
    kind: "THROTTLED",
    status: 429,
    message: "Too Many Requests",
    error_type: None,
};
const BAD_REQUEST_BODY: GatewayError = GatewayError {
    kind: "BAD_REQUEST_BODY",
    status: 400,
    message: "Invalid request body",
    error_type: None,
};
const FUNCTION_FAILED: GatewayError = GatewayError {
    kind: "DEFAULT_5XX",
    status: 502,
    message: "Internal server error",
    error_type: None,
};
const INTEGRATION_TIMED_OUT: GatewayError = GatewayError {
    kind: "INTEGRATION_TIMEOUT",
    status: 504,
    message: "Endpoint request timed out",
    error_type: None,
};

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
        let api_id = template.reference(api_logical)?;
        let belongs = |properties: &Value| {
            template
                .resolve_string(&properties["RestApiId"])
                .ok()
                .as_deref()
                == Some(api_id.as_str())
        };

        let (_, stage_properties) = template
            .resources("AWS::ApiGateway::Stage")
            .find(|(_, p)| belongs(p))
            .context("the template has no AWS::ApiGateway::Stage for the REST API")?;
        let stage = template.resolve_string(&stage_properties["StageName"])?;
        let stage_variables = template.resolve(&stage_properties["Variables"])?;
        let throttle = throttle(&template.resolve(&stage_properties["MethodSettings"])?);

        // Resource ids → full paths, from the root down.
        let root_id = template.get_att(api_logical, "RootResourceId")?;
        let mut parents: HashMap<String, (String, String)> = HashMap::new();
        for (logical_id, properties) in template
            .resources("AWS::ApiGateway::Resource")
            .filter(|(_, p)| belongs(p))
        {
            let id = template.reference(logical_id)?;
            let parent = template.resolve_string(&properties["ParentId"])?;
            let part = template.resolve_string(&properties["PathPart"])?;
            parents.insert(id, (parent, part));
        }
        let path_of = |id: &str| -> Result<String> {
            let mut parts = Vec::new();
            let mut current = id.to_owned();
            while current != root_id {
                let (parent, part) = parents
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
        };

        let mut authorizers = HashMap::new();
        for (logical_id, properties) in template
            .resources("AWS::ApiGateway::Authorizer")
            .filter(|(_, p)| belongs(p))
        {
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

        let function_arns: Vec<(String, String)> = template
            .resources("AWS::Lambda::Function")
            .map(|(id, _)| Ok((template.get_att(id, "Arn")?, id.to_owned())))
            .collect::<Result<_>>()?;
        let mut routes: BTreeMap<String, Route> = BTreeMap::new();
        let mut functions = Vec::new();
        for (logical_id, properties) in template
            .resources("AWS::ApiGateway::Method")
            .filter(|(_, p)| belongs(p))
        {
            let resource_id = template.resolve_string(&properties["ResourceId"])?;
            let path = if resource_id == root_id {
                "/".to_owned()
            } else {
                path_of(&resource_id)?
            };
            let method = template
                .resolve_string(&properties["HttpMethod"])?
                .to_ascii_uppercase();
            let authorization = properties["AuthorizationType"].as_str().unwrap_or("NONE");
            let authorizer = match authorization {
                "NONE" => None,
                "COGNITO_USER_POOLS" => {
                    let id = template.resolve_string(&properties["AuthorizerId"])?;
                    if !authorizers.contains_key(&id) {
                        bail!(
                            "method {logical_id} names authorizer {id}, which the template does not define"
                        );
                    }
                    Some(id)
                }
                other => bail!(
                    "method {logical_id} uses AuthorizationType {other}; the local gateway emulates NONE and COGNITO_USER_POOLS"
                ),
            };
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

        let mut responses = HashMap::new();
        for (_, properties) in template
            .resources("AWS::ApiGateway::GatewayResponse")
            .filter(|(_, p)| belongs(p))
        {
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
            id: api_id,
            stage,
            account: template.account.clone(),
            binary_media_types,
            stage_variables,
            routes: routes.into_values().collect(),
            authorizers,
            responses,
            functions,
            throttle: throttle.map(std::sync::Mutex::new),
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

    fn find(&self, path: &str) -> Option<(&Route, BTreeMap<String, String>)> {
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

    /// Answers one request as API Gateway would.
    pub async fn handle<B, Body>(
        &self,
        backend: &B,
        request: Request<Body>,
        client: SocketAddr,
    ) -> Response<Full<Bytes>>
    where
        B: Backend,
        Body: hyper::body::Body<Data = Bytes>,
        Body::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let request_id = uuid::Uuid::new_v4().to_string();
        let (parts, body) = request.into_parts();
        let header_section = parts.method.as_str().len()
            + parts.uri.to_string().len()
            + parts
                .headers
                .iter()
                .map(|(k, v)| k.as_str().len() + v.len() + 4)
                .sum::<usize>();
        if header_section > MAX_HEADER_SECTION {
            return self.gateway_error(&HEADERS_TOO_LARGE, &parts.headers, &request_id);
        }
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_PAYLOAD) {
            return self.gateway_error(&REQUEST_TOO_LARGE, &parts.headers, &request_id);
        }
        let body = match Limited::new(body, MAX_PAYLOAD).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(err) if err.is::<http_body_util::LengthLimitError>() => {
                return self.gateway_error(&REQUEST_TOO_LARGE, &parts.headers, &request_id);
            }
            Err(_) => return self.gateway_error(&BAD_REQUEST_BODY, &parts.headers, &request_id),
        };

        if let Some(bucket) = &self.throttle
            && !bucket.lock().map(|mut b| b.admit()).unwrap_or(true)
        {
            return self.gateway_error(&THROTTLED, &parts.headers, &request_id);
        }
        let path = parts.uri.path();
        let Some((route, path_parameters)) = self.find(path) else {
            return self.gateway_error(&MISSING_AUTHENTICATION_TOKEN, &parts.headers, &request_id);
        };
        let Some(method) = route
            .methods
            .get(parts.method.as_str())
            .or_else(|| route.methods.get("ANY"))
        else {
            return self.gateway_error(&MISSING_AUTHENTICATION_TOKEN, &parts.headers, &request_id);
        };

        let claims = match &method.authorizer {
            None => None,
            Some(id) => {
                let authorizer = &self.authorizers[id];
                let token = parts
                    .headers
                    .get(authorizer.header.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim);
                let token = token
                    .map(|t| t.strip_prefix("Bearer ").unwrap_or(t))
                    .filter(|t| !t.is_empty());
                match token.map(|t| authorizer.verifier.verify(t)) {
                    Some(Ok(claims)) => Some(auth::claims_for_function(&claims)),
                    _ => return self.gateway_error(&UNAUTHORIZED, &parts.headers, &request_id),
                }
            }
        };

        match &method.integration {
            Integration::Mock {
                status,
                headers,
                body,
            } => {
                let mut response = Response::new(Full::new(Bytes::from(body.clone())));
                *response.status_mut() = StatusCode::from_u16(*status).unwrap_or(StatusCode::OK);
                for (name, value) in headers {
                    append(response.headers_mut(), name, value);
                }
                self.finish(response, &request_id)
            }
            Integration::LambdaProxy(function) => {
                let event = self.event(
                    &parts,
                    &body,
                    route,
                    path_parameters,
                    claims,
                    &request_id,
                    client,
                );
                let event = Bytes::from(serde_json::to_vec(&event).unwrap_or_default());
                match tokio::time::timeout(INTEGRATION_TIMEOUT, backend.invoke(function, event))
                    .await
                {
                    Err(_) => {
                        self.gateway_error(&INTEGRATION_TIMED_OUT, &parts.headers, &request_id)
                    }
                    Ok(Err(err)) => {
                        eprintln!("gateway: {} {path}: {err}", parts.method);
                        self.gateway_error(&FUNCTION_FAILED, &parts.headers, &request_id)
                    }
                    Ok(Ok(answer)) => match proxy_response(&answer) {
                        Ok(response) => self.finish(response, &request_id),
                        Err(err) => {
                            eprintln!(
                                "gateway: {} {path}: malformed Lambda proxy response: {err:#}",
                                parts.method
                            );
                            self.gateway_error(&FUNCTION_FAILED, &parts.headers, &request_id)
                        }
                    },
                }
            }
        }
    }

    /// The REST proxy event of a request.
    #[allow(clippy::too_many_arguments)]
    fn event(
        &self,
        parts: &http::request::Parts,
        body: &Bytes,
        route: &Route,
        path_parameters: BTreeMap<String, String>,
        claims: Option<Map<String, Value>>,
        request_id: &str,
        client: SocketAddr,
    ) -> Value {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let trace_id = format!(
            "Root=1-{:08x}-{}",
            now.as_secs(),
            &uuid::Uuid::new_v4().simple().to_string()[..24]
        );
        let mut headers = Map::new();
        let mut multi_headers: Map<String, Value> = Map::new();
        let mut add = |name: &str, value: String| {
            headers.insert(name.to_owned(), Value::String(value.clone()));
            if let Value::Array(values) = multi_headers
                .entry(name.to_owned())
                .or_insert_with(|| json!([]))
            {
                values.push(Value::String(value));
            }
        };
        for (name, value) in &parts.headers {
            add(
                canonical(name.as_str()).as_str(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            );
        }
        // What API Gateway adds on its way to the integration.
        add("X-Amzn-Trace-Id", trace_id);
        add("X-Forwarded-For", client.ip().to_string());
        add(
            "X-Forwarded-Port",
            parts
                .headers
                .get("host")
                .and_then(|h| h.to_str().ok()?.rsplit_once(':'))
                .map_or("80".into(), |(_, p)| p.to_owned()),
        );
        add("X-Forwarded-Proto", "http".into());

        let (query, multi_query) = match parts.uri.query() {
            None | Some("") => (Value::Null, Value::Null),
            Some(text) => {
                let mut single = Map::new();
                let mut multi: Map<String, Value> = Map::new();
                for (name, value) in form_urlencoded::parse(text.as_bytes()) {
                    single.insert(name.to_string(), json!(value));
                    if let Value::Array(values) =
                        multi.entry(name.to_string()).or_insert_with(|| json!([]))
                    {
                        values.push(json!(value));
                    }
                }
                (Value::Object(single), Value::Object(multi))
            }
        };

        let content_type = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let (body, base64) = if body.is_empty() {
            (Value::Null, false)
        } else if self.is_binary(content_type) {
            (json!(BASE64.encode(body)), true)
        } else {
            match std::str::from_utf8(body) {
                Ok(text) => (json!(text), false),
                Err(_) => (json!(BASE64.encode(body)), true),
            }
        };

        let host = parts
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or("127.0.0.1")
            .to_owned();
        let user_agent = parts
            .headers
            .get("user-agent")
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned);
        let authorizer = claims.map(|claims| json!({"claims": claims}));
        let path = parts.uri.path();
        json!({
            "resource": route.path,
            "path": path,
            "httpMethod": parts.method.as_str(),
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "pathParameters": if path_parameters.is_empty() { Value::Null } else { json!(path_parameters) },
            "stageVariables": self.stage_variables,
            "requestContext": {
                "resourceId": route.resource_id,
                "resourcePath": route.path,
                "httpMethod": parts.method.as_str(),
                "extendedRequestId": format!("{}=", &uuid::Uuid::new_v4().simple().to_string()[..15]),
                "requestTime": request_time(now.as_secs() as i64),
                // Served at the root locally, so the path the client used has no stage in it.
                "path": path,
                "accountId": self.account,
                "protocol": format!("{:?}", parts.version),
                "stage": self.stage,
                "domainPrefix": host.split('.').next().unwrap_or_default(),
                "requestTimeEpoch": now.as_millis() as u64,
                "requestId": request_id,
                "identity": {
                    "cognitoIdentityPoolId": null, "accountId": null, "cognitoIdentityId": null, "caller": null,
                    "sourceIp": client.ip().to_string(), "principalOrgId": null, "accessKey": null,
                    "cognitoAuthenticationType": null, "cognitoAuthenticationProvider": null,
                    "userArn": null, "userAgent": user_agent, "user": null
                },
                "domainName": host,
                "apiId": self.id,
                "authorizer": authorizer,
            },
            "body": body,
            "isBase64Encoded": base64,
        })
    }

    fn is_binary(&self, content_type: &str) -> bool {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        self.binary_media_types.iter().any(|pattern| {
            let pattern = pattern.to_ascii_lowercase();
            match pattern.strip_suffix("/*") {
                Some("*") => true,
                Some(prefix) => essence.split('/').next() == Some(prefix),
                None => essence == pattern,
            }
        })
    }

    /// Headers API Gateway adds to every answer.
    fn finish(
        &self,
        mut response: Response<Full<Bytes>>,
        request_id: &str,
    ) -> Response<Full<Bytes>> {
        let headers = response.headers_mut();
        append(headers, "x-amzn-RequestId", request_id);
        append(
            headers,
            "x-amz-apigw-id",
            &format!("{}=", &uuid::Uuid::new_v4().simple().to_string()[..15]),
        );
        if !headers.contains_key(http::header::CONTENT_TYPE) {
            append(headers, "content-type", "application/json");
        }
        response
    }

    /// API Gateway's own answer, customised by the template's gateway responses.
    fn gateway_error(
        &self,
        error: &GatewayError,
        request_headers: &HeaderMap,
        request_id: &str,
    ) -> Response<Full<Bytes>> {
        let fallback = if error.status >= 500 {
            "DEFAULT_5XX"
        } else {
            "DEFAULT_4XX"
        };
        let defined = self.responses.get(error.kind);
        let default = self.responses.get(fallback).cloned().unwrap_or_default();
        let status = defined
            .and_then(|d| d.status)
            .or(default.status)
            .unwrap_or(error.status);
        let mut parameters = default.parameters.clone();
        if let Some(defined) = defined {
            parameters.retain(|(name, _)| !defined.parameters.iter().any(|(n, _)| n == name));
            parameters.extend(defined.parameters.iter().cloned());
        }
        let body_template = defined
            .and_then(|d| d.template.clone())
            .or(default.template)
            .unwrap_or_else(|| "{\"message\":$context.error.messageString}".into());
        let body = body_template
            .replace(
                "$context.error.messageString",
                &Value::String(error.message.into()).to_string(),
            )
            .replace("$context.error.message", error.message)
            .replace("$context.requestId", request_id)
            .replace("$context.error.responseType", error.kind);
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
        let headers = response.headers_mut();
        for (name, source) in parameters {
            let Some(name) = name.strip_prefix("gatewayresponse.header.") else {
                continue;
            };
            let value = if let Some(literal) =
                source.strip_prefix('\'').and_then(|s| s.strip_suffix('\''))
            {
                Some(literal.to_owned())
            } else if let Some(header) = source.strip_prefix("method.request.header.") {
                request_headers
                    .get(header)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            } else {
                None
            };
            if let Some(value) = value {
                append(headers, name, &value);
            }
        }
        if let Some(kind) = error.error_type {
            append(headers, "x-amzn-ErrorType", kind);
        }
        self.finish(response, request_id)
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
        "MOCK" => {
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
        other => bail!(
            "method {method} has a {other} integration; the local gateway emulates AWS_PROXY and MOCK"
        ),
    }
}

fn segments(path: &str) -> Vec<Segment> {
    path.split('/')
        .filter(|p| !p.is_empty())
        .map(
            |part| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => match name.strip_suffix('+') {
                    Some(name) => Segment::Greedy(name.to_owned()),
                    None => Segment::Param(name.to_owned()),
                },
                None => Segment::Literal(part.to_owned()),
            },
        )
        .collect()
}

fn match_segments(segments: &[Segment], parts: &[&str]) -> Option<BTreeMap<String, String>> {
    let mut params = BTreeMap::new();
    for (i, segment) in segments.iter().enumerate() {
        match segment {
            Segment::Greedy(name) => {
                if i >= parts.len() {
                    return None;
                }
                let rest: Vec<String> = parts[i..].iter().map(|p| percent_decode(p)).collect();
                params.insert(name.clone(), rest.join("/"));
                return Some(params);
            }
            Segment::Literal(literal) => {
                if parts.get(i).map(|p| percent_decode(p)) != Some(literal.clone()) {
                    return None;
                }
            }
            Segment::Param(name) => {
                params.insert(name.clone(), percent_decode(parts.get(i)?));
            }
        }
    }
    (segments.len() == parts.len()).then_some(params)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `content-type` → `Content-Type`, as browsers and curl send them on the wire.
fn canonical(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// `29/Nov/2026:05:12:54 +0000`
fn request_time(epoch: i64) -> String {
    let format = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    );
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

fn append(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        headers.append(name, value);
    }
}

/// The HTTP response a Lambda proxy answer describes.
fn proxy_response(answer: &[u8]) -> Result<Response<Full<Bytes>>> {
    let json: Value = serde_json::from_slice(answer).context("not JSON")?;
    let status = json["statusCode"]
        .as_u64()
        .or_else(|| json["statusCode"].as_str()?.parse().ok())
        .context("no statusCode")?;
    let body = match (
        &json["body"],
        json["isBase64Encoded"].as_bool().unwrap_or(false),
    ) {
        (Value::String(text), true) => BASE64.decode(text).context("body is not base64")?,
        (Value::String(text), false) => text.clone().into_bytes(),
        (Value::Null, _) => Vec::new(),
        (other, _) => bail!("body is not a string: {other}"),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        StatusCode::from_u16(status as u16).context("statusCode is not an HTTP status")?;
    let headers = response.headers_mut();
    if let Some(multi) = json["multiValueHeaders"].as_object() {
        for (name, values) in multi {
            for value in values.as_array().into_iter().flatten() {
                append(
                    headers,
                    name,
                    &value
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| value.to_string()),
                );
            }
        }
    }
    if let Some(single) = json["headers"].as_object() {
        for (name, value) in single {
            if !headers.contains_key(name.to_ascii_lowercase().as_str()) {
                append(
                    headers,
                    name,
                    &value
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| value.to_string()),
                );
            }
        }
    }
    Ok(response)
}

/// Serves `api` on `listener` until `shutdown` turns true, then lets running requests finish
/// (at most `drain`). Logs one line per request on stdout when `log` is set.
pub async fn serve<B: Backend>(
    api: Arc<Api>,
    backend: Arc<B>,
    listener: TcpListener,
    mut shutdown: watch::Receiver<bool>,
    log: bool,
    drain: Duration,
) {
    let (alive, mut all_done) = mpsc::channel::<()>(1);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stopping(&mut shutdown) => break,
        };
        let Ok((stream, client)) = accepted else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (api, backend, alive, mut shutdown) = (
            api.clone(),
            backend.clone(),
            alive.clone(),
            shutdown.clone(),
        );
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let (api, backend) = (api.clone(), backend.clone());
                async move {
                    let started = Instant::now();
                    let (method, path) =
                        (request.method().clone(), request.uri().path().to_owned());
                    let response = api.handle(backend.as_ref(), request, client).await;
                    if log {
                        log_line(&method, &path, response.status(), started.elapsed());
                    }
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                () = stopping(&mut shutdown) => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
            drop(alive);
        });
    }
    drop(alive);
    let _ = tokio::time::timeout(drain, all_done.recv()).await;
}

/// Resolves once `shutdown` turns true (or its sender is gone).
async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

fn log_line(method: &Method, path: &str, status: StatusCode, elapsed: Duration) {
    println!(
        "{method} {path} {} {:.1} ms",
        status.as_u16(),
        elapsed.as_secs_f64() * 1000.0
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emulator::auth::{SigningKey, TokenRequest};
    use std::sync::Mutex;

    /// Records the events it receives and answers with `answer` (or fails when `None`).
    struct FakeFunction {
        events: Mutex<Vec<Value>>,
        answer: Option<Value>,
    }

    impl Backend for FakeFunction {
        fn invoke(
            &self,
            _: &str,
            event: Bytes,
        ) -> Pin<Box<dyn Future<Output = Result<Bytes, InvokeError>> + Send + '_>> {
            self.events
                .lock()
                .unwrap()
                .push(serde_json::from_slice(&event).unwrap());
            let answer = self.answer.clone();
            Box::pin(async move {
                answer
                    .map(|a| Bytes::from(a.to_string()))
                    .ok_or_else(|| InvokeError::Function(Bytes::from_static(b"{}")))
            })
        }
    }

    struct Fixture {
        api: Api,
        function: FakeFunction,
        user: String,
        admin: String,
        dir: std::path::PathBuf,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn fixture(name: &str, answer: Option<Value>) -> Fixture {
        let template = LocalTemplate::synthesize("local").unwrap();
        let dir = std::env::temp_dir().join(format!("xtask-gateway-{name}-{}", std::process::id()));
        let key = SigningKey::load_or_create(&dir).unwrap();
        let pool = UserPool::of_template(&template).unwrap();
        let token = |groups: Vec<String>| {
            key.issue(
                &pool,
                &TokenRequest {
                    user: "alice".into(),
                    groups,
                    expires_in: 60,
                    audience: None,
                },
            )
            .unwrap()
        };
        Fixture {
            api: Api::from_template(&template, key.jwks()).unwrap(),
            function: FakeFunction {
                events: Mutex::new(Vec::new()),
                answer,
            },
            user: token(Vec::new()),
            admin: token(vec!["admins".into(), "support".into()]),
            dir,
        }
    }

    async fn send(
        f: &Fixture,
        request: http::request::Builder,
        body: &[u8],
    ) -> Response<Full<Bytes>> {
        let request = request
            .body(Full::new(Bytes::copy_from_slice(body)))
            .unwrap();
        f.api
            .handle(&f.function, request, "127.0.0.1:50000".parse().unwrap())
            .await
    }

    async fn body_json(response: Response<Full<Bytes>>) -> Value {
        serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap()
    }

    fn ok_answer() -> Option<Value> {
        Some(
            json!({"statusCode": 200, "headers": {"content-type": "application/json"}, "multiValueHeaders": {}, "body": "{}", "isBase64Encoded": false}),
        )
    }

    #[test]
    fn serves_exactly_the_operations_the_function_declares() {
        let f = fixture("operations", None);
        let declared: Vec<(String, String)> = tickets_manifest::routes::operations()
            .into_iter()
            .map(|(method, path)| (method.as_str().to_owned(), path.to_owned()))
            .collect();
        let mut served = f.api.operations();
        served.sort();
        let mut declared = declared;
        declared.sort();
        assert_eq!(served, declared);
        assert_eq!(f.api.stage, "local");
    }

    #[tokio::test]
    async fn builds_rest_proxy_events_like_api_gateway() {
        let f = fixture("event", ok_answer());
        let request = Request::builder()
            .method("PUT")
            .uri("/v1/tickets/abc%20d?x=1&x=2&q=a+b")
            .header("host", "127.0.0.1:3000")
            .header("authorization", &f.admin)
            .header("x-multi", "a")
            .header("x-multi", "b")
            .header("content-type", "application/octet-stream");
        let response = send(&f, request, &[0xff, 0x00, 0x01]).await;
        assert_eq!(response.status(), 200);
        assert!(response.headers().contains_key("x-amzn-requestid"));
        let event = f.function.events.lock().unwrap().pop().unwrap();
        assert_eq!(event["resource"], "/v1/tickets/{id}");
        assert_eq!(event["path"], "/v1/tickets/abc%20d");
        assert_eq!(event["httpMethod"], "PUT");
        assert_eq!(event["pathParameters"], json!({"id": "abc d"}));
        assert_eq!(
            event["queryStringParameters"],
            json!({"x": "2", "q": "a b"})
        );
        assert_eq!(
            event["multiValueQueryStringParameters"]["x"],
            json!(["1", "2"])
        );
        assert_eq!(event["multiValueHeaders"]["X-Multi"], json!(["a", "b"]));
        assert_eq!(event["headers"]["X-Multi"], "b");
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["body"], BASE64.encode([0xff, 0x00, 0x01]));
        let context = &event["requestContext"];
        assert_eq!(context["stage"], "local");
        assert_eq!(context["path"], "/v1/tickets/abc%20d");
        assert_eq!(context["resourcePath"], "/v1/tickets/{id}");
        assert_eq!(context["identity"]["sourceIp"], "127.0.0.1");
        assert!(
            context["requestId"]
                .as_str()
                .is_some_and(|id| id.len() == 36)
        );
        let claims = context["authorizer"]["claims"].as_object().unwrap();
        assert!(claims.values().all(Value::is_string), "{claims:?}");
        assert_eq!(claims["cognito:groups"], "admins,support");
        assert_eq!(claims["cognito:username"], "alice");
        assert_eq!(claims["token_use"], "id");
    }

    #[tokio::test]
    async fn lets_preflight_through_without_a_token() {
        let f = fixture("preflight", ok_answer());
        let request = Request::builder()
            .method("OPTIONS")
            .uri("/v1/tickets")
            .header("origin", "http://localhost:3000");
        assert_eq!(send(&f, request, b"").await.status(), 200);
        let event = f.function.events.lock().unwrap().pop().unwrap();
        assert_eq!(event["requestContext"]["authorizer"], Value::Null);
    }

    #[tokio::test]
    async fn answers_502_with_cors_headers_when_the_function_fails() {
        let f = fixture("failure", None);
        let request = Request::builder()
            .uri("/v1/tickets")
            .header("authorization", &f.user);
        let response = send(&f, request, b"").await;
        assert_eq!(response.status(), 502);
        assert_eq!(response.headers()["access-control-allow-origin"], "*");
        assert_eq!(
            body_json(response).await,
            json!({"message": "Internal server error"})
        );
    }

    #[tokio::test]
    async fn throttles_beyond_the_stage_burst() {
        let f = fixture("throttle", ok_answer());
        let env =
            tickets_infra::Environment::load(&crate::tools::workspace::root(), "local").unwrap();
        let burst = env.api_throttling.burst_limit.get() as usize;
        // Requests arrive faster than the bucket refills, so it runs dry after the burst.
        let mut statuses = Vec::new();
        while !statuses.contains(&429) && statuses.len() < burst * 10 {
            let request = Request::builder()
                .uri("/v1/tickets")
                .header("authorization", &f.user);
            statuses.push(send(&f, request, b"").await.status().as_u16());
        }
        assert!(statuses.iter().take(burst).all(|s| *s == 200));
        assert_eq!(statuses.last(), Some(&429), "never throttled");
    }

    #[test]
    fn matches_literals_before_parameters() {
        let routes = [
            segments("/v1/tickets/{id}"),
            segments("/v1/tickets/search"),
            segments("/files/{key+}"),
        ];
        let parts = |p: &str| p[1..].split('/').map(str::to_owned).collect::<Vec<_>>();
        let matched = |path: &str| {
            let p = parts(path);
            let p: Vec<&str> = p.iter().map(String::as_str).collect();
            routes
                .iter()
                .filter_map(|r| match_segments(r, &p).map(|m| (r.clone(), m)))
                .min_by(|a, b| a.0.cmp(&b.0))
        };
        assert_eq!(matched("/v1/tickets/search").unwrap().1, BTreeMap::new());
        assert_eq!(matched("/v1/tickets/a%20b").unwrap().1["id"], "a b");
        assert_eq!(matched("/files/a/b/c").unwrap().1["key"], "a/b/c");
        assert!(matched("/v1/tickets").is_none());
        assert!(matched("/v1/tickets/x/y").is_none());
    }

    #[test]
    fn reads_lambda_proxy_responses() {
        let answer = json!({
            "statusCode": 201, "headers": {"content-type": "application/json", "etag": "\"1\""},
            "multiValueHeaders": {"vary": ["origin", "access-control-request-method"]},
            "body": "{}", "isBase64Encoded": false
        });
        let response = proxy_response(answer.to_string().as_bytes()).unwrap();
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers().get_all("vary").iter().count(), 2);
        assert_eq!(response.headers()["etag"], "\"1\"");
        assert!(proxy_response(b"{\"body\":\"x\"}").is_err());
        assert!(proxy_response(b"not json").is_err());
    }

    #[test]
    fn formats_times_like_api_gateway() {
        assert_eq!(request_time(1_764_392_574), "29/Nov/2025:05:02:54 +0000");
        assert_eq!(canonical("content-type"), "Content-Type");
        assert_eq!(percent_decode("a%2Fb%zz%4"), "a/b%zz%4");
    }
}
