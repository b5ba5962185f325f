//! Tickets in DynamoDB: every read and write the API makes, with conditional writes so
//! that no concurrent update is lost.
//!
//! Only the operations declared in [`tickets_manifest::dynamodb::OPERATIONS`] are called
//! here; a test records the calls and compares.

use crate::cursor::Cursor;
use crate::ticket::{Status, Ticket, TicketFields, TicketId, TicketPatch, Timestamp};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::Duration;
use tickets_manifest::table::{self, IDEMPOTENCY_PREFIX, LIST_KEY_VALUE, TICKET_PREFIX, attr};

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// The most tickets one page may hold.
pub const MAX_PAGE: u16 = 100;

type Item = HashMap<String, AttributeValue>;

/// How long to wait for a TCP connection to DynamoDB.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// How long one attempt of a call may take.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1000);
/// How long a call may take, retries included: a request fails with `503` within about
/// this long when DynamoDB is unreachable, well inside API Gateway's 29 s.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(2500);
/// Attempts per call, the first included.
pub const MAX_ATTEMPTS: u32 = 3;

/// The timeouts above, for an SDK configuration.
pub fn timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(CALL_TIMEOUT)
        .build()
}

/// Standard retries with short backoffs: a throttled or unreachable DynamoDB gets
/// [`MAX_ATTEMPTS`] tries inside [`CALL_TIMEOUT`], not the SDK's default second-long waits.
pub fn retries() -> aws_config::retry::RetryConfig {
    aws_config::retry::RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(50))
        .with_max_backoff(Duration::from_millis(400))
}

/// The HTTPS client: rustls with ring, whose code is a fraction of the size of aws-lc's
/// (the SDK's default), which keeps the Lambda's zip small and its start fast.
pub fn http_client() -> aws_sdk_dynamodb::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// A DynamoDB client from the standard AWS configuration (region, credentials,
/// `AWS_ENDPOINT_URL`), with [`http_client`], [`timeouts`] and [`retries`].
pub async fn connect() -> Client {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client())
        .timeout_config(timeouts())
        .retry_config(retries())
        .load()
        .await;
    Client::new(&sdk)
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No ticket has this id.
    #[error("no ticket has this id")]
    NotFound,
    /// The ticket exists but its version is not the one the caller expected.
    #[error("the ticket is at version {current}")]
    VersionMismatch {
        /// The ticket's current version.
        current: u64,
    },
    /// An idempotency key came back with a different request.
    #[error("the idempotency key was used with a different request")]
    IdempotencyKeyReused,
    /// DynamoDB is throttling, failing or out of reach: worth retrying later.
    #[error("DynamoDB is unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug or a misconfiguration (missing table, missing permission).
    #[error("DynamoDB call failed: {0}")]
    Internal(String),
}

/// A client-chosen key that makes a create safe to retry: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The longest accepted key.
    pub const MAX_LEN: usize = 255;

    /// Checks a header value.
    pub fn parse(value: &[u8]) -> Result<Self, String> {
        if value.is_empty() || value.len() > Self::MAX_LEN {
            return Err(format!(
                "Idempotency-Key must be 1 to {} characters (got {})",
                Self::MAX_LEN,
                value.len()
            ));
        }
        if !value.iter().all(|b| b.is_ascii_graphic()) {
            return Err(
                "Idempotency-Key may contain only visible ASCII characters, such as a UUID".into(),
            );
        }
        Ok(IdempotencyKey(String::from_utf8_lossy(value).into_owned()))
    }
}

/// The result of a create.
#[derive(Debug, Clone)]
pub struct Created {
    /// The ticket, as first created.
    pub ticket: Ticket,
    /// True when an earlier request with the same idempotency key created it.
    pub replayed: bool,
}

/// What to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Page size, 1 to [`MAX_PAGE`].
    pub limit: u16,
    /// Only tickets with this status.
    pub status: Option<Status>,
    /// Continue after this ticket.
    pub after: Option<Cursor>,
}

