//! The local pipe: the template's `AWS::Pipes::Pipe` run on this machine. It reads the
//! embedded engine's stream ([`stream`]), keeps the records its filter passes ([`filter`]),
//! hands them in batches to the enrichment function (the real binary, under the Runtime API
//! emulator) and puts the events it returns on the local bus. A batch the enrichment keeps
//! refusing is retried as the pipe's `MaximumRetryAttempts` says, then written to the
//! dead-letter file (Pipes would first halve it to isolate the bad record; locally the whole
//! batch goes). Where it stopped is kept in the state folder, so a restart neither loses
//! nor repeats records.

pub mod filter;
pub mod stream;

use super::bus::{DEAD_LETTER_FILE, LocalBus};
use super::instance_pool::Pool;
use super::template::LocalTemplate;
use anyhow::{Context, Result, anyhow};
use bytes::Bytes;
use filter::Filter;
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use stream::{Start, StreamReader};
use tickets_domain::event::TicketEvent;
use tokio::sync::watch;

/// Where the pipe stopped reading: the stream and the last sequence number it handled.
pub const POSITION_FILE: &str = "stream-position";

/// The template's pipe, as the local stack runs it.
#[derive(Debug, Clone)]
pub struct PipeConfig {
    /// The pipe's name.
    pub name: String,
    /// The table whose stream is the source.
    pub table: String,
    /// The enrichment function's logical id.
    pub enrichment: String,
    /// `FilterCriteria`.
    pub filter: Filter,
    /// `BatchSize`.
    pub batch_size: usize,
    /// `MaximumRetryAttempts` of a batch.
    pub retry_attempts: u32,
    /// The events' `source`.
    pub source: String,
}

impl PipeConfig {
    /// The template's first pipe, if it has one.
    pub fn of_template(template: &LocalTemplate) -> Result<Option<Self>> {
        let Some((logical_id, _)) = template.resources("AWS::Pipes::Pipe").next() else {
            return Ok(None);
        };
        let properties = template.properties(logical_id)?;
        let target_of = |name: &str| -> Result<String> {
            properties[name]["Fn::GetAtt"][0]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| anyhow!("{logical_id}.{name} is not a Fn::GetAtt of a resource"))
        };
        let table = template.reference(&target_of("Source")?)?;
        let stream = &properties["SourceParameters"]["DynamoDBStreamParameters"];
        let patterns = properties["SourceParameters"]["FilterCriteria"]["Filters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["Pattern"].as_str().map(str::to_owned))
            .collect::<Vec<_>>();
        let number = |value: &Value, default: u64| value.as_u64().unwrap_or(default);
        Ok(Some(PipeConfig {
            name: template.resolve_string(&properties["Name"])?,
            table,
            enrichment: target_of("Enrichment")?,
            filter: Filter::parse(&patterns)?,
            batch_size: number(&stream["BatchSize"], 10).clamp(1, 10_000) as usize,
            retry_attempts: number(&stream["MaximumRetryAttempts"], 0) as u32,
            source: template.resolve_string(
                &properties["TargetParameters"]["EventBridgeEventBusParameters"]["Source"],
            )?,
        }))
    }
}

/// The running pipe.
pub struct LocalPipe {
    config: PipeConfig,
    reader: StreamReader,
    position: Position,
    enrichment: Arc<Pool>,
    bus: Arc<LocalBus>,
    dead_letters: PathBuf,
}

impl LocalPipe {
    /// Opens the stream where the last run stopped (from its start on a fresh table).
    pub async fn open(
        config: PipeConfig,
        dynamo_endpoint: &str,
        region: &str,
        state: &Path,
        enrichment: Arc<Pool>,
        bus: Arc<LocalBus>,
    ) -> Result<Self> {
        let position = Position(state.join(POSITION_FILE));
        let start = position.read().map_or(Start::TrimHorizon, Start::After);
        let reader = match StreamReader::open(
            dynamo_endpoint,
            region,
            &config.table,
            start.clone(),
            100,
        )
        .await
        {
            Err(err) if start != Start::TrimHorizon => {
                eprintln!(
                    "warning: the stream cannot resume where it stopped ({err:#}); reading it from its start"
                );
                StreamReader::open(
                    dynamo_endpoint,
                    region,
                    &config.table,
                    Start::TrimHorizon,
                    100,
                )
                .await?
            }
            other => other?,
        };
        Ok(LocalPipe {
            config,
            reader,
            position,
            enrichment,
            bus,
            dead_letters: state.join(DEAD_LETTER_FILE),
        })
    }

    /// Reads, enriches and puts until `stop` turns true, then drains what the stream
    /// already holds.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        loop {
            let stopping = *stop.borrow();
            let records = match self.reader.next().await {
                Ok(records) => records,
                Err(err) => {
                    eprintln!("warning: the local pipe could not read the stream: {err:#}");
                    if stopping {
                        return;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            if records.is_empty() {
                if stopping {
                    return;
                }
                // Pipes polls a shard about four times a second; locally a little faster.
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            let last = records
                .last()
                .and_then(stream::sequence_number)
                .map(str::to_owned);
            let passing: Vec<Value> = records
                .into_iter()
                .filter(|r| self.config.filter.passes(r))
                .collect();
            for batch in passing.chunks(self.config.batch_size) {
                self.handle(batch).await;
            }
            if let Some(last) = last
                && let Err(err) = self.position.write(&last)
            {
                eprintln!("warning: {err:#}; a restart may hand some records over again");
            }
        }
    }

    /// One batch: enriched and put on the bus, retried, or dead-lettered.
    async fn handle(&self, batch: &[Value]) {
        let payload = Bytes::from(Value::Array(batch.to_vec()).to_string());
        let mut wait = Duration::from_millis(100);
        let mut attempt = 0;
        loop {
            let problem = match self.enrichment.invoke(payload.clone()).await {
                Ok(answer) => match serde_json::from_slice::<Vec<TicketEvent>>(&answer) {
                    Ok(events) => match self.bus.put(&events) {
                        Ok(()) => return,
                        Err(err) => format!("{err:#}"),
                    },
                    Err(err) => {
                        format!("the enrichment's answer is not a list of ticket events: {err}")
                    }
                },
                Err(err) => err.to_string(),
            };
            if attempt >= self.config.retry_attempts {
                self.dead_letter(batch, &problem, attempt + 1);
                return;
            }
            attempt += 1;
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(5));
        }
    }

    fn dead_letter(&self, batch: &[Value], problem: &str, attempts: u32) {
        eprintln!(
            "warning: the pipe {} gave up on {} record(s) after {attempts} attempt(s) ({problem}); they are in {}",
            self.config.name,
            batch.len(),
            self.dead_letters.display()
        );
        let letter = json!({"reason": problem, "attempts": attempts, "records": batch});
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.dead_letters)
            .and_then(|mut file| writeln!(file, "{letter}"));
        if let Err(err) = written {
            eprintln!(
                "error: writing {} failed ({err}); the records are lost",
                self.dead_letters.display()
            );
        }
    }
}

/// The file keeping the last sequence number handled.
struct Position(PathBuf);

impl Position {
    fn read(&self) -> Option<String> {
        std::fs::read_to_string(&self.0)
            .ok()
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty())
    }

    fn write(&self, sequence: &str) -> Result<()> {
        std::fs::write(&self.0, sequence)
            .with_context(|| format!("keeping the stream position in {}", self.0.display()))
    }
}
