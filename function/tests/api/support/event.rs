//! API Gateway REST proxy events in, proxy responses out.

use base64::Engine;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// A REST proxy event under construction.
#[derive(Debug, Clone)]
pub struct Event {
    method: String,
    resource: String,
    path: String,
    stage: String,
    stage_in_path: bool,
    base_path: Option<String>,
    headers: Vec<(String, String)>,
    query: Vec<(String, String)>,
    path_parameters: BTreeMap<String, String>,
    body: Option<Vec<u8>>,
    claims: Option<Map<String, Value>>,
}

/// Default caller.
pub const USER: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
/// An admin caller.
pub const ADMIN: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

impl Event {
    /// A request by the default (non-admin) user; `path` is the route with values, e.g.
    /// `/v1/tickets/<id>`.
    pub fn new(method: &str, path: &str) -> Self {
        let (resource, path_parameters) = match path.strip_prefix("/v1/tickets/") {
            Some(id) => (
                "/v1/tickets/{id}".to_owned(),
                BTreeMap::from([("id".to_owned(), id.to_owned())]),
            ),
            None => (path.to_owned(), BTreeMap::new()),
        };
        Event {
            method: method.to_owned(),
            resource,
            path: path.to_owned(),
            stage: "dev".to_owned(),
            stage_in_path: false,
            base_path: None,
            headers: vec![(
                "Host".into(),
                "abc123.execute-api.us-east-1.amazonaws.com".into(),
            )],
            query: Vec::new(),
            path_parameters,
            body: None,
            claims: None,
        }
        .user(USER, &[])
    }

    /// `GET`
    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }

    /// `POST` with a JSON body.
    pub fn post(path: &str, body: Value) -> Self {
        Self::new("POST", path).json(body)
    }

    /// `PUT` with a JSON body.
    pub fn put(path: &str, body: Value) -> Self {
        Self::new("PUT", path).json(body)
    }

    /// `PATCH` with a JSON body.
    pub fn patch(path: &str, body: Value) -> Self {
        Self::new("PATCH", path).json(body)
    }

    /// `DELETE`
    pub fn delete(path: &str) -> Self {
        Self::new("DELETE", path)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Adds a query parameter (repeatable).
    pub fn query(mut self, name: &str, value: &str) -> Self {
        self.query.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A JSON body with `Content-Type: application/json`.
    pub fn json(self, body: Value) -> Self {
        self.header("Content-Type", "application/json")
            .raw_body(serde_json::to_vec(&body).unwrap())
    }

    /// A body as given, no content type added.
    pub fn raw_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Signed in as `sub` in `groups`, with claims as API Gateway's REST authorizer
    /// passes them: every value a string, groups comma-separated.
    pub fn user(mut self, sub: &str, groups: &[&str]) -> Self {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(sub));
        claims.insert(
            "cognito:username".into(),
            json!(format!("user-{}", sub.chars().take(8).collect::<String>())),
        );
        claims.insert("token_use".into(), json!("id"));
        if !groups.is_empty() {
            claims.insert("cognito:groups".into(), json!(groups.join(",")));
        }
        self.claims = Some(claims);
        self
    }

    /// Signed in as an admin.
    pub fn admin(self) -> Self {
        self.user(ADMIN, &["admins"])
    }

    /// No identity at all (as if the authorizer were missing).
    pub fn anonymous(mut self) -> Self {
        self.claims = None;
        self
    }

    /// Puts the stage name in the event's path, as a custom domain's base path does.
    pub fn stage_in_path(mut self) -> Self {
        self.stage_in_path = true;
        self
    }

    /// Called through a custom domain whose base path mapping is `base_path` (`/api`, or
    /// `""` for the domain's root): API Gateway then puts the base path, and no stage, in
    /// both `path` and `requestContext.path`.
    pub fn custom_domain(mut self, base_path: &str) -> Self {
        self.base_path = Some(base_path.to_owned());
        self
    }

    /// Uses `stage` as the stage name.
    pub fn stage(mut self, stage: &str) -> Self {
        self.stage = stage.to_owned();
        self
    }

    /// The HTTP method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The API Gateway resource (`/v1/tickets/{id}`).
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The event's JSON, shaped like API Gateway's.
    pub fn to_json(&self) -> Value {
        let mut headers = Map::new();
        let mut multi_headers: Map<String, Value> = Map::new();
        for (name, value) in &self.headers {
            headers.insert(name.clone(), json!(value));
            multi_headers
                .entry(name.clone())
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .unwrap()
                .push(json!(value));
        }
        let (query, multi_query) = if self.query.is_empty() {
            (Value::Null, Value::Null)
        } else {
            let mut single = Map::new();
            let mut multi: Map<String, Value> = Map::new();
            for (name, value) in &self.query {
                single.insert(name.clone(), json!(value));
                multi
                    .entry(name.clone())
                    .or_insert_with(|| json!([]))
                    .as_array_mut()
                    .unwrap()
                    .push(json!(value));
            }
            (Value::Object(single), Value::Object(multi))
        };
        let public_path = match &self.base_path {
            Some(base_path) => format!("{base_path}{}", self.path),
            None => format!("/{}{}", self.stage, self.path),
        };
        let event_path = if self.stage_in_path || self.base_path.is_some() {
            public_path.clone()
        } else {
            self.path.clone()
        };
        let (body, base64) = match &self.body {
            None => (Value::Null, false),
            Some(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => (json!(text), false),
                Err(_) => (
                    json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
                    true,
                ),
            },
        };
        let mut authorizer = Map::new();
        if let Some(claims) = &self.claims {
            authorizer.insert("claims".into(), Value::Object(claims.clone()));
        }
        json!({
            "resource": self.resource,
            "path": event_path,
            "httpMethod": self.method,
            "headers": headers,
            "multiValueHeaders": multi_headers,
            "queryStringParameters": query,
            "multiValueQueryStringParameters": multi_query,
            "pathParameters": if self.path_parameters.is_empty() { Value::Null } else { json!(self.path_parameters) },
            "stageVariables": null,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "abc123",
                "resourceId": "r1",
                "resourcePath": self.resource,
                "httpMethod": self.method,
                "path": public_path,
                "stage": self.stage,
                "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                "protocol": "HTTP/1.1",
                "requestTimeEpoch": 1_764_390_000_000u64,
                "identity": {"sourceIp": "127.0.0.1", "userAgent": "tests"},
                "authorizer": if authorizer.is_empty() { Value::Null } else { Value::Object(authorizer) },
            },
            "body": body,
            "isBase64Encoded": base64,
        })
    }
}

