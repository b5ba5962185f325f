//! Tickets in DynamoDB: every read and write the API makes, with conditional writes so
//! that no concurrent update is lost.
//!
//! Only the operations declared in [`tickets_manifest::dynamodb::OPERATIONS`] are called
//! here; a test records the calls and compares.

pub mod client;
pub mod cursor;
pub mod idempotency;
mod item;
pub mod roots;
mod update;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use cursor::Cursor;
use item::{Item, decode_ticket, encode, key_of, string};
use std::collections::HashMap;
use std::time::Instant;
use tickets_domain::stored::{StoredTicket, created_key, ticket_pk};
use tickets_domain::{Status, Ticket, TicketFields, TicketId, TicketPatch, Timestamp, field};
use tickets_manifest::table::{self, LIST_KEY_VALUE, attr};
use update::Update;

/// The most tickets one page may hold.
pub const MAX_PAGE: u16 = 100;

/// How often a delete marks and deletes before giving up on a ticket that keeps changing.
const DELETE_ATTEMPTS: usize = 3;

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

/// The result of an idempotent create.
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

    /// Creates a ticket.
    pub async fn create(&self, fields: TicketFields, actor: &str) -> Result<Ticket, StoreError> {
        let ticket = Ticket::create(fields, actor, Timestamp::now());
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode(&StoredTicket::new(ticket.clone()))?))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", attr::PK);
        timed("PutItem", request.send()).await.map_err(classify)?;
        Ok(ticket)
    }

    /// Reads one ticket (strongly consistent, so a write is visible to the next read).
    pub async fn get(&self, id: &TicketId) -> Result<Ticket, StoreError> {
        let request = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_of(id)))
            .consistent_read(true);
        let output = timed("GetItem", request.send()).await.map_err(classify)?;
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
            let request = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index.name)
                .key_condition_expression("#p = :p")
                .expression_attribute_names("#p", partition_name)
                .expression_attribute_values(":p", string(partition_value))
                .scan_index_forward(false)
                .limit((limit + 1 - items.len()) as i32)
                .set_exclusive_start_key(start.take());
            let output = timed("Query", request.send()).await.map_err(classify)?;
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
            update.set(field::TITLE, string(title.as_str()));
        }
        if let Some(description) = patch.description {
            update.set_or_remove(field::DESCRIPTION, description.map(|d| string(d.as_str())));
        }
        if let Some(priority) = patch.priority {
            update.set(field::PRIORITY, string(priority.as_str()));
        }
        if let Some(status) = patch.status {
            update.set(field::STATUS, string(status.as_str()));
        }
        if let Some(assignee) = patch.assignee {
            update.set_or_remove(field::ASSIGNEE, assignee.map(|a| string(a.as_str())));
        }
        update.set(field::UPDATED_AT, string(Timestamp::now().to_string()));
        update.set(field::UPDATED_BY, string(actor));
        // A delete that marked the ticket and then failed leaves a mark; any write clears it.
        update.set_or_remove(attr::DELETED_BY, None);
        update.set_or_remove(attr::DELETED_AT, None);
        update.increment_version();
        let condition = update.existing_at(expected_versions);
        let expression = update.expression();
        let (names, values) = update.into_placeholders();

        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_of(id)))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(values)
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let result = timed("UpdateItem", request.send()).await;
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

    /// Deletes a ticket; it must exist (at one of `expected_versions`, unless that is
    /// empty). The deleter is written on the ticket first (`deletedBy`, `deletedAt`), so that
    /// the stream's last image of it names who deleted it and when; the delete then
    /// requires that very mark, so a write in between (which clears it) makes it start over.
    pub async fn delete(
        &self,
        id: &TicketId,
        actor: &str,
        expected_versions: &[u64],
    ) -> Result<(), StoreError> {
        for _ in 0..DELETE_ATTEMPTS {
            let now = Timestamp::now().to_string();
            self.mark_deleter(id, actor, &now, expected_versions)
                .await?;
            let request = self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key_of(id)))
                .condition_expression("#by = :by AND #at = :at")
                .expression_attribute_names("#by", attr::DELETED_BY)
                .expression_attribute_names("#at", attr::DELETED_AT)
                .expression_attribute_values(":by", string(actor))
                .expression_attribute_values(":at", string(&now));
            match timed("DeleteItem", request.send()).await {
                Ok(_) => return Ok(()),
                Err(err) => match err.as_service_error() {
                    // Written (or deleted) in between: mark again, under the caller's
                    // condition, which says whether to go on.
                    Some(DeleteItemError::ConditionalCheckFailedException(_)) => continue,
                    _ => return Err(classify(err)),
                },
            }
        }
        Err(StoreError::Unavailable(format!(
            "the ticket changed during each of {DELETE_ATTEMPTS} attempts to delete it"
        )))
    }

    /// Writes the deleter and the time on the ticket, if it exists at one of
    /// `expected_versions` (any, when empty). Its version stays: the mark is not a change.
    async fn mark_deleter(
        &self,
        id: &TicketId,
        actor: &str,
        now: &str,
        expected_versions: &[u64],
    ) -> Result<(), StoreError> {
        let mut update = Update::default();
        update.set(attr::DELETED_BY, string(actor));
        update.set(attr::DELETED_AT, string(now));
        let condition = update.existing_at(expected_versions);
        let expression = update.expression();
        let (names, values) = update.into_placeholders();
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_of(id)))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match timed("UpdateItem", request.send()).await {
            Ok(_) => Ok(()),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    Err(self.why_condition_failed(id, failed.item()).await)
                }
                _ => Err(classify(err)),
            },
        }
    }

    /// Tells "absent" from "changed since" after a failed condition, using the old item
    /// DynamoDB returned or, where an engine returns none, a consistent read.
    async fn why_condition_failed(&self, id: &TicketId, old: Option<&Item>) -> StoreError {
        let why = match old.and_then(item::version_of) {
            Some(current) => StoreError::VersionMismatch { current },
            None => match self.get(id).await {
                Ok(ticket) => StoreError::VersionMismatch {
                    current: ticket.version,
                },
                Err(err) => err,
            },
        };
        tracing::debug!(reason = %why, "the write's condition failed");
        why
    }
}

/// Awaits a DynamoDB call, logging its operation and latency at `debug`.
async fn timed<T>(operation: &'static str, call: impl Future<Output = T>) -> T {
    let started = Instant::now();
    let result = call.await;
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    crate::telemetry::metrics::add_dynamodb_time(latency_ms);
    tracing::debug!(operation, latencyMs = latency_ms, "DynamoDB call");
    result
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
