//! The embedded DynamoDB engine of `cargo xtask local` (dynoxide, SQLite-backed) and the
//! tables of a template created in it.

use super::template::LocalTemplate;
use anyhow::{Context, Result, anyhow};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A DynamoDB-compatible server on a loopback port, over a database file.
pub struct LocalDynamo {
    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL`.
    pub endpoint: String,
    stop: oneshot::Sender<()>,
    server: JoinHandle<Result<(), String>>,
}

/// A table of the template, and whether this start created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTable {
    /// Physical name.
    pub name: String,
    /// True when it did not exist before (a fresh start).
    pub created: bool,
    /// Set when the stored table's keys or indexes differ from the template's.
    pub drift: Option<String>,
}

impl LocalDynamo {
    /// Opens (or creates) `path`, creates the template's tables that do not exist yet, and
    /// serves the DynamoDB API on a free loopback port.
    pub async fn start(path: &Path, template: &LocalTemplate) -> Result<(Self, Vec<LocalTable>)> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let text = path
            .to_str()
            .context("the state folder's path is not UTF-8")?;
        let db = dynoxide::Database::new(text).map_err(|e| {
            anyhow!(
                "opening {} failed: {e}; if it is damaged, start again with --fresh",
                path.display()
            )
        })?;
        let mut tables = Vec::new();
        for (request, ttl) in table_requests(template)? {
            tables.push(ensure_table(&db, request, ttl)?);
        }
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding a port for DynamoDB")?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(dynoxide::server::serve_with_shutdown(listener, db, async {
            let _ = stopped.await;
        }));
        Ok((
            LocalDynamo {
                endpoint,
                stop,
                server,
            },
            tables,
        ))
    }

    /// Stops accepting, lets running requests finish and closes the database.
    pub async fn stop(self) -> Result<()> {
        let _ = self.stop.send(());
        self.server
            .await
            .context("the DynamoDB server task failed")?
            .map_err(|e| anyhow!("the DynamoDB server stopped with an error: {e}"))
    }
}

/// `CreateTable` requests (and TTL attributes) for every table of the template.
pub fn table_requests(template: &LocalTemplate) -> Result<Vec<(Value, Option<String>)>> {
    let mut requests = Vec::new();
    for (logical_id, _) in template.resources("AWS::DynamoDB::Table") {
        // Only the members the engine takes are resolved: the others (a customer managed
        // key's ARN in SSESpecification) name resources that do not exist locally.
        let declared = template.properties(logical_id)?;
        let mut properties = Map::new();
        for member in [
            "KeySchema",
            "AttributeDefinitions",
            "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes",
            "BillingMode",
            "ProvisionedThroughput",
            "StreamSpecification",
            "TimeToLiveSpecification",
        ] {
            if let Some(value) = declared.get(member) {
                properties.insert(member.into(), template.resolve(value)?);
            }
        }
        let properties = Value::Object(properties);
        let name = template.reference(logical_id)?;
        let mut request = Map::new();
        request.insert("TableName".into(), json!(name));
        // CloudFormation's table properties mirror the API's CreateTable members.
        for member in [
            "KeySchema",
            "AttributeDefinitions",
            "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes",
            "BillingMode",
            "ProvisionedThroughput",
        ] {
            if let Some(value) = properties.get(member) {
                request.insert(member.into(), value.clone());
            }
        }
        if let Some(view) = properties["StreamSpecification"]["StreamViewType"].as_str() {
            request.insert(
                "StreamSpecification".into(),
                json!({"StreamEnabled": true, "StreamViewType": view}),
            );
        }
        let ttl = match &properties["TimeToLiveSpecification"] {
            spec if spec["Enabled"] == true => spec["AttributeName"].as_str().map(str::to_owned),
            _ => None,
        };
        requests.push((Value::Object(request), ttl));
    }
    Ok(requests)
}

fn ensure_table(
    db: &dynoxide::Database,
    request: Value,
    ttl: Option<String>,
) -> Result<LocalTable> {
    let name = request["TableName"].as_str().unwrap_or_default().to_owned();
    let described = db.describe_table(serde_json::from_value(json!({"TableName": name}))?);
    let (created, drift) = match described {
        Ok(description) => {
            let stored = serde_json::to_value(description)?;
            (false, drift(&request, &stored["Table"]))
        }
        Err(dynoxide::DynoxideError::ResourceNotFoundException(_)) => {
            let create = serde_json::from_value(request.clone()).map_err(|e| {
                anyhow!("the template's table {name} is not a valid CreateTable request: {e}")
            })?;
            db.create_table(create)
                .map_err(|e| anyhow!("creating table {name}: {e}"))?;
            if let Some(attribute) = &ttl {
                let update = json!({"TableName": name, "TimeToLiveSpecification": {"AttributeName": attribute, "Enabled": true}});
                db.update_time_to_live(serde_json::from_value(update)?)
                    .map_err(|e| anyhow!("enabling TTL on {name}: {e}"))?;
            }
            (true, None)
        }
        Err(err) => return Err(anyhow!("reading table {name}: {err}")),
    };
    Ok(LocalTable {
        name,
        created,
        drift,
    })
}

/// What differs between the template's keys and indexes and the stored table's.
fn drift(request: &Value, stored: &Value) -> Option<String> {
    let keys = |v: &Value| v["KeySchema"].to_string();
    let indexes = |v: &Value| {
        let mut list: Vec<String> = v["GlobalSecondaryIndexes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|i| format!("{}{}", i["IndexName"], i["KeySchema"]))
            .collect();
        list.sort();
        list
    };
    if keys(request) != keys(stored) {
        Some("its key schema differs from the template's".into())
    } else if indexes(request) != indexes(stored) {
        Some("its global secondary indexes differ from the template's".into())
    } else {
        None
    }
}

/// Deletes a database file and SQLite's companion files (`-wal`, `-shm`, `-journal`).
pub fn remove_database(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let file = PathBuf::from(format!("{}{suffix}", path.display()));
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err).with_context(|| format!("deleting {}", file.display())),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cargo xtask bench` runs the prod template locally, with its KMS-encrypted table.
    #[test]
    fn creates_the_tables_of_every_environment() {
        for env in ["local", "dev", "staging", "prod"] {
            let template = LocalTemplate::synthesize(env).unwrap();
            let requests = table_requests(&template).unwrap_or_else(|e| panic!("{env}: {e:#}"));
            assert!(!requests.is_empty(), "{env}");
        }
    }
}
