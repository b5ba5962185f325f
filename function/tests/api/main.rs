//! The ticket API end to end: REST proxy events through `lambda_http` and the real
//! handler, against a real DynamoDB-compatible engine (dynoxide) on a loopback port.
//! Every test gets its own engine, so they run in parallel and leave nothing behind.

mod access;
mod concurrency;
mod crud;
mod faults;
mod listing;
mod logs;
mod operations;
mod preconditions;
mod support;
