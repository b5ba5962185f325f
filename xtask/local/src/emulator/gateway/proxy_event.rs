//! The REST proxy event Lambda receives for a request: headers and query parameters in
//! their single- and multi-value forms, the body (base64 when binary), and the request
//! context with the stage, the caller's identity and the authorizer's claims.

use super::api::{Api, Route};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

/// A request on its way to the function, with what routing and the authorizer found.
pub(super) struct ProxyRequest<'a> {
    pub(super) parts: &'a http::request::Parts,
    pub(super) body: &'a Bytes,
    pub(super) route: &'a Route,
    pub(super) path_parameters: BTreeMap<String, String>,
    pub(super) claims: Option<Map<String, Value>>,
    pub(super) request_id: &'a str,
    pub(super) client: SocketAddr,
}

impl Api {
    /// The REST proxy event of a request.
    pub(super) fn event(&self, request: ProxyRequest<'_>) -> Value {
        let ProxyRequest {
            parts,
            body,
            route,
            path_parameters,
            claims,
            request_id,
            client,
        } = request;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let trace_id = format!(
            "Root=1-{:08x}-{}",
            now.as_secs(),
            &uuid::Uuid::new_v4().simple().to_string()[..24]
        );
        let (headers, multi_headers) = headers(parts, trace_id, client);
        let (query, multi_query) = query(parts.uri.query());
        let (body, base64) = self.body(parts, body);
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

    /// The body as the event carries it, and whether that is base64.
    fn body(&self, parts: &http::request::Parts, body: &Bytes) -> (Value, bool) {
        let content_type = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if body.is_empty() {
            (Value::Null, false)
        } else if self.is_binary(content_type) {
            (json!(BASE64.encode(body)), true)
        } else {
            match std::str::from_utf8(body) {
                Ok(text) => (json!(text), false),
                Err(_) => (json!(BASE64.encode(body)), true),
            }
        }
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
}

/// `headers` and `multiValueHeaders`: the request's, plus those API Gateway adds on its
/// way to the integration.
fn headers(
    parts: &http::request::Parts,
    trace_id: String,
    client: SocketAddr,
) -> (Map<String, Value>, Map<String, Value>) {
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
    (headers, multi_headers)
}

/// `queryStringParameters` (the last value of each name) and
/// `multiValueQueryStringParameters`; both `null` without a query.
fn query(query: Option<&str>) -> (Value, Value) {
    match query {
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
    }
}

/// `content-type` → `Content-Type`, as browsers and curl send them on the wire.
pub(super) fn canonical(name: &str) -> String {
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
pub(super) fn request_time(epoch: i64) -> String {
    let format = time::macros::format_description!(
        "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
    );
    time::OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}
