//! One request, answered as API Gateway would: its limits, the route and method, the
//! authorizer, then the integration (a mock, or the function through a [`Backend`]).

use super::api::{Api, Integration, MethodDef, Route};
use super::proxy_event::ProxyRequest;
use super::responses::{
    self, BAD_REQUEST_BODY, FUNCTION_FAILED, GatewayError, HEADERS_TOO_LARGE,
    INTEGRATION_TIMED_OUT, MISSING_AUTHENTICATION_TOKEN, REQUEST_TOO_LARGE, THROTTLED,
    UNAUTHORIZED, append,
};
use crate::emulator::auth;
use crate::emulator::instance::InvokeError;
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

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

type Answer = Response<Full<Bytes>>;

impl Api {
    /// Answers one request as API Gateway would.
    pub async fn handle<B, Body>(
        &self,
        backend: &B,
        request: Request<Body>,
        client: SocketAddr,
    ) -> Answer
    where
        B: Backend,
        Body: hyper::body::Body<Data = Bytes>,
        Body::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let request_id = uuid::Uuid::new_v4().to_string();
        let (parts, body) = request.into_parts();
        let refuse = |error: &GatewayError| self.gateway_error(error, &parts.headers, &request_id);
        let body = match self.admit(&parts, body).await {
            Ok(body) => body,
            Err(error) => return refuse(error),
        };
        let Some((route, path_parameters, method)) = self.route(&parts) else {
            return refuse(&MISSING_AUTHENTICATION_TOKEN);
        };
        let Ok(claims) = self.authorize(method, &parts.headers) else {
            return refuse(&UNAUTHORIZED);
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
                let event = self.event(ProxyRequest {
                    parts: &parts,
                    body: &body,
                    route,
                    path_parameters,
                    claims,
                    request_id: &request_id,
                    client,
                });
                let event = Bytes::from(serde_json::to_vec(&event).unwrap_or_default());
                self.invoke(backend, function, event, &parts, &request_id)
                    .await
            }
        }
    }

    /// The service limits and the stage's throttling; the body when the request is within them.
    async fn admit<Body>(
        &self,
        parts: &http::request::Parts,
        body: Body,
    ) -> Result<Bytes, &'static GatewayError>
    where
        Body: hyper::body::Body<Data = Bytes>,
        Body::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let header_section = parts.method.as_str().len()
            + parts.uri.to_string().len()
            + parts
                .headers
                .iter()
                .map(|(k, v)| k.as_str().len() + v.len() + 4)
                .sum::<usize>();
        if header_section > MAX_HEADER_SECTION {
            return Err(&HEADERS_TOO_LARGE);
        }
        let declared = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_PAYLOAD) {
            return Err(&REQUEST_TOO_LARGE);
        }
        let body = match Limited::new(body, MAX_PAYLOAD).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(err) if err.is::<http_body_util::LengthLimitError>() => {
                return Err(&REQUEST_TOO_LARGE);
            }
            Err(_) => return Err(&BAD_REQUEST_BODY),
        };
        if let Some(bucket) = &self.throttle
            && !bucket.lock().map(|mut b| b.admit()).unwrap_or(true)
        {
            return Err(&THROTTLED);
        }
        Ok(body)
    }

    /// The resource and method the request is for, with its path parameters; `None` when
    /// the template has no such path or method.
    fn route(
        &self,
        parts: &http::request::Parts,
    ) -> Option<(&Route, BTreeMap<String, String>, &MethodDef)> {
        let (route, path_parameters) = self.find(parts.uri.path())?;
        let method = route
            .methods
            .get(parts.method.as_str())
            .or_else(|| route.methods.get("ANY"))?;
        Some((route, path_parameters, method))
    }

    /// The claims the method's authorizer passes on (`None` without an authorizer); an
    /// error when the token is missing or invalid.
    fn authorize(
        &self,
        method: &MethodDef,
        headers: &HeaderMap,
    ) -> Result<Option<Map<String, Value>>, auth::Rejected> {
        let Some(id) = &method.authorizer else {
            return Ok(None);
        };
        let authorizer = &self.authorizers[id];
        let token = headers
            .get(authorizer.header.as_str())
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .map(|t| t.strip_prefix("Bearer ").unwrap_or(t))
            .filter(|t| !t.is_empty())
            .ok_or_else(|| auth::Rejected("no token".into()))?;
        let claims = authorizer.verifier.verify(token)?;
        Ok(Some(auth::claims_for_function(&claims)))
    }

    /// Invokes the function within the integration timeout and turns its answer into HTTP.
    async fn invoke<B: Backend>(
        &self,
        backend: &B,
        function: &str,
        event: Bytes,
        parts: &http::request::Parts,
        request_id: &str,
    ) -> Answer {
        let path = parts.uri.path();
        let fail = |error: &GatewayError| self.gateway_error(error, &parts.headers, request_id);
        match tokio::time::timeout(INTEGRATION_TIMEOUT, backend.invoke(function, event)).await {
            Err(_) => fail(&INTEGRATION_TIMED_OUT),
            Ok(Err(err)) => {
                eprintln!("gateway: {} {path}: {err}", parts.method);
                fail(&FUNCTION_FAILED)
            }
            Ok(Ok(answer)) => match responses::proxy_response(&answer) {
                Ok(response) => self.finish(response, request_id),
                Err(err) => {
                    eprintln!(
                        "gateway: {} {path}: malformed Lambda proxy response: {err:#}",
                        parts.method
                    );
                    fail(&FUNCTION_FAILED)
                }
            },
        }
    }
}
