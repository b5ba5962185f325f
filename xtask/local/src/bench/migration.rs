//! The migration's throughput: `cargo xtask migrate` (the cloud tools' binary, as the
//! dispatcher runs it) copying N tickets shaped like the original function's from one table
//! to another of an embedded DynamoDB engine, with its verification pass.

use super::report::target;
use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The migration, measured.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Migration {
    /// Items in the source.
    pub items: u64,
    /// Parallel scan segments.
    pub segments: u32,
    /// The copy pass: items handled per second (the migrate report's figure).
    pub items_per_second: f64,
    /// The copy pass, s.
    pub copy_seconds: f64,
    /// The whole `migrate` process (table checks, copy, verification), s.
    pub process_seconds: f64,
    /// Items copied (all, on this fresh target).
    pub copied: u64,
    /// Whether the run verified.
    pub verified: bool,
    /// CPU time of the `migrate` process, s.
    pub migrate_cpu_seconds: f64,
    /// CPU time of the engine (this process, which serves it) during the run, s.
    pub engine_cpu_seconds: f64,
    /// The machine's 1-minute load average when the run started (2 cores: above 2, other
    /// work competes for them and the rate falls with it).
    pub load_average: f64,
}

/// The source table, as the original function's was.
const SOURCE: &str = "dyn-tickets";
/// The target table (the manifest's schema).
const TARGET: &str = "tickets-bench";
/// Parallel scan segments of the measured run (`migrate`'s default).
const SEGMENTS: u32 = 4;

/// Seeds `items` tickets and times one migration of them; `state` holds its checkpoint.
pub async fn measure(items: u64, binary: &Path, state: &Path) -> Result<Migration> {
    let db = dynoxide::Database::memory().map_err(|e| anyhow!("opening dynoxide: {e}"))?;
    create_tables(&db)?;
    seed(&db, items)?;
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding a port for DynamoDB")?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(dynoxide::server::serve_with_shutdown(listener, db, async {
        let _ = stopped.await;
    }));
    let _ = std::fs::remove_dir_all(state);
    let (binary, state_dir) = (binary.to_owned(), state.to_owned());
    let load_average = load_average()?;
    let engine_before = super::process::cpu_time(std::process::id())?;
    let run = tokio::task::spawn_blocking(move || run_migrate(&binary, &endpoint, &state_dir))
        .await
        .context("the migration run panicked")?;
    let engine_cpu = super::process::cpu_time(std::process::id())? - engine_before;
    let _ = stop.send(());
    let _ = server.await;
    let (report, process_seconds, migrate_cpu_seconds) = run?;
    Ok(Migration {
        items,
        segments: SEGMENTS,
        items_per_second: report["items_per_second"].as_f64().unwrap_or(0.0),
        copy_seconds: report["seconds"].as_f64().unwrap_or(0.0),
        process_seconds,
        copied: report["counts"]["copied"].as_u64().unwrap_or(0),
        verified: report["outcome"] == "verified",
        migrate_cpu_seconds,
        engine_cpu_seconds: engine_cpu.as_secs_f64(),
        load_average,
    })
}

/// The 1-minute load average (`/proc/loadavg`).
fn load_average() -> Result<f64> {
    let text = std::fs::read_to_string("/proc/loadavg").context("reading /proc/loadavg")?;
    text.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("/proc/loadavg is {text:?}"))
}

/// CPU time of this process's finished children (`cutime` + `cstime` of `/proc/self/stat`),
/// s. The kernel gives it in USER_HZ ticks, 100 a second on every Linux ABI.
fn children_cpu_seconds() -> Result<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
    // The command name, in parentheses, may hold spaces: count fields after its end.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| -> Result<f64> {
        fields
            .get(i)
            .and_then(|n| n.parse::<f64>().ok())
            .with_context(|| format!("/proc/self/stat is {stat:?}"))
    };
    // Fields 16 and 17 of stat(5); after the name, at indices 13 and 14.
    Ok((ticks(13)? + ticks(14)?) / 100.0)
}

