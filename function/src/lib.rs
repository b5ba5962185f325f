//! The ticket API: an AWS Lambda behind API Gateway (REST), serving `/v1/tickets` from
//! DynamoDB.
//!
//! A request flows through [`app`] (the API's own path, CORS, headers, logs) to [`routes`]
//! (HTTP in and out), which parses bodies into [`ticket`] values and calls the [`store`].
//! What the function needs from AWS is declared in the `tickets-manifest` crate
//! (`function/manifest`), which the infrastructure reads too.

pub mod app;
pub mod config;
pub mod identity;
pub mod problem;
pub mod routes;
pub mod store;
pub mod telemetry;
