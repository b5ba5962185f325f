//! CORS, from the manifest's policy and the configured origins.

use http::{HeaderName, HeaderValue, Method};
use std::time::Duration;
use tickets_manifest::cors::{
    ALLOW_HEADERS, ALLOW_METHODS, EXPOSE_HEADERS, MAX_AGE_SECONDS, Origin,
};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The CORS layer: allowed origins are echoed (with `Vary: Origin`), others get no
/// `Access-Control-Allow-Origin`; preflight requests are answered here, before identity.
pub fn layer(origins: &[Origin]) -> CorsLayer {
    let allow_origin = if origins.contains(&Origin::Any) {
        AllowOrigin::mirror_request()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.as_str()).ok())
                .collect::<Vec<_>>(),
        )
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods(
            ALLOW_METHODS
                .iter()
                .map(|m| {
                    Method::from_bytes(m.as_str().as_bytes()).expect("manifest methods are valid")
                })
                .collect::<Vec<_>>(),
        )
        .allow_headers(names(ALLOW_HEADERS))
        .expose_headers(names(EXPOSE_HEADERS))
        .max_age(Duration::from_secs(MAX_AGE_SECONDS.into()))
}

fn names(list: &[&'static str]) -> Vec<HeaderName> {
    list.iter()
        .map(|h| HeaderName::from_bytes(h.as_bytes()).expect("manifest header names are valid"))
        .collect()
}