/// Runs `migrate`; its report, wall time and CPU time (s).
fn run_migrate(binary: &Path, endpoint: &str, state: &Path) -> Result<(Value, f64, f64)> {
    let cpu_before = children_cpu_seconds()?;
    let started = Instant::now();
    let segments = SEGMENTS.to_string();
    let output = Command::new(binary)
        .args(["migrate", "--env", "local", "--from-table", SOURCE])
        .args(["--from-endpoint", endpoint, "--to-table", TARGET])
        .args(["--to-endpoint", endpoint, "--segments", &segments, "--json"])
        // Dummy credentials and no profile: nothing here may ever reach a real account.
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env_remove("AWS_PROFILE")
        .env("TICKETS_MIGRATE_DIR", state)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("running xtask migrate")?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = children_cpu_seconds()? - cpu_before;
    if !output.status.success() {
        bail!(
            "xtask migrate failed ({}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout)
        );
    }
    let report: Value =
        serde_json::from_slice(&output.stdout).context("reading migrate's JSON report")?;
    Ok((report, seconds, cpu))
}

fn create_tables(db: &dynoxide::Database) -> Result<()> {
    let source = json!({
        "TableName": SOURCE,
        "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    });
    let schema = tickets_manifest::table::TICKETS;
    let key = |name: &str, kind: &str| json!({"AttributeName": name, "KeyType": kind});
    let indexes: Vec<Value> = schema
        .indexes
        .iter()
        .map(|index| {
            json!({
                "IndexName": index.name,
                "KeySchema": [key(index.partition_key.name, "HASH"), key(index.sort_key.name, "RANGE")],
                "Projection": {"ProjectionType": "ALL"},
            })
        })
        .collect();
    let attributes: Vec<Value> = schema
        .key_attributes()
        .iter()
        .map(|a| json!({"AttributeName": a.name, "AttributeType": a.kind.as_str()}))
        .collect();
    let target = json!({
        "TableName": TARGET,
        "KeySchema": [key(schema.partition_key.name, "HASH")],
        "AttributeDefinitions": attributes,
        "GlobalSecondaryIndexes": indexes,
        "BillingMode": "PAY_PER_REQUEST",
    });
    for request in [source, target] {
        db.create_table(serde_json::from_value(request)?)
            .map_err(|e| anyhow!("creating a bench table: {e}"))?;
    }
    Ok(())
}

/// `items` tickets as the original function wrote them, 25 to a `BatchWriteItem`.
fn seed(db: &dynoxide::Database, items: u64) -> Result<()> {
    let statuses = ["NEW", "OPEN", "IN_PROGRESS", "RESOLVED", "CLOSED"];
    let base = time::OffsetDateTime::from_unix_timestamp(1_704_067_200)?;
    let iso = |seconds: u64| -> Result<String> {
        let at = base + time::Duration::seconds(seconds as i64);
        Ok(at.format(&time::format_description::well_known::Rfc3339)?)
    };
    let mut batch = Vec::new();
    for i in 0..items {
        let created = iso(i * 60)?;
        batch.push(json!({"PutRequest": {"Item": {
            "id": {"S": uuid::Uuid::new_v4().to_string()},
            "title": {"S": format!("Ticket {i}: the printer on floor {} is on fire", i % 9)},
            "description": {"S": format!("Reported by desk {i}.\nSince this morning.")},
            "status": {"S": statuses[(i % 5) as usize]},
            "createdAt": {"S": created},
            "updatedAt": {"S": iso(i * 60 + 3600)?},
        }}}));
        if batch.len() == 25 || i + 1 == items {
            let request = json!({"RequestItems": {SOURCE: std::mem::take(&mut batch)}});
            db.batch_write_item(serde_json::from_value(request)?)
                .map_err(|e| anyhow!("seeding the bench's source table: {e}"))?;
        }
    }
    Ok(())
}

/// Whether the throughput meets the target.
pub fn met(migration: &Migration) -> bool {
    migration.items_per_second >= target::MIGRATION_ITEMS_PER_S && migration.verified
}
