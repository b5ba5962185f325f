//! Environment variables the function reads at start-up.

/// Name of the DynamoDB table holding tickets and idempotency records (required).
pub const TABLE_NAME: &str = "TABLE_NAME";

/// Comma-separated list of origins allowed by CORS, or `*` for any (required).
pub const ALLOWED_ORIGINS: &str = "ALLOWED_ORIGINS";

/// Log level: `error`, `warn`, `info` (default), `debug` or `trace` (optional).
pub const LOG_LEVEL: &str = "LOG_LEVEL";
