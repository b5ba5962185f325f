//! The template's functions as the local stack runs them: the configuration Lambda would
//! give each (pointed at the embedded DynamoDB), and their pools of instances behind the
//! gateway.

use super::gateway::handle::Backend;
use super::instance::{FunctionConfig, InvokeError, Logs};
use super::instance_pool::Pool;
use super::template::LocalTemplate;
use anyhow::{Context, Result};
use bytes::Bytes;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// The most instances of the function running at once unless the template reserves fewer.
pub const MAX_INSTANCES: usize = 8;

/// The functions of the template by logical id, each behind its pool of instances; a
/// reload replaces the pools while requests go on.
pub struct Functions(RwLock<HashMap<String, Arc<Pool>>>);

impl Functions {
    /// These pools, by logical id.
    pub fn new(pools: HashMap<String, Arc<Pool>>) -> Self {
        Functions(RwLock::new(pools))
    }

    /// The pools serving now.
    pub fn pools(&self) -> Vec<Arc<Pool>> {
        self.0
            .read()
            .map(|pools| pools.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Serves every new invocation from `pools`; returns the pools it replaced (whose
    /// running invocations finish on the old code).
    pub fn replace(&self, pools: HashMap<String, Arc<Pool>>) -> Vec<Arc<Pool>> {
        match self.0.write() {
            Ok(mut current) => std::mem::replace(&mut *current, pools)
                .into_values()
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

impl Backend for Functions {
    fn invoke(
        &self,
        logical_id: &str,
        event: Bytes,
    ) -> Pin<Box<dyn Future<Output = Result<Bytes, InvokeError>> + Send + '_>> {
        let pool = self
            .0
            .read()
            .ok()
            .and_then(|pools| pools.get(logical_id).cloned());
        let logical_id = logical_id.to_owned();
        Box::pin(async move {
            let Some(pool) = pool else {
                return Err(InvokeError::Crashed(format!(
                    "function {logical_id} is not running"
                )));
            };
            // Like Lambda, an invocation runs to its end even if the client goes away: in its
            // own task, so that dropping the request does not kill the instance serving it.
            tokio::spawn(async move { pool.invoke(event).await })
                .await
                .unwrap_or_else(|e| {
                    Err(InvokeError::Crashed(format!(
                        "the invocation task failed: {e}"
                    )))
                })
        })
    }
}

/// How the template runs function `logical_id`, pointed at the local DynamoDB engine.
pub fn function_config(
    template: &LocalTemplate,
    logical_id: &str,
    binary: &Path,
    endpoint: &str,
    logs: Logs,
) -> Result<(FunctionConfig, usize)> {
    let properties = template.properties(logical_id)?;
    let number = |name: &str, default: u64| -> Result<u64> {
        match properties.get(name) {
            None => Ok(default),
            Some(value) => template
                .resolve_string(value)?
                .parse()
                .with_context(|| format!("{logical_id}.{name}")),
        }
    };
    let mut env = BTreeMap::new();
    if let Some(variables) = template
        .resolve(&properties["Environment"]["Variables"])?
        .as_object()
    {
        for (name, value) in variables {
            let text = match value {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            env.insert(name.clone(), text);
        }
    }
    // Lambda's advanced logging controls reach the runtime as these two variables.
    let logging = &properties["LoggingConfig"];
    if let Some(format) = logging["LogFormat"].as_str() {
        env.insert("AWS_LAMBDA_LOG_FORMAT".into(), format.to_owned());
        if format == "JSON" {
            let level = logging["ApplicationLogLevel"].as_str().unwrap_or("INFO");
            env.insert("AWS_LAMBDA_LOG_LEVEL".into(), level.to_owned());
        }
    }
    env.insert("AWS_ENDPOINT_URL".into(), endpoint.to_owned());
    let reserved = number("ReservedConcurrentExecutions", MAX_INSTANCES as u64)? as usize;
    let config = FunctionConfig {
        binary: binary.to_path_buf(),
        name: template.reference(logical_id)?,
        memory_mb: number("MemorySize", 128)? as u32,
        timeout: Duration::from_secs(number("Timeout", 3)?),
        region: template.region.clone(),
        account: template.account.clone(),
        env,
        logs,
    };
    Ok((config, reserved.clamp(1, MAX_INSTANCES)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo xtask bench` runs the prod template locally, KMS key and all.
    #[test]
    fn reads_every_environments_function_configuration() {
        for env in ["local", "dev", "staging", "prod"] {
            let template = LocalTemplate::synthesize(env).unwrap();
            function_config(
                &template,
                "Function",
                Path::new("bootstrap"),
                "http://127.0.0.1:1",
                Logs::Discard,
            )
            .unwrap_or_else(|e| panic!("{env}: {e:#}"));
        }
    }
}
