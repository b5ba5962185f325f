//! A DynamoDB engine (dynoxide) on a loopback port holding both the original table and the
//! new one, the real `xtask` binary pointed at them, and the items the tests seed.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, PutRequest, ScalarAttributeType, WriteRequest,
};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use tickets_manifest::table::{AttributeType, TICKETS};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

/// An item.
pub type Item = HashMap<String, AttributeValue>;

/// A string attribute.
pub fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

/// The engine, its client, and a folder for checkpoints and reports; all gone when dropped.
pub struct Engine {
    /// Runs the engine and the client.
    pub runtime: Runtime,
    /// `http://127.0.0.1:<port>`
    pub endpoint: String,
    /// A client for set-up and inspection.
    pub client: Client,
    /// Where `migrate` keeps its checkpoint and report.
    pub state: PathBuf,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = std::fs::remove_dir_all(&self.state);
    }
}

/// The result of one `xtask` run.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// The `--json` report.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("no JSON report ({e}):\n{}\n{}", self.stdout, self.stderr))
    }

    /// Asserts the exit code, showing the output otherwise.
    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "xtask migrate exited {}:\n{}\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

impl Engine {
    /// A fresh in-memory engine.
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (endpoint, stop) = runtime.block_on(async {
            let db = dynoxide::Database::memory().expect("an in-memory database");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let endpoint = format!("http://{}", listener.local_addr().unwrap());
            let (stop, stopped) = oneshot::channel::<()>();
            tokio::spawn(dynoxide::server::serve_with_shutdown(listener, db, async {
                let _ = stopped.await;
            }));
            (endpoint, stop)
        });
        use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let client = Client::from_conf(
            aws_sdk_dynamodb::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .http_client(http)
                .endpoint_url(&endpoint)
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
                .build(),
        );
        let state = std::env::temp_dir().join(format!("tickets-migrate-{}", uuid::Uuid::new_v4()));
        Engine {
            runtime,
            endpoint,
            client,
            state,
            stop: Some(stop),
        }
    }

    /// The command that migrates `source` into `target` on this engine, with `args`.
    pub fn command(&self, source: &str, target: &str, args: &[&str]) -> Command {
        self.command_at(&self.endpoint, source, target, args)
    }

    /// The same, reaching the engine through `endpoint` (a proxy).
    pub fn command_at(&self, endpoint: &str, source: &str, target: &str, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask-cloud"));
        command
            .args(["migrate", "--env", "local", "--from-table", source])
            .args(["--from-endpoint", endpoint])
            .args(["--to-table", target, "--to-endpoint", endpoint])
            .args(args)
            .env("TICKETS_MIGRATE_DIR", &self.state)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_ENDPOINT_URL")
            .stdin(Stdio::null());
        command
    }

    /// Runs `migrate` to the end.
    pub fn migrate(&self, source: &str, target: &str, args: &[&str]) -> Run {
        self.migrate_at(&self.endpoint, source, target, args)
    }

    /// Runs `migrate` to the end, reaching the engine through `endpoint` (a proxy).
    pub fn migrate_at(&self, endpoint: &str, source: &str, target: &str, args: &[&str]) -> Run {
        let output = self
            .command_at(endpoint, source, target, args)
            .output()
            .expect("run xtask");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Starts `migrate` without waiting.
    pub fn spawn(&self, source: &str, target: &str, args: &[&str]) -> Child {
        self.command(source, target, args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run xtask")
    }

    /// The checkpoint of `source` → `target`, if written yet.
    pub fn checkpoint(&self, source: &str, target: &str) -> Option<Value> {
        let text =
            std::fs::read_to_string(self.state.join(format!("{source}-to-{target}.json"))).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Creates the original table: key `id`, on demand.
    pub fn create_source(&self, table: &str) {
        self.runtime.block_on(async {
            self.client
                .create_table()
                .table_name(table)
                .billing_mode(BillingMode::PayPerRequest)
                .key_schema(key("id", KeyType::Hash))
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name("id")
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .expect("create the source table");
        });
    }

    /// Creates a tickets table as the manifest declares it.
    pub fn create_target(&self, table: &str) {
        let kind = |k: AttributeType| match k {
            AttributeType::S => ScalarAttributeType::S,
            AttributeType::N => ScalarAttributeType::N,
            AttributeType::B => ScalarAttributeType::B,
        };
        let mut request = self
            .client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key(TICKETS.partition_key.name, KeyType::Hash));
        for attribute in TICKETS.key_attributes() {
            request = request.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(attribute.name)
                    .attribute_type(kind(attribute.kind))
                    .build()
                    .unwrap(),
            );
        }
        for index in TICKETS.indexes {
            request = request.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(index.name)
                    .key_schema(key(index.partition_key.name, KeyType::Hash))
                    .key_schema(key(index.sort_key.name, KeyType::Range))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::All)
                            .build(),
                    )
                    .build()
                    .unwrap(),
            );
        }
        self.runtime
            .block_on(request.send())
            .expect("create the tickets table");
    }

    /// Writes `items` with `BatchWriteItem`, 25 a request, 8 requests at a time.
    pub fn seed(&self, table: &str, items: Vec<Item>) {
        self.runtime.block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            for chunk in items.chunks(25) {
                let requests: Vec<WriteRequest> = chunk
                    .iter()
                    .map(|item| {
                        WriteRequest::builder()
                            .put_request(
                                PutRequest::builder()
                                    .set_item(Some(item.clone()))
                                    .build()
                                    .unwrap(),
                            )
                            .build()
                    })
                    .collect();
                let (client, table) = (self.client.clone(), table.to_owned());
                tasks.spawn(async move {
                    let mut pending = HashMap::from([(table.clone(), requests)]);
                    while !pending.is_empty() {
                        let out = client
                            .batch_write_item()
                            .set_request_items(Some(pending))
                            .send()
                            .await
                            .expect("seed the table");
                        pending = out.unprocessed_items.unwrap_or_default();
                        pending.retain(|_, r| !r.is_empty());
                    }
                });
                if tasks.len() >= 8 {
                    tasks.join_next().await.unwrap().unwrap();
                }
            }
            while let Some(done) = tasks.join_next().await {
                done.unwrap();
            }
        });
    }

    /// Every item of `table`.
    pub fn scan(&self, table: &str) -> Vec<Item> {
        self.runtime.block_on(async {
            let mut items = Vec::new();
            let mut start = None;
            loop {
                let page = self
                    .client
                    .scan()
                    .table_name(table)
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .expect("scan");
                items.extend(page.items.unwrap_or_default());
                match page.last_evaluated_key {
                    Some(key) if !key.is_empty() => start = Some(key),
                    _ => return items,
                }
            }
        })
    }

    /// Puts one item (no condition).
    pub fn put(&self, table: &str, item: Item) {
        self.runtime
            .block_on(
                self.client
                    .put_item()
                    .table_name(table)
                    .set_item(Some(item))
                    .send(),
            )
            .expect("put an item");
    }

    /// Deletes the item whose key attribute `key` is `value`.
    pub fn delete(&self, table: &str, key: &str, value: &str) {
        self.runtime
            .block_on(
                self.client
                    .delete_item()
                    .table_name(table)
                    .key(key, s(value))
                    .send(),
            )
            .expect("delete an item");
    }

    /// The ids of the first `limit` tickets of the new table's listing, newest first.
    pub fn newest(&self, table: &str, limit: i32) -> Vec<String> {
        let page = self
            .runtime
            .block_on(
                self.client
                    .query()
                    .table_name(table)
                    .index_name("byCreated")
                    .key_condition_expression("listKey = :l")
                    .expression_attribute_values(":l", s("TICKET"))
                    .scan_index_forward(false)
                    .limit(limit)
                    .send(),
            )
            .expect("query the listing");
        page.items()
            .iter()
            .map(|item| text(item, "id").to_owned())
            .collect()
    }
}

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .unwrap()
}

