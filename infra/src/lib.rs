//! The ticket stack as typed Rust: a CloudFormation template model ([`cfn`]), the
//! environments ([`environment`]) and the stack itself ([`stack`]).
//!
//! This crate only builds templates; it runs no processes and calls no AWS API
//! (that is `xtask`'s job).

pub mod bootstrap;
pub mod cfn;
pub mod environment;
pub mod stack;

pub use cfn::{Format, Template};
pub use environment::{Environment, EnvironmentError};
pub use stack::{first_creation, ticket_stack};

use std::path::Path;

/// Loads `environments/<environment>.yaml` under `root` and builds its ticket stack.
pub fn synth(root: &Path, environment: &str) -> Result<Template, EnvironmentError> {
    let environment = Environment::load(root, environment)?;
    Ok(ticket_stack(&environment))
}
