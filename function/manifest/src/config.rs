//! Environment variables the function reads at start-up.

/// Name of the DynamoDB table holding tickets and idempotency records (required).
pub const TABLE_NAME: &str = "TABLE_NAME";

/// Comma-separated list of origins allowed by CORS, or `*` for any (required).
pub const ALLOWED_ORIGINS: &str = "ALLOWED_ORIGINS";

/// The function's own log level (optional): `TRACE`, `DEBUG`, `INFO` (default), `WARN`,
/// `ERROR` or `FATAL`. Lambda sets it from the function's `LoggingConfig`
/// (`ApplicationLogLevel`, JSON log format), and drops lines below it on its side too.
pub const LOG_LEVEL: &str = "AWS_LAMBDA_LOG_LEVEL";

/// Extra log directives (optional), in `tracing`'s `target=level` syntax, to hear from a
/// dependency while debugging (`aws_smithy_runtime=debug,hyper_util=debug`); dependencies
/// log at `warn` otherwise.
pub const LOG_DIRECTIVES: &str = "RUST_LOG";

/// The function's name, set by Lambda: the `Service` dimension of its metrics.
pub const FUNCTION_NAME: &str = "AWS_LAMBDA_FUNCTION_NAME";