/// A string attribute's text ("" when absent or not a string).
pub fn text<'a>(item: &'a Item, name: &str) -> &'a str {
    match item.get(name) {
        Some(AttributeValue::S(text)) => text,
        _ => "",
    }
}

/// A unique table name.
pub fn table(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// `2024-01-01T00:00:00.000Z` plus `seconds`, as JavaScript's `toISOString()` writes it.
pub fn iso(seconds: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(1_704_067_200 + seconds).unwrap();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
        (seconds * 7) % 1000
    )
}

/// An item as the original function wrote it.
pub fn original(i: i64) -> Item {
    let statuses = ["NEW", "OPEN", "IN_PROGRESS", "RESOLVED", "CLOSED"];
    let mut item = Item::from([
        ("id".into(), s(&uuid::Uuid::new_v4().to_string())),
        (
            "title".into(),
            s(&format!("Ticket {i}: printer on floor {}", i % 9)),
        ),
        ("status".into(), s(statuses[(i % 5) as usize])),
        ("createdAt".into(), s(&iso(i * 60))),
        ("updatedAt".into(), s(&iso(i * 60 + (i % 7) * 3600))),
    ]);
    if i % 3 != 0 {
        item.insert(
            "description".into(),
            s(&format!("Line one of {i}\nline two\twith a tab")),
        );
    }
    item
}

