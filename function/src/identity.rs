//! Who is calling: the claims API Gateway's Cognito authorizer puts in the request context.

use crate::app::stage::rest_context;
use crate::problem::Problem;
use axum::extract::FromRequestParts;
use http::request::Parts;
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
use serde_json::Value;
use tickets_manifest::ADMIN_GROUP;

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Cognito `sub`: stable and unique; recorded as `createdBy` / `updatedBy`.
    pub sub: String,
    /// `cognito:username`, if present.
    pub username: Option<String>,
    /// `cognito:groups`.
    pub groups: Vec<String>,
}

impl Identity {
    /// Reads the authorizer claims of a REST API request, if there are any.
    pub fn from_context(context: &ApiGatewayProxyRequestContext) -> Option<Self> {
        let claims = context.authorizer.fields.get("claims")?.as_object()?;
        let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
        let sub = text("sub").filter(|s| !s.trim().is_empty())?;
        Some(Identity {
            sub,
            username: text("cognito:username"),
            groups: claims
                .get("cognito:groups")
                .map(parse_groups)
                .unwrap_or_default(),
        })
    }

    /// Whether the caller is in the Cognito group that may delete tickets.
    pub fn is_admin(&self) -> bool {
        self.groups.iter().any(|g| g == ADMIN_GROUP)
    }
}

/// API Gateway's REST authorizer flattens claims to strings, so groups arrive as
/// `"admins,support"`; other front ends send `"[admins support]"` or a JSON array. Group
/// names cannot contain commas or whitespace, so splitting on both reads all three forms.
fn parse_groups(value: &Value) -> Vec<String> {
    let split = |text: &str| -> Vec<String> {
        text.trim_matches(|c| c == '[' || c == ']')
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|g| !g.is_empty())
            .map(str::to_owned)
            .collect()
    };
    match value {
        Value::String(text) => split(text),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .flat_map(split)
            .collect(),
        _ => Vec::new(),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Identity {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        rest_context(&parts.extensions)
            .and_then(Identity::from_context)
            .ok_or_else(Problem::unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_groups_in_every_form_api_gateway_uses() {
        for value in [
            json!("admins,support"),
            json!("[admins support]"),
            json!(["admins", "support"]),
            json!(" admins , support "),
        ] {
            assert_eq!(parse_groups(&value), vec!["admins", "support"], "{value}");
        }
        assert!(parse_groups(&json!(null)).is_empty());
    }
}
