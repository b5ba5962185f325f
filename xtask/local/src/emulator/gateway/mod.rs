//! An API Gateway REST API, emulated from a rendered template: routes from its
//! `AWS::ApiGateway::Resource`/`Method`s, Cognito authorizers, gateway responses and the
//! service limits, each request turned into the REST proxy event Lambda would receive and
//! the function's answer turned back into the HTTP response.
//!
//! A path or method the template lacks answers `403 Missing Authentication Token` and a
//! method with an authorizer refuses a missing or invalid token with `401`, exactly as the
//! deployed API does, so the template is tested with every local request.
//!
//! [`api`] reads the template, [`handle`] answers one request (with [`routing`],
//! [`throttle`], [`proxy_event`] and [`responses`]) and [`server`] serves HTTP.

pub mod api;
pub mod handle;
mod proxy_event;
mod responses;
mod routing;
pub mod server;
mod throttle;

#[cfg(test)]
mod tests;
