//! The ticket API: an AWS Lambda behind API Gateway (REST), serving `/v1/tickets` from
//! DynamoDB.
//!
//! A request flows through [`app`] (stage prefix, CORS, headers, logs) to [`routes`]
//! (HTTP in and out), which parses bodies into [`ticket`] values and calls the [`store`].
//! What the function needs from AWS is declared in [`manifest`], which the
//! infrastructure reads too.

pub mod app;
pub mod config;
pub mod cors;
pub mod cursor;
pub mod identity;
pub mod problem;
pub mod response_headers;
pub mod routes;
pub mod store;
pub mod telemetry;
pub mod ticket;

/// The declarations this function shares with its infrastructure.
pub use tickets_manifest as manifest;
