//! The path the routes see, whatever URL the client called.
//!
//! API Gateway's `path` never holds the stage (`/dev`), but it does hold a custom domain's
//! base path (`/api/v1/tickets` for `https://example.com/api/v1/tickets`). The resource it
//! matched (`/v1/tickets/{id}`) is the API's own path, so its number of segments says how
//! many trailing segments of `path` the routes should see. Nothing is guessed from the
//! stage's name, so a stage called `v1` or `tickets` cannot eat a path segment.

use http::{Request, Uri};
use lambda_http::RequestExt;
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
use lambda_http::request::RequestContext;

/// The REST API context of a request, when it came from API Gateway.
pub fn rest_context(extensions: &http::Extensions) -> Option<&ApiGatewayProxyRequestContext> {
    match extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV1(context)) => Some(context),
        _ => None,
    }
}

/// Rewrites the request's path to the API's own path (see the module's documentation).
pub fn to_api_path<B>(mut request: Request<B>) -> Request<B> {
    let Some(resource) = rest_context(request.extensions()).and_then(|c| c.resource_path.clone())
    else {
        return request;
    };
    let path = api_path(request.raw_http_path(), &resource).to_owned();
    if let Some(uri) = with_path(request.uri(), &path) {
        *request.uri_mut() = uri;
    }
    request
}

/// The trailing segments of `path` that `resource` describes, or all of `path` when the
/// resource has a greedy parameter (`{proxy+}`) or more segments than the path.
fn api_path<'a>(path: &'a str, resource: &str) -> &'a str {
    if resource.contains("+}") {
        return path;
    }
    let wanted = resource.split('/').filter(|s| !s.is_empty()).count();
    let starts: Vec<usize> = path
        .match_indices('/')
        .map(|(i, _)| i)
        .filter(|&i| i + 1 < path.len())
        .collect();
    match starts.len().checked_sub(wanted) {
        Some(skip) if wanted > 0 => &path[starts[skip]..],
        _ => path,
    }
}

fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_segments_the_resource_describes() {
        let one = "/v1/tickets/{id}";
        assert_eq!(api_path("/v1/tickets/abc", one), "/v1/tickets/abc");
        assert_eq!(api_path("/api/v1/tickets/abc", one), "/v1/tickets/abc");
        assert_eq!(api_path("/a/b/v1/tickets", "/v1/tickets"), "/v1/tickets");
        assert_eq!(api_path("/v1/tickets/", "/v1/tickets"), "/v1/tickets/");
    }

    #[test]
    fn leaves_paths_it_cannot_align_alone() {
        assert_eq!(api_path("/tickets", "/v1/tickets"), "/tickets");
        assert_eq!(api_path("/x/y/z", "/{proxy+}"), "/x/y/z");
        assert_eq!(api_path("/", "/"), "/");
    }
}
