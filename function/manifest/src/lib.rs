//! The ticket function's manifest: everything it needs from AWS and everything it serves,
//! declared once.
//!
//! The `manage-tickets` function builds its store, router and CORS policy from these
//! declarations, and `tickets-infra` derives the DynamoDB table, the least-privilege IAM
//! policy, the API Gateway resources and the gateway's CORS headers from the same values.
//! Nothing here depends on an SDK, so the infrastructure crate stays light.

pub mod config;
pub mod cors;
pub mod dynamodb;
pub mod events;
pub mod functions;
pub mod metrics;
pub mod routes;
pub mod table;

/// The Cognito group whose members may delete tickets.
pub const ADMIN_GROUP: &str = "admins";

/// The function's name inside a stack, and the folder of its build artifact.
pub const FUNCTION_NAME: &str = functions::TICKETS_API.name;
