//! Tests of the rendered ticket stack: linting, policy rules, routes, the reviewed snapshot,
//! and the environment files they are rendered from.

mod cfn_lint;
mod common;
mod environments;
mod guard;
mod routes;
mod size;
mod snapshot;
