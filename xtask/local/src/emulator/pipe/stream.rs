//! The embedded engine's DynamoDB stream, read with the Streams SDK as Pipes reads
//! DynamoDB's: every shard from a position, records handed over in the JSON Pipes gives its
//! enrichment (`eventID`, `eventName`, `dynamodb` with typed images).

use anyhow::{Context, Result, anyhow};
use aws_sdk_dynamodbstreams::Client;
use aws_sdk_dynamodbstreams::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use base64::Engine;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// Where a reader starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// The oldest record the stream keeps (the pipe's `TRIM_HORIZON`).
    TrimHorizon,
    /// Just after this sequence number (where an earlier run stopped).
    After(String),
}

/// A reader of one table's stream.
pub struct StreamReader {
    client: Client,
    shard_iterator: Option<String>,
    limit: i32,
    region: String,
    stream_arn: String,
}

impl StreamReader {
    /// Opens `table`'s stream on the engine at `endpoint`, from `start`, `limit` records a
    /// read at most.
    pub async fn open(
        endpoint: &str,
        region: &str,
        table: &str,
        start: Start,
        limit: i32,
    ) -> Result<Self> {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(endpoint)
            .credentials_provider(Credentials::new("local", "local", None, None, "local"))
            // The SDKs are built without a client of their own: the function's (hyper, rustls).
            .http_client(manage_tickets::store::client::http_client())
            .load()
            .await;
        let client = Client::new(&config);
        let streams = client
            .list_streams()
            .table_name(table)
            .send()
            .await
            .context("listing the local table's streams")?;
        let stream_arn = streams
            .streams()
            .first()
            .and_then(|s| s.stream_arn())
            .ok_or_else(|| {
                anyhow!("the local table {table} has no stream; run with --fresh to recreate it from the template")
            })?
            .to_owned();
        let description = client
            .describe_stream()
            .stream_arn(&stream_arn)
            .send()
            .await
            .context("describing the local table's stream")?;
        // The engine keeps one shard per table: one reader keeps the order of every record.
        let shard = description
            .stream_description()
            .and_then(|d| d.shards().first())
            .and_then(|s| s.shard_id())
            .context("the local stream has no shard")?
            .to_owned();
        let mut request = client
            .get_shard_iterator()
            .stream_arn(&stream_arn)
            .shard_id(&shard);
        request = match &start {
            Start::TrimHorizon => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
            Start::After(sequence) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(sequence),
        };
        let iterator = request
            .send()
            .await
            .context("opening the local stream's shard")?
            .shard_iterator()
            .map(str::to_owned);
        Ok(StreamReader {
            client,
            shard_iterator: iterator,
            limit,
            region: region.to_owned(),
            stream_arn,
        })
    }

    /// The next records (none when the stream has nothing new), in Pipes' JSON.
    pub async fn next(&mut self) -> Result<Vec<Value>> {
        let Some(iterator) = self.shard_iterator.clone() else {
            return Ok(Vec::new());
        };
        let output = self
            .client
            .get_records()
            .shard_iterator(iterator)
            .limit(self.limit)
            .send()
            .await
            .context("reading the local stream")?;
        self.shard_iterator = output.next_shard_iterator().map(str::to_owned);
        Ok(output
            .records()
            .iter()
            .map(|r| record_json(r, &self.region, &self.stream_arn))
            .collect())
    }
}

/// A record as Pipes hands it to the enrichment.
pub fn record_json(record: &Record, region: &str, stream_arn: &str) -> Value {
    let mut dynamodb = Map::new();
    if let Some(change) = record.dynamodb() {
        if let Some(time) = change.approximate_creation_date_time() {
            dynamodb.insert(
                "ApproximateCreationDateTime".into(),
                json!(time.as_secs_f64()),
            );
        }
        for (name, image) in [
            ("Keys", change.keys()),
            ("NewImage", change.new_image()),
            ("OldImage", change.old_image()),
        ] {
            if let Some(image) = image {
                dynamodb.insert(name.into(), item_json(image));
            }
        }
        if let Some(sequence) = change.sequence_number() {
            dynamodb.insert("SequenceNumber".into(), json!(sequence));
        }
        if let Some(size) = change.size_bytes() {
            dynamodb.insert("SizeBytes".into(), json!(size));
        }
        if let Some(view) = change.stream_view_type() {
            dynamodb.insert("StreamViewType".into(), json!(view.as_str()));
        }
    }
    json!({
        "eventID": record.event_id(),
        "eventName": record.event_name().map(|n| n.as_str()),
        "eventVersion": record.event_version(),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    })
}

/// An item in DynamoDB's typed JSON (`{"S": "x"}`, `{"N": "3"}`, ...).
pub fn item_json(item: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(
        item.iter()
            .map(|(name, value)| (name.clone(), value_json(value)))
            .collect(),
    )
}

fn value_json(value: &AttributeValue) -> Value {
    let b64 = |b: &aws_sdk_dynamodbstreams::primitives::Blob| {
        base64::engine::general_purpose::STANDARD.encode(b.as_ref())
    };
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::B(b) => json!({"B": b64(b)}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(n) => json!({"NULL": n}),
        AttributeValue::Ss(v) => json!({"SS": v}),
        AttributeValue::Ns(v) => json!({"NS": v}),
        AttributeValue::Bs(v) => json!({"BS": v.iter().map(b64).collect::<Vec<_>>()}),
        AttributeValue::L(v) => json!({"L": v.iter().map(value_json).collect::<Vec<_>>()}),
        AttributeValue::M(m) => json!({"M": item_json(m)}),
        // A type newer than this SDK: null, which the enrichment refuses as no stored
        // ticket, so the record ends in the dead-letter file rather than vanishing.
        _ => Value::Null,
    }
}

/// The sequence number of a record in Pipes' JSON.
pub fn sequence_number(record: &Value) -> Option<&str> {
    record["dynamodb"]["SequenceNumber"].as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_nested_values_in_dynamodbs_typed_json() {
        let item = HashMap::from([
            ("pk".to_owned(), AttributeValue::S("TICKET#1".into())),
            (
                "tags".to_owned(),
                AttributeValue::L(vec![
                    AttributeValue::N("3".into()),
                    AttributeValue::M(HashMap::from([(
                        "ok".to_owned(),
                        AttributeValue::Bool(true),
                    )])),
                ]),
            ),
        ]);
        assert_eq!(
            item_json(&item),
            json!({"pk": {"S": "TICKET#1"}, "tags": {"L": [{"N": "3"}, {"M": {"ok": {"BOOL": true}}}]}})
        );
    }
}
