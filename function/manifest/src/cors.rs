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

/// An origin CORS may allow: `*` for any, or exactly one `scheme://host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// `*`: any origin.
    Any,
    /// `http(s)://host[:port]`, nothing after the authority.
    Exact(String),
}

/// Why a text is not an [`Origin`], or a list of them cannot be used together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginError {
    /// Not `*` and not `scheme://host[:port]`.
    NotAnOrigin(String),
    /// No origin at all.
    Empty,
    /// `*` next to other origins.
    AnyInList,
}

impl OriginError {
    /// What is wrong.
    pub fn problem(&self) -> String {
        match self {
            OriginError::NotAnOrigin(text) => format!("{text:?} is not an origin"),
            OriginError::Empty => "the list is empty, so browsers could not call the API".into(),
            OriginError::AnyInList => {
                "`*` already allows every origin and cannot be combined with others".into()
            }
        }
    }

    /// How to fix it.
    pub fn fix(&self) -> String {
        match self {
            OriginError::NotAnOrigin(text) => {
                let hint = text.trim_end_matches('/');
                format!(
                    "write scheme://host[:port] without path or trailing slash, e.g. {:?}",
                    if hint.contains("://") && !hint.contains(' ') {
                        hint
                    } else {
                        "https://app.example.com"
                    }
                )
            }
            OriginError::Empty => "list at least one origin, e.g. https://app.example.com".into(),
            OriginError::AnyInList => "keep only `*`, or list the exact origins without it".into(),
        }
    }
}

impl std::fmt::Display for OriginError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.problem(), self.fix())
    }
}

impl std::error::Error for OriginError {}

impl Origin {
    /// Reads one origin: `*`, or `http(s)://host[:port]` in printable ASCII.
    pub fn parse(text: &str) -> Result<Origin, OriginError> {
        if text == ANY_ORIGIN {
            return Ok(Origin::Any);
        }
        let authority = text
            .strip_prefix("https://")
            .or_else(|| text.strip_prefix("http://"));
        match authority {
            Some(authority)
                if !authority.is_empty()
                    && authority
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)) =>
            {
                Ok(Origin::Exact(text.to_owned()))
            }
            _ => Err(OriginError::NotAnOrigin(text.to_owned())),
        }
    }

    /// The origin as browsers write it (`*` for any).
    pub fn as_str(&self) -> &str {
        match self {
            Origin::Any => ANY_ORIGIN,
            Origin::Exact(origin) => origin,
        }
    }

    /// Whether the origin is served over TLS.
    pub fn is_https(&self) -> bool {
        matches!(self, Origin::Exact(origin) if origin.starts_with("https://"))
    }
}

/// Checks that origins can be used together: at least one, and `*` only on its own.
pub fn check_list(origins: &[Origin]) -> Result<(), OriginError> {
    if origins.is_empty() {
        return Err(OriginError::Empty);
    }
    if origins.contains(&Origin::Any) && origins.len() > 1 {
        return Err(OriginError::AnyInList);
    }
    Ok(())
}

/// Reads an `ALLOWED_ORIGINS` value: comma-separated origins (blank entries ignored), or `*`.
pub fn parse_list(value: &str) -> Result<Vec<Origin>, OriginError> {
    let origins = value
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(Origin::parse)
        .collect::<Result<Vec<_>, _>>()?;
    check_list(&origins)?;
    Ok(origins)
}

/// The `ALLOWED_ORIGINS` value for `origins`.
pub fn list_value(origins: &[Origin]) -> String {
    origins
        .iter()
        .map(Origin::as_str)
        .collect::<Vec<_>>()
        .join(",")
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
            parse_list(" https://a.example , ,http://localhost:5173"),
            Ok(vec![
                Origin::Exact("https://a.example".into()),
                Origin::Exact("http://localhost:5173".into())
            ])
        );
        assert_eq!(parse_list(" , "), Err(OriginError::Empty));
        assert_eq!(parse_list("*"), Ok(vec![Origin::Any]));
    }

    #[test]
    fn rejects_origins_with_paths_or_no_scheme() {
        for bad in [
            "https://a.example/",
            "a.example",
            "ftp://a.example",
            "https://a.example/app",
            "https://",
        ] {
            assert_eq!(
                Origin::parse(bad),
                Err(OriginError::NotAnOrigin(bad.into())),
                "{bad}"
            );
        }
    }

    #[test]
    fn wildcard_stands_alone() {
        assert_eq!(
            parse_list("*,https://a.example"),
            Err(OriginError::AnyInList)
        );
        assert!(Origin::parse("https://a.example").unwrap().is_https());
        assert_eq!(list_value(&[Origin::Any]), "*");
    }
}