/// One page of tickets, newest first.
#[derive(Debug, Clone)]
pub struct Page {
    /// The tickets.
    pub items: Vec<Ticket>,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
}

/// A ticket as stored: the ticket plus its table and index keys.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TicketItem {
    pk: String,
    list_key: String,
    created_key: String,
    #[serde(flatten)]
    ticket: Ticket,
}

impl TicketItem {
    fn new(ticket: Ticket) -> Self {
        TicketItem {
            pk: ticket_pk(&ticket.id),
            list_key: LIST_KEY_VALUE.to_owned(),
            created_key: created_key(&ticket.created_at, &ticket.id),
            ticket,
        }
    }
}

/// What an earlier create with an idempotency key answered.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdempotencyRecord {
    pk: String,
    fingerprint: String,
    ticket: Ticket,
    expires_at: i64,
}

fn ticket_pk(id: &TicketId) -> String {
    format!("{TICKET_PREFIX}{id}")
}

fn created_key(created_at: &Timestamp, id: &TicketId) -> String {
    format!("{created_at}#{id}")
}

fn hex_sha256(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
        hasher.update([0u8]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn string(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn key_of(id: &TicketId) -> Item {
    HashMap::from([(attr::PK.to_owned(), string(ticket_pk(id)))])
}

fn version_of(item: &Item) -> Option<u64> {
    match item.get(attr::VERSION) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

fn decode_ticket(item: Item) -> Result<Ticket, StoreError> {
    serde_dynamo::from_item::<_, TicketItem>(item)
        .map(|stored| stored.ticket)
        .map_err(|e| StoreError::Internal(format!("a stored ticket could not be read: {e}")))
}

fn encode<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value)
        .map_err(|e| StoreError::Internal(format!("an item could not be written: {e}")))
}

/// Sorts an SDK error into "retry later" or "our fault", keeping its full text for the log.
fn classify<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let text = DisplayErrorContext(&err).to_string();
    let transient = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => matches!(
            service.err().code(),
            Some(
                "ProvisionedThroughputExceededException"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
                    | "LimitExceededException"
                    | "InternalServerError"
                    | "ServiceUnavailable"
            )
        ),
        _ => false,
    };
    if transient {
        StoreError::Unavailable(text)
    } else {
        StoreError::Internal(text)
    }
}

/// The condition of a write: the ticket exists and, when `versions` names any, is at one of
/// them (`If-Match` with several entity tags).
fn existing_at(
    versions: &[u64],
    names: &mut HashMap<String, String>,
    values: &mut HashMap<String, AttributeValue>,
) -> String {
    names.insert("#pk".into(), attr::PK.to_owned());
    if versions.is_empty() {
        return "attribute_exists(#pk)".into();
    }
    names.insert("#version".into(), attr::VERSION.to_owned());
    let placeholders: Vec<String> = versions
        .iter()
        .enumerate()
        .map(|(i, version)| {
            values.insert(
                format!(":expected{i}"),
                AttributeValue::N(version.to_string()),
            );
            format!(":expected{i}")
        })
        .collect();
    format!(
        "attribute_exists(#pk) AND #version IN ({})",
        placeholders.join(", ")
    )
}

