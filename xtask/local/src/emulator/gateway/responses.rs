//! What goes back to the client: API Gateway's own answers (its errors, customised by the
//! template's gateway responses), the function's Lambda proxy answer turned into HTTP, and
//! the headers API Gateway adds to both.

use super::api::Api;
use anyhow::{Context, Result, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::Value;

/// Something API Gateway itself answers, by gateway response type.
pub(super) struct GatewayError {
    kind: &'static str,
    status: u16,
    message: &'static str,
    error_type: Option<&'static str>,
}

pub(super) const MISSING_AUTHENTICATION_TOKEN: GatewayError = GatewayError {
    kind: "MISSING_AUTHENTICATION_TOKEN",
    status: 403,
    message: "Missing Authentication Token",
    error_type: Some("MissingAuthenticationTokenException"),
};
pub(super) const UNAUTHORIZED: GatewayError = GatewayError {
    kind: "UNAUTHORIZED",
    status: 401,
    message: "Unauthorized",
    error_type: Some("UnauthorizedException"),
};
pub(super) const REQUEST_TOO_LARGE: GatewayError = GatewayError {
    kind: "REQUEST_TOO_LARGE",
    status: 413,
    message: "Request Too Long",
    error_type: None,
};
pub(super) const HEADERS_TOO_LARGE: GatewayError = GatewayError {
    kind: "DEFAULT_4XX",
    status: 431,
    message: "Request Header Fields Too Large",
    error_type: None,
};
pub(super) const THROTTLED: GatewayError = GatewayError {
    kind: "THROTTLED",
    status: 429,
    message: "Too Many Requests",
    error_type: None,
};
pub(super) const BAD_REQUEST_BODY: GatewayError = GatewayError {
    kind: "BAD_REQUEST_BODY",
    status: 400,
    message: "Invalid request body",
    error_type: None,
};
pub(super) const FUNCTION_FAILED: GatewayError = GatewayError {
    kind: "DEFAULT_5XX",
    status: 502,
    message: "Internal server error",
    error_type: None,
};
pub(super) const INTEGRATION_TIMED_OUT: GatewayError = GatewayError {
    kind: "INTEGRATION_TIMEOUT",
    status: 504,
    message: "Endpoint request timed out",
    error_type: None,
};

impl Api {
    /// Headers API Gateway adds to every answer.
    pub(super) fn finish(
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
    pub(super) fn gateway_error(
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

pub(super) fn append(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        headers.append(name, value);
    }
}

/// The HTTP response a Lambda proxy answer describes.
pub(super) fn proxy_response(answer: &[u8]) -> Result<Response<Full<Bytes>>> {
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