/// A proxy response: status, headers (names lower-cased) and body.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Header values by lower-case name.
    pub headers: BTreeMap<String, Vec<String>>,
    /// Body text.
    pub body: String,
}

impl Response {
    /// Reads `lambda_http`'s serialised proxy response.
    pub fn from_proxy(json: Value) -> Self {
        let status = json["statusCode"].as_u64().expect("statusCode") as u16;
        let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        if let Some(multi) = json["multiValueHeaders"].as_object() {
            for (name, values) in multi {
                for value in values.as_array().into_iter().flatten() {
                    headers
                        .entry(name.to_ascii_lowercase())
                        .or_default()
                        .push(value.as_str().unwrap_or_default().to_owned());
                }
            }
        }
        if let Some(single) = json["headers"].as_object() {
            for (name, value) in single {
                headers
                    .entry(name.to_ascii_lowercase())
                    .or_insert_with(|| vec![value.as_str().unwrap_or_default().to_owned()]);
            }
        }
        let body = match (
            &json["body"],
            json["isBase64Encoded"].as_bool().unwrap_or(false),
        ) {
            (Value::String(text), false) => text.clone(),
            (Value::String(text), true) => String::from_utf8_lossy(
                &base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .unwrap(),
            )
            .into_owned(),
            _ => String::new(),
        };
        Response {
            status,
            headers,
            body,
        }
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", self.body))
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    /// Asserts an `application/problem+json` response with this status, returning its body.
    #[track_caller]
    pub fn problem(&self, status: u16) -> Value {
        self.assert_status(status);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        for member in ["type", "title", "detail"] {
            assert!(body[member].is_string(), "problem without {member}: {body}");
        }
        body
    }
}