/// Builds an `UpdateExpression` with its names and values.
#[derive(Default)]
struct Update {
    set: Vec<String>,
    remove: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Update {
    fn set(&mut self, name: &str, value: AttributeValue) {
        self.set.push(format!("#{name} = :{name}"));
        self.names.insert(format!("#{name}"), name.to_owned());
        self.values.insert(format!(":{name}"), value);
    }

    fn set_or_remove(&mut self, name: &str, value: Option<AttributeValue>) {
        match value {
            Some(value) => self.set(name, value),
            None => {
                self.remove.push(format!("#{name}"));
                self.names.insert(format!("#{name}"), name.to_owned());
            }
        }
    }

    fn expression(&self) -> String {
        let mut expr = format!("SET {}", self.set.join(", "));
        if !self.remove.is_empty() {
            expr.push_str(&format!(" REMOVE {}", self.remove.join(", ")));
        }
        expr
    }
}

/// The ticket table.
#[derive(Debug, Clone)]
pub struct TicketStore {
    client: Client,
    table: String,
}

impl TicketStore {
    /// A store on `table` through `client`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        TicketStore {
            client,
            table: table.into(),
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates a ticket. With a key, a retry of the same request within
    /// [`IDEMPOTENCY_WINDOW`] returns the first result instead of creating another.
    pub async fn create(
        &self,
        fields: TicketFields,
        actor: &str,
        key: Option<&IdempotencyKey>,
    ) -> Result<Created, StoreError> {
        let Some(key) = key else {
            let ticket = Ticket::create(fields, actor, Timestamp::now());
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(encode(&TicketItem::new(ticket.clone()))?))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", attr::PK)
                .send()
                .await
                .map_err(classify)?;
            return Ok(Created {
                ticket,
                replayed: false,
            });
        };

        let fingerprint = hex_sha256(&[&serde_json::to_vec(&fields).unwrap_or_default()]);
        let record_pk = format!(
            "{IDEMPOTENCY_PREFIX}{}",
            hex_sha256(&[actor.as_bytes(), key.0.as_bytes()])
        );
        // Concurrent retries race on the record; the losers of a transaction conflict try
        // again, the losers of the condition read the winner's answer.
        for _ in 0..5 {
            let now = Timestamp::now();
            let ticket = Ticket::create(fields.clone(), actor, now);
            let record = IdempotencyRecord {
                pk: record_pk.clone(),
                fingerprint: fingerprint.clone(),
                ticket: ticket.clone(),
                expires_at: now.unix_seconds() + IDEMPOTENCY_WINDOW.as_secs() as i64,
            };
            let put_ticket = Put::builder()
                .table_name(&self.table)
                .set_item(Some(encode(&TicketItem::new(ticket.clone()))?))
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", attr::PK)
                .build()
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            let put_record = Put::builder()
                .table_name(&self.table)
                .set_item(Some(encode(&record)?))
                .condition_expression("attribute_not_exists(#pk) OR #exp < :now")
                .expression_attribute_names("#pk", attr::PK)
                .expression_attribute_names("#exp", attr::EXPIRES_AT)
                .expression_attribute_values(
                    ":now",
                    AttributeValue::N(now.unix_seconds().to_string()),
                )
                .build()
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            let result = self
                .client
                .transact_write_items()
                .transact_items(TransactWriteItem::builder().put(put_ticket).build())
                .transact_items(TransactWriteItem::builder().put(put_record).build())
                .send()
                .await;
            let err = match result {
                Ok(_) => {
                    return Ok(Created {
                        ticket,
                        replayed: false,
                    });
                }
                Err(err) => err,
            };
            let reasons: Vec<String> = err
                .as_service_error()
                .and_then(|e| match e {
                    TransactWriteItemsError::TransactionCanceledException(e) => Some(e),
                    _ => None,
                })
                .map(|e| {
                    e.cancellation_reasons()
                        .iter()
                        .map(|r| r.code().unwrap_or("None").to_owned())
                        .collect()
                })
                .unwrap_or_default();
            if reasons.get(1).map(String::as_str) == Some("ConditionalCheckFailed") {
                if let Some(earlier) = self.idempotency_record(&record_pk).await? {
                    if earlier.fingerprint != fingerprint {
                        return Err(StoreError::IdempotencyKeyReused);
                    }
                    return Ok(Created {
                        ticket: earlier.ticket,
                        replayed: true,
                    });
                }
                // The record expired and was swept between our write and our read: go again.
            } else if !reasons.iter().any(|r| r == "TransactionConflict") {
                return Err(classify(err));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Err(StoreError::Unavailable(
            "idempotent create kept conflicting with concurrent retries".into(),
        ))
    }

    async fn idempotency_record(&self, pk: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(attr::PK, string(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        output
            .item
            .map(|item| {
                serde_dynamo::from_item(item).map_err(|e| {
                    StoreError::Internal(format!("an idempotency record could not be read: {e}"))
                })
            })
            .transpose()
    }

    /// Reads one ticket (strongly consistent, so a write is visible to the next read).
    pub async fn get(&self, id: &TicketId) -> Result<Ticket, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_of(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(classify)?;
        output.item.map(decode_ticket).ok_or(StoreError::NotFound)?
    }

    /// One page of tickets, newest first, from an index (never a scan).
    pub async fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        let limit = usize::from(query.limit.clamp(1, MAX_PAGE));
        let (index, partition_name, partition_value) = match query.status {
            None => (table::BY_CREATED, attr::LIST_KEY, LIST_KEY_VALUE),
            Some(status) => (table::BY_STATUS, attr::STATUS, status.as_str()),
        };
        let mut start = query.after.as_ref().map(|cursor| {
            HashMap::from([
                (attr::PK.to_owned(), string(ticket_pk(&cursor.id))),
                (attr::CREATED_KEY.to_owned(), string(&cursor.created_key)),
                (partition_name.to_owned(), string(partition_value)),
            ])
        });
        // Ask for one more than a page: if it comes, there is a next page, and a client
        // never gets a token that leads to an empty page.
        let mut items = Vec::with_capacity(limit + 1);
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index.name)
                .key_condition_expression("#p = :p")
                .expression_attribute_names("#p", partition_name)
                .expression_attribute_values(":p", string(partition_value))
                .scan_index_forward(false)
                .limit((limit + 1 - items.len()) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(classify)?;
            for item in output.items.unwrap_or_default() {
                items.push(decode_ticket(item)?);
            }
            start = output.last_evaluated_key;
            if items.len() > limit || start.is_none() {
                break;
            }
        }
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|last| Cursor {
                id: last.id,
                created_key: created_key(&last.created_at, &last.id),
                status: query.status,
            })
        } else {
            None
        };
        Ok(Page { items, next })
    }

