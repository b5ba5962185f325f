//! The local stack's state folder (`.tickets/local/`, or `--state-dir`): the embedded
//! DynamoDB's data and the local issuer's signing key, and the tokens that key signs.

use super::auth::{SigningKey, TokenRequest, UserPool};
use super::template::LocalTemplate;
use anyhow::Result;
use std::path::{Path, PathBuf};
use xtask_core::tools::workspace;

/// The environment the local stack mirrors.
pub const ENV: &str = "local";

/// The embedded DynamoDB's database, in the state folder.
pub const DATABASE_FILE: &str = "dynamo.db";

/// Where the local functions' log lines are kept, as CloudWatch Logs would keep them.
pub fn function_log(state_dir: &Path) -> PathBuf {
    state_dir.join("logs").join("function.log")
}

/// Where the event enrichment's log lines are kept: apart from the API function's, as its
/// own log group keeps them on AWS.
pub fn enrichment_log(state_dir: &Path) -> PathBuf {
    state_dir.join("logs").join("ticket-events.log")
}

/// Where the local API's access log lines are kept, in the stage's access log format.
pub fn access_log(state_dir: &Path) -> PathBuf {
    state_dir.join("logs").join("access.log")
}

/// The state folder: `--state-dir`, or `.tickets/local`.
pub fn dir(explicit: Option<&Path>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace::state_dir().join("local"))
}

/// A token from the local issuer whose key lives in `state_dir`.
pub fn token(state_dir: &Path, request: &TokenRequest) -> Result<String> {
    let template = LocalTemplate::synthesize(ENV)?;
    let pool = UserPool::of_template(&template)?;
    SigningKey::load_or_create(state_dir)?.issue(&pool, request)
}
