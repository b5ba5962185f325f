//! The HTTP routes the function serves, in API Gateway's path syntax.

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
    /// `PUT`
    Put,
    /// `PATCH`
    Patch,
    /// `DELETE`
    Delete,
    /// `OPTIONS` (CORS preflight)
    Options,
}

impl Method {
    /// The method's name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Options => "OPTIONS",
        }
    }

    /// Whether callers must present a Cognito identity: everything but CORS preflight.
    pub const fn requires_identity(self) -> bool {
        !matches!(self, Method::Options)
    }
}

/// One path and the methods served on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Path in API Gateway syntax, e.g. `/v1/tickets/{id}` (axum 0.8 uses the same syntax).
    pub path: &'static str,
    /// Methods served on this path.
    pub methods: &'static [Method],
}

/// The ticket collection.
pub const TICKETS: Route = Route {
    path: "/v1/tickets",
    methods: &[Method::Get, Method::Post, Method::Options],
};

/// One ticket.
pub const TICKET: Route = Route {
    path: "/v1/tickets/{id}",
    methods: &[
        Method::Get,
        Method::Put,
        Method::Patch,
        Method::Delete,
        Method::Options,
    ],
};

/// Every route the function serves.
pub const ROUTES: &[Route] = &[TICKETS, TICKET];

/// The name of the path parameter that carries a ticket id.
pub const ID_PARAMETER: &str = "id";

/// Every `(method, path)` pair, sorted, for comparing with a template or a spec.
pub fn operations() -> Vec<(Method, &'static str)> {
    let mut ops: Vec<_> = ROUTES
        .iter()
        .flat_map(|r| r.methods.iter().map(move |m| (*m, r.path)))
        .collect();
    ops.sort();
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_preflight_is_anonymous() {
        let anonymous: Vec<_> = operations()
            .into_iter()
            .filter(|(m, _)| !m.requires_identity())
            .collect();
        assert_eq!(
            anonymous,
            vec![
                (Method::Options, TICKETS.path),
                (Method::Options, TICKET.path)
            ]
        );
    }

    #[test]
    fn lists_eight_operations() {
        assert_eq!(operations().len(), 8);
    }
}