    /// Replaces every client-writable field; the ticket must exist (at one of
    /// `expected_versions`, unless that is empty).
    pub async fn replace(
        &self,
        id: &TicketId,
        fields: TicketFields,
        actor: &str,
        expected_versions: &[u64],
    ) -> Result<Ticket, StoreError> {
        let patch = TicketPatch {
            title: Some(fields.title),
            description: Some(fields.description),
            priority: Some(fields.priority),
            status: Some(fields.status),
            assignee: Some(fields.assignee),
        };
        self.update(id, patch, actor, expected_versions).await
    }

    /// Changes the fields a patch names; the ticket must exist (at one of
    /// `expected_versions`, unless that is empty).
    pub async fn update(
        &self,
        id: &TicketId,
        patch: TicketPatch,
        actor: &str,
        expected_versions: &[u64],
    ) -> Result<Ticket, StoreError> {
        let mut update = Update::default();
        if let Some(title) = patch.title {
            update.set("title", string(title.as_str()));
        }
        if let Some(description) = patch.description {
            update.set_or_remove("description", description.map(|d| string(d.as_str())));
        }
        if let Some(priority) = patch.priority {
            update.set("priority", string(priority.as_str()));
        }
        if let Some(status) = patch.status {
            update.set(attr::STATUS, string(status.as_str()));
        }
        if let Some(assignee) = patch.assignee {
            update.set_or_remove("assignee", assignee.map(|a| string(a.as_str())));
        }
        update.set("updatedAt", string(Timestamp::now().to_string()));
        update.set("updatedBy", string(actor));
        update
            .set
            .push(format!("#{v} = #{v} + :one", v = attr::VERSION));
        update
            .names
            .insert(format!("#{}", attr::VERSION), attr::VERSION.to_owned());
        update
            .values
            .insert(":one".into(), AttributeValue::N("1".into()));
        let condition = existing_at(expected_versions, &mut update.names, &mut update.values);

        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_of(id)))
            .update_expression(update.expression())
            .condition_expression(condition)
            .set_expression_attribute_names(Some(update.names))
            .set_expression_attribute_values(Some(update.values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => output
                .attributes
                .map(decode_ticket)
                .ok_or_else(|| StoreError::Internal("UpdateItem returned no attributes".into()))?,
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    Err(self.why_condition_failed(id, failed.item()).await)
                }
                _ => Err(classify(err)),
            },
        }
    }

    /// Deletes a ticket; it must exist (at one of `expected_versions`, unless that is empty).
    pub async fn delete(&self, id: &TicketId, expected_versions: &[u64]) -> Result<(), StoreError> {
        let (mut names, mut values) = (HashMap::new(), HashMap::new());
        let condition = existing_at(expected_versions, &mut names, &mut values);
        let request = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(key_of(id)))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match request.send().await {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                Some(DeleteItemError::ConditionalCheckFailedException(failed)) => {
                    Err(self.why_condition_failed(id, failed.item()).await)
                }
                _ => Err(classify(err)),
            },
        }
    }

    /// Tells "absent" from "changed since" after a failed condition, using the old item
    /// DynamoDB returned or, where an engine returns none, a consistent read.
    async fn why_condition_failed(&self, id: &TicketId, old: Option<&Item>) -> StoreError {
        if let Some(current) = old.and_then(version_of) {
            return StoreError::VersionMismatch { current };
        }
        match self.get(id).await {
            Ok(ticket) => StoreError::VersionMismatch {
                current: ticket.version,
            },
            Err(err) => err,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::{Priority, Title};

    fn ticket() -> Ticket {
        Ticket::create(
            TicketFields {
                title: Title::parse("Printer on fire").unwrap(),
                description: None,
                priority: Priority::High,
                status: Status::Open,
                assignee: None,
            },
            "user-1",
            Timestamp::parse("2026-11-29T05:12:54.123456Z").unwrap(),
        )
    }

    #[test]
    fn stored_items_use_the_manifest_attribute_names() {
        let ticket = ticket();
        let item = encode(&TicketItem::new(ticket.clone())).unwrap();
        let schema = tickets_manifest::table::TICKETS;
        for key in schema.key_attributes() {
            assert!(
                matches!(item.get(key.name), Some(AttributeValue::S(_))),
                "key attribute {} missing",
                key.name
            );
        }
        assert_eq!(item[attr::STATUS], string("OPEN"));
        assert_eq!(item[attr::VERSION], AttributeValue::N("1".into()));
        assert!(
            !item.contains_key("description"),
            "absent fields are not stored as NULL"
        );
        assert_eq!(decode_ticket(item).unwrap(), ticket);
    }

    #[test]
    fn idempotency_records_stay_out_of_the_indexes() {
        let record = IdempotencyRecord {
            pk: "IDEMPOTENCY#x".into(),
            fingerprint: "f".into(),
            ticket: ticket(),
            expires_at: 1,
        };
        let item = encode(&record).unwrap();
        for index in tickets_manifest::table::TICKETS.indexes {
            assert!(!item.contains_key(index.partition_key.name));
        }
        assert!(item.contains_key(tickets_manifest::table::TICKETS.ttl_attribute));
    }

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert!(IdempotencyKey::parse(b"7c9e6679-7425-40de-944b-e07fc1f90ae7").is_ok());
        assert!(IdempotencyKey::parse(b"").is_err());
        assert!(IdempotencyKey::parse(b"has space").is_err());
        assert!(IdempotencyKey::parse(&[b'k'; 256]).is_err());
        assert!(IdempotencyKey::parse("clé".as_bytes()).is_err());
    }
}
