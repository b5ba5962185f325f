//! Headers every response carries: the seed's security headers and `Cache-Control`.

use http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// Each header and its value.
pub const SECURITY_HEADERS: &[(HeaderName, &str)] = &[
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=31536000; includeSubDomains",
    ),
    // Tickets change under concurrent writers; a cached copy would be stale at once.
    (header::CACHE_CONTROL, "no-store"),
];

/// One layer per header, overriding whatever a handler set.
pub fn layers() -> impl Iterator<Item = SetResponseHeaderLayer<HeaderValue>> {
    SECURITY_HEADERS.iter().map(|(name, value)| {
        SetResponseHeaderLayer::overriding(name.clone(), HeaderValue::from_static(value))
    })
}
