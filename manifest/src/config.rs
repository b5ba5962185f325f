//! Environment variables the function reads at start-up.

/// Name of the DynamoDB table holding tickets and idempotency records (required).
pub const TABLE_NAME: &str = "TABLE_NAME";

/// Comma-separated list of origins allowed by CORS, or `*` for any (required).
pub const ALLOWED_ORIGINS: &str = "ALLOWED_ORIGINS";

/// Log level: `error`, `warn`, `info` (default), `debug` or `trace` (optional).
pub const LOG_LEVEL: &str = "LOG_LEVEL";

/// Read by `lambda_http`: when set, it passes API Gateway's path through without adding
/// the stage name, so routes match with or without a stage prefix.
pub const IGNORE_STAGE_IN_PATH: &str = "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH";
