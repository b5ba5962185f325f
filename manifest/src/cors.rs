//! The CORS policy shared by the function and API Gateway's gateway responses.

use crate::routes::Method;

/// Request headers a browser may send.
pub const ALLOW_HEADERS: &[&str] = &[
    "Content-Type",
    "Authorization",
    "X-Api-Key",
    "If-Match",
    "Idempotency-Key",
];

/// Methods a browser may use.
pub const ALLOW_METHODS: &[Method] = &[
    Method::Get,
    Method::Post,
    Method::Put,
    Method::Patch,
    Method::Delete,
    Method::Options,
];

/// Response headers a browser's script may read.
pub const EXPOSE_HEADERS: &[&str] = &["ETag", "Location"];

/// How long a browser may cache a preflight answer, in seconds.
pub const MAX_AGE_SECONDS: u32 = 86_400;

/// Wildcard for `ALLOWED_ORIGINS`: any origin is allowed.
pub const ANY_ORIGIN: &str = "*";

/// `Access-Control-Allow-Headers` as sent on the wire.
pub fn allow_headers_value() -> String {
    ALLOW_HEADERS.join(",")
}

/// `Access-Control-Allow-Methods` as sent on the wire.
pub fn allow_methods_value() -> String {
    ALLOW_METHODS
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// `Access-Control-Expose-Headers` as sent on the wire.
pub fn expose_headers_value() -> String {
    EXPOSE_HEADERS.join(",")
}

/// Splits an `ALLOWED_ORIGINS` value into its origins, trimmed, empty entries dropped.
pub fn parse_origins(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_match_the_documented_wire_format() {
        assert_eq!(
            allow_headers_value(),
            "Content-Type,Authorization,X-Api-Key,If-Match,Idempotency-Key"
        );
        assert_eq!(allow_methods_value(), "GET,POST,PUT,PATCH,DELETE,OPTIONS");
        assert_eq!(expose_headers_value(), "ETag,Location");
    }

    #[test]
    fn parses_origin_lists_leniently() {
        assert_eq!(
            parse_origins(" https://a.example , ,https://b.example"),
            vec!["https://a.example", "https://b.example"]
        );
        assert!(parse_origins(" , ").is_empty());
    }
}