/// The ways an item can be malformed, with the problem each one is reported as and
/// whether `--repair` repairs it.
pub const MALFORMED: [(&str, bool); 10] = [
    ("title_empty", false),
    ("title_too_long", true),
    ("title_control_characters", true),
    ("status_unknown", false),
    ("status_spelling", true),
    ("status_missing", true),
    ("created_at_malformed", false),
    ("created_at_missing", false),
    ("id_not_uuid", false),
    ("created_at_epoch_millis", true),
];

/// Item `i` broken the `way`-th way of [`MALFORMED`].
pub fn malformed(i: i64, way: usize) -> Item {
    let mut item = original(i);
    match MALFORMED[way].0 {
        "title_empty" => {
            item.insert("title".into(), s("   "));
        }
        "title_too_long" => {
            item.insert("title".into(), s(&"Overflowing ".repeat(30)));
        }
        "title_control_characters" => {
            item.insert("title".into(), s("Two\nlines"));
        }
        "status_unknown" => {
            item.insert("status".into(), s("WONTFIX"));
        }
        "status_spelling" => {
            item.insert("status".into(), s("in progress"));
        }
        "status_missing" => {
            item.remove("status");
        }
        "created_at_malformed" => {
            item.insert("createdAt".into(), s("last Tuesday"));
        }
        "created_at_missing" => {
            item.remove("createdAt");
        }
        "id_not_uuid" => {
            item.insert("id".into(), s(&format!("legacy-{i}")));
        }
        "created_at_epoch_millis" => {
            item.insert(
                "createdAt".into(),
                AttributeValue::N(((1_704_067_200 + i * 60) * 1000).to_string()),
            );
        }
        other => unreachable!("{other}"),
    }
    item
}

/// `total` items of which `broken` are malformed (cycling through every way), and 100 valid
/// ones carry an attribute the new model lacks (`tags`). Returns the items and, for each
/// malformed one, its id and the problem expected.
pub fn source_items(total: i64, broken: i64) -> (Vec<Item>, HashMap<String, &'static str>) {
    let mut items = Vec::new();
    let mut expected = HashMap::new();
    let every = total / broken.max(1);
    for i in 0..total {
        let way = (i / every) as usize;
        let item = if broken > 0 && i % every == 0 && (i / every) < broken {
            let item = malformed(i, way % MALFORMED.len());
            expected.insert(
                text(&item, "id").to_owned(),
                MALFORMED[way % MALFORMED.len()].0,
            );
            item
        } else {
            let mut item = original(i);
            if i % 97 == 1 && i < 97 * 100 {
                item.insert("tags".into(), s("printers"));
            }
            item
        };
        items.push(item);
    }
    (items, expected)
}
