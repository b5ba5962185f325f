//! The raw DynamoDB calls behind each request, made from the benchmark itself with the
//! function's own client configuration, so that the function's overhead is a difference
//! of two measurements rather than a guess.

use anyhow::{Context, Result, bail};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::AttributeValue;
use manage_tickets::store::client as store;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tickets_manifest::table::{self, LIST_KEY_VALUE, TICKET_PREFIX, attr};

/// A stored item.
pub type Item = HashMap<String, AttributeValue>;

/// One raw call.
pub enum Call {
    /// `GetItem` of the ticket with this id.
    Get(String),
    /// `PutItem` of this new ticket item.
    Put(Item),
    /// The `Query` of a list page of this size.
    Query(u16),
}

/// A DynamoDB client configured like the function's, and the table it reads.
pub struct RawDynamo {
    client: Client,
    table: String,
}

impl RawDynamo {
    /// A client for `endpoint`, built as `store::connect` builds the function's: the same
    /// HTTP client (`store::http_client`, hyper with rustls; plain HTTP here), timeouts and
    /// retries. Region and dummy credentials are given explicitly, so that nothing in our
    /// own environment (a real profile, `AWS_ENDPOINT_URL`) can redirect it.
    pub async fn connect(endpoint: &str, region: &str, table: &str) -> Self {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(endpoint)
            .credentials_provider(Credentials::new(
                "local",
                "local",
                Some("local".into()),
                None,
                "bench",
            ))
            .http_client(store::http_client())
            .timeout_config(store::timeouts())
            .retry_config(store::retries())
            .load()
            .await;
        RawDynamo {
            client: Client::new(&config),
            table: table.to_owned(),
        }
    }

    /// Makes `call` and returns how long it took.
    pub async fn time(&self, call: Call) -> Result<Duration> {
        let started = Instant::now();
        match call {
            Call::Get(id) => drop(self.item(&id).await?),
            Call::Put(item) => self.put(item).await?,
            Call::Query(limit) => self.query(limit).await?,
        }
        Ok(started.elapsed())
    }

    /// `GetItem` of a ticket, strongly consistent like the function's read.
    pub async fn item(&self, id: &str) -> Result<Item> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(attr::PK, AttributeValue::S(format!("{TICKET_PREFIX}{id}")))
            .consistent_read(true)
            .send()
            .await
            .context("raw GetItem failed")?;
        output
            .item
            .with_context(|| format!("raw GetItem found no ticket {id}"))
    }

    /// `PutItem` of a new ticket item, on the same condition as the function's create.
    async fn put(&self, item: Item) -> Result<()> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", attr::PK)
            .send()
            .await
            .context("raw PutItem failed")?;
        Ok(())
    }

    /// The `Query` behind a list of `limit` tickets: newest first on the all-tickets index,
    /// one more than a page, as the function asks.
    async fn query(&self, limit: u16) -> Result<()> {
        let wanted = i32::from(limit) + 1;
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(table::BY_CREATED.name)
            .key_condition_expression("#p = :p")
            .expression_attribute_names("#p", attr::LIST_KEY)
            .expression_attribute_values(":p", AttributeValue::S(LIST_KEY_VALUE.into()))
            .scan_index_forward(false)
            .limit(wanted)
            .send()
            .await
            .context("raw Query failed")?;
        if output.count != wanted {
            bail!(
                "raw Query returned {} items instead of {wanted}",
                output.count
            );
        }
        Ok(())
    }
}

/// A copy of the stored ticket `item` as another ticket: new id, partition key and sort key.
pub fn similar(item: &Item) -> Item {
    let id = uuid::Uuid::new_v4().to_string();
    let mut copy = item.clone();
    let created_at = match item.get("createdAt") {
        Some(AttributeValue::S(at)) => at.clone(),
        _ => String::new(),
    };
    copy.insert(
        attr::PK.into(),
        AttributeValue::S(format!("{TICKET_PREFIX}{id}")),
    );
    copy.insert(
        attr::CREATED_KEY.into(),
        AttributeValue::S(format!("{created_at}#{id}")),
    );
    copy.insert("id".into(), AttributeValue::S(id));
    copy
}
