//! The two tables and their clients: the original (`--from-table`, with its own region,
//! profile or endpoint) and the stack's (`TableName` output, or `--to-table`), each checked
//! to be what it should before anything is read or written.

use crate::aws::sdk::explain;
use anyhow::{Result, bail};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::KeyType;
use tickets_manifest::table::TICKETS;

/// A table and the client that reaches it.
#[derive(Clone)]
pub struct Table {
    /// The client.
    pub client: Client,
    /// The table's name.
    pub name: String,
    /// Where it is, for messages and the checkpoint: `name (region)` or `name at endpoint`.
    pub place: String,
}

/// An SDK configuration for `region` over rustls with ring, as `aws/sdk.rs` builds it, with
/// a named profile or another endpoint when given (`AWS_ENDPOINT_URL` applies otherwise).
pub async fn config(region: &str, profile: Option<&str>, endpoint: Option<&str>) -> SdkConfig {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let https = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .http_client(https);
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    loader.load().await
}

impl Table {
    /// `name` through `config`.
    pub fn new(config: &SdkConfig, name: &str, region: &str, endpoint: Option<&str>) -> Self {
        let endpoint = endpoint
            .map(str::to_owned)
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
        Table {
            client: Client::new(config),
            name: name.to_owned(),
            place: match endpoint {
                Some(url) => format!("{name} at {url}"),
                None => format!("{name} ({region})"),
            },
        }
    }

    /// Checks that the table's partition key is `key` (and it has no sort key); returns its
    /// approximate item count.
    async fn check_key(&self, key: &str, what: &str) -> Result<u64> {
        let described = self
            .client
            .describe_table()
            .table_name(&self.name)
            .send()
            .await
            .map_err(|e| explain(&format!("reading the {what} table {}", self.place), e))?;
        let Some(table) = described.table() else {
            bail!("the {what} table {} has no description", self.place);
        };
        let keys: Vec<(String, KeyType)> = table
            .key_schema()
            .iter()
            .map(|k| (k.attribute_name().to_owned(), k.key_type().clone()))
            .collect();
        if keys != [(key.to_owned(), KeyType::Hash)] {
            let found: Vec<&str> = keys.iter().map(|(name, _)| name.as_str()).collect();
            bail!(
                "the {what} table {} has the key {}, not {key}: is it the right table?",
                self.place,
                found.join(" + ")
            );
        }
        Ok(table.item_count().unwrap_or(0).max(0) as u64)
    }

    /// Checks the original table (key `id`); returns its approximate item count.
    pub async fn check_source(&self) -> Result<u64> {
        self.check_key(tickets_domain::field::ID, "source").await
    }

    /// Checks the new table (key `pk`, the manifest's indexes).
    pub async fn check_target(&self) -> Result<()> {
        self.check_key(TICKETS.partition_key.name, "target").await?;
        let described = self
            .client
            .describe_table()
            .table_name(&self.name)
            .send()
            .await
            .map_err(|e| explain(&format!("reading the target table {}", self.place), e))?;
        let indexes: Vec<&str> = described
            .table()
            .map(|t| t.global_secondary_indexes())
            .unwrap_or_default()
            .iter()
            .filter_map(|i| i.index_name())
            .collect();
        for index in TICKETS.indexes {
            if !indexes.contains(&index.name) {
                bail!(
                    "the target table {} has no index {}: it is not a tickets table of this version",
                    self.place,
                    index.name
                );
            }
        }
        Ok(())
    }
}
