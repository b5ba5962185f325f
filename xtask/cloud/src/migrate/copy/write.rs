//! The conditional writes.
//! - New tickets go in transactions of up to 100 (`TransactWriteItems`: unlike
//!   `BatchWriteItem` it carries a condition per item, and one request per 100 tickets instead
//!   of one each is what makes the copy fast). Each is a put only where no ticket
//!   exists (`attribute_not_exists(pk)`); when a condition fails, the cancellation names the
//!   tickets already there and returns them (`ReturnValuesOnConditionCheckFailure`), and the
//!   others are sent again. So a rerun writes nothing and reads nothing more.
//! - In a catch-up run (`--since`), a ticket changed in the source replaces the target's
//!   only while the migration is still its last writer and its version is the one read
//!   (`updatedBy = :actor AND version = :seen`), taking the next version: a ticket written
//!   through the new API is never overwritten. These go one by one, as `PutItem`s.

use super::{Outcome, Pass, THROTTLED_ATTEMPTS, Writes};
use crate::aws::sdk::explain;
use crate::migrate::checkpoint::{Conflict, ItemReport};
use crate::migrate::mapping::{Item, Mapped};
use crate::migrate::pacer::is_throttle;
use anyhow::{Result, anyhow, bail};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use std::collections::HashSet;
use tickets_domain::field::{UPDATED_BY, VERSION};
use tickets_domain::stored::{StoredTicket, ticket_pk};
use tickets_manifest::table::attr;

/// Tickets per transaction at most: DynamoDB's limit of actions.
const TRANSACTION_ITEMS: usize = 100;

/// Bytes of tickets per transaction at most: half the 4 MB DynamoDB takes, for the request's
/// own overhead (100 tickets with 10 000-character descriptions would be over it).
const TRANSACTION_BYTES: usize = 2 << 20;

/// Splits `tickets` into transactions.
pub fn transactions(tickets: Vec<NewTicket>) -> Vec<Vec<NewTicket>> {
    let mut all = Vec::new();
    let (mut current, mut bytes) = (Vec::new(), 0);
    for ticket in tickets {
        let size = item_bytes(&ticket.item);
        if !current.is_empty()
            && (current.len() == TRANSACTION_ITEMS || bytes + size > TRANSACTION_BYTES)
        {
            all.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push(ticket);
    }
    if !current.is_empty() {
        all.push(current);
    }
    all
}

/// An item's size as DynamoDB counts it, near enough: names and string values in bytes,
/// numbers as their digits.
fn item_bytes(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| {
            name.len()
                + match value {
                    AttributeValue::S(text) | AttributeValue::N(text) => text.len(),
                    _ => 8,
                }
        })
        .sum()
}

/// A source item mapped to a new ticket, ready to write.
pub struct NewTicket {
    /// The ticket and what mapping it found.
    pub mapped: Mapped,
    /// The ticket as an item.
    pub item: Item,
    /// Its repairs, for the report.
    pub repairs: Option<ItemReport>,
}

/// What became of one ticket, with its repairs and the attributes not copied.
pub type Written = (Outcome, Option<ItemReport>, Vec<String>);

/// Whether two stored tickets hold the same content (the version aside: a catch-up bumps it).
fn same_content(a: &StoredTicket, b: &StoredTicket) -> bool {
    let mut a = a.clone();
    a.ticket.version = b.ticket.version;
    a == *b
}

/// Cancellation codes that mean "send it again later".
fn is_transient(code: &str) -> bool {
    is_throttle(Some(code)) || matches!(code, "ThrottlingError" | "TransactionConflict")
}

impl Pass {
    /// Writes `tickets` where none exist, in one transaction, sending again those a failed
    /// condition elsewhere held back; settles each one found already there.
    pub(super) async fn write_new(&self, mut tickets: Vec<NewTicket>) -> Result<Vec<Written>> {
        let mut done = Vec::with_capacity(tickets.len());
        let mut attempt = 0;
        while !tickets.is_empty() {
            // Two source ids can name one ticket (an id in upper and in lower case); a
            // transaction may hold only one action per item, so the second waits a round.
            let mut keys = HashSet::new();
            let (batch, mut later): (Vec<NewTicket>, Vec<NewTicket>) = tickets
                .into_iter()
                .partition(|t| keys.insert(t.mapped.stored.ticket.id));
            let mut request = self.target.client.transact_write_items();
            for ticket in &batch {
                let put = Put::builder()
                    .table_name(&self.target.name)
                    .set_item(Some(ticket.item.clone()))
                    .condition_expression("attribute_not_exists(#pk)")
                    .expression_attribute_names("#pk", attr::PK)
                    .return_values_on_condition_check_failure(
                        ReturnValuesOnConditionCheckFailure::AllOld,
                    )
                    .build()
                    .map_err(|e| anyhow!("building a transaction: {e}"))?;
                request = request.transact_items(TransactWriteItem::builder().put(put).build());
            }
            let permit = self.pacer.acquire().await;
            let result = request.send().await;
            drop(permit);
            let err = match result {
                Ok(_) => {
                    self.pacer.succeeded();
                    done.extend(
                        batch
                            .into_iter()
                            .map(|t| (Outcome::Copied, t.repairs, t.mapped.extras)),
                    );
                    tickets = later;
                    continue;
                }
                Err(err) => err,
            };
            let reasons: Vec<CancellationReason> = match err.as_service_error() {
                Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                    cancelled.cancellation_reasons().to_vec()
                }
                _ => Vec::new(),
            };
            if reasons.len() != batch.len() {
                if is_throttle(err.code()) && attempt < THROTTLED_ATTEMPTS {
                    tokio::time::sleep(self.pacer.throttled(attempt)).await;
                    attempt += 1;
                    later.extend(batch);
                    tickets = later;
                    continue;
                }
                return Err(explain(
                    &format!(
                        "writing {} tickets to {} in a transaction",
                        batch.len(),
                        self.target.place
                    ),
                    err,
                ));
            }
            let mut transient = false;
            for (ticket, reason) in batch.into_iter().zip(reasons) {
                match reason.code().unwrap_or("None") {
                    "ConditionalCheckFailed" => {
                        let existing = match reason.item {
                            Some(existing) => Some(existing),
                            None => self.get(&ticket.mapped.stored).await?,
                        };
                        // Deleted between the write and the read: it goes again.
                        let Some(existing) = existing else {
                            later.push(ticket);
                            continue;
                        };
                        let outcome = self.compare(&ticket.mapped, &ticket.item, existing).await?;
                        done.push((outcome, ticket.repairs, ticket.mapped.extras));
                    }
                    // Not written only because another ticket of the transaction failed.
                    "None" => later.push(ticket),
                    code if is_transient(code) => {
                        transient = true;
                        later.push(ticket);
                    }
                    code => bail!(
                        "{} refused ticket {} ({code}: {}): fix that item in the source, then \
                         rerun with --resume",
                        self.target.place,
                        ticket.mapped.stored.ticket.id,
                        reason.message().unwrap_or_default()
                    ),
                }
            }
            if transient {
                if attempt >= THROTTLED_ATTEMPTS {
                    bail!(
                        "{} keeps throttling or conflicting: wait a few minutes and rerun with --resume",
                        self.target.place
                    );
                }
                tokio::time::sleep(self.pacer.throttled(attempt)).await;
                attempt += 1;
            } else {
                self.pacer.succeeded();
            }
            tickets = later;
        }
        Ok(done)
    }

    /// The target holds `existing` under this ticket's key.
    async fn compare(&self, mapped: &Mapped, item: &Item, existing: Item) -> Result<Outcome> {
        let id = mapped.stored.ticket.id;
        let existing: StoredTicket = match serde_dynamo::from_item(existing) {
            Ok(stored) => stored,
            Err(err) => {
                return Ok(Outcome::Conflict(Conflict {
                    id: id.to_string(),
                    reason: format!(
                        "the target holds an item with this key that is not a readable ticket ({err})"
                    ),
                    fix: "inspect that item in the target; delete it if it is debris, then rerun"
                        .into(),
                }));
            }
        };
        if same_content(&existing, &mapped.stored) {
            return Ok(Outcome::Already);
        }
        let ticket = &existing.ticket;
        if ticket.updated_by != self.actor {
            return Ok(Outcome::Conflict(Conflict {
                id: id.to_string(),
                reason: format!(
                    "changed through the new API since it was migrated (version {}, by {}); not overwritten",
                    ticket.version, ticket.updated_by
                ),
                fix: "compare it with the source and make any change that still matters through the API"
                    .into(),
            }));
        }
        if self.writes != Writes::CatchUp {
            return Ok(Outcome::Conflict(Conflict {
                id: id.to_string(),
                reason: "differs from the source: changed there since it was migrated (or edited in the target); not overwritten".into(),
                fix: "copy the change with a catch-up run: --since checkpoint (or --since <a time before the change>)"
                    .into(),
            }));
        }
        let mut next = item.clone();
        next.insert(
            VERSION.to_owned(),
            AttributeValue::N((ticket.version + 1).to_string()),
        );
        if self.replace(&next, ticket.version).await? {
            Ok(Outcome::Updated)
        } else {
            Ok(Outcome::Conflict(Conflict {
                id: id.to_string(),
                reason: "changed in the target while this run was updating it; not overwritten"
                    .into(),
                fix: "run the catch-up again".into(),
            }))
        }
    }

    /// Replaces the ticket at `version` while the migration is its last writer; `false` when
    /// that no longer holds. Retried while throttled.
    async fn replace(&self, item: &Item, version: u64) -> Result<bool> {
        let mut attempt = 0;
        loop {
            let request = self
                .target
                .client
                .put_item()
                .table_name(&self.target.name)
                .set_item(Some(item.clone()))
                .condition_expression("attribute_exists(#pk) AND #by = :actor AND #v = :v")
                .expression_attribute_names("#pk", attr::PK)
                .expression_attribute_names("#by", UPDATED_BY)
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_values(":actor", AttributeValue::S(self.actor.clone()))
                .expression_attribute_values(":v", AttributeValue::N(version.to_string()));
            let permit = self.pacer.acquire().await;
            let result = request.send().await;
            drop(permit);
            match result {
                Ok(_) => {
                    self.pacer.succeeded();
                    return Ok(true);
                }
                Err(err) => {
                    if let Some(PutItemError::ConditionalCheckFailedException(_)) =
                        err.as_service_error()
                    {
                        self.pacer.succeeded();
                        return Ok(false);
                    }
                    if is_throttle(err.code()) && attempt < THROTTLED_ATTEMPTS {
                        tokio::time::sleep(self.pacer.throttled(attempt)).await;
                        attempt += 1;
                        continue;
                    }
                    let pk = match item.get(attr::PK) {
                        Some(AttributeValue::S(pk)) => pk.clone(),
                        _ => String::new(),
                    };
                    return Err(explain(
                        &format!("writing {pk} to {}", self.target.place),
                        err,
                    ));
                }
            }
        }
    }

    /// The target's item for this ticket (a consistent read), when the failed condition did
    /// not return it.
    async fn get(&self, stored: &StoredTicket) -> Result<Option<Item>> {
        let pk = ticket_pk(&stored.ticket.id);
        let mut attempt = 0;
        loop {
            let result = self
                .target
                .client
                .get_item()
                .table_name(&self.target.name)
                .key(attr::PK, AttributeValue::S(pk.clone()))
                .consistent_read(true)
                .send()
                .await;
            match result {
                Ok(found) => return Ok(found.item),
                Err(err) if is_throttle(err.code()) && attempt < THROTTLED_ATTEMPTS => {
                    tokio::time::sleep(self.pacer.throttled(attempt)).await;
                    attempt += 1;
                }
                Err(err) => {
                    return Err(explain(
                        &format!("reading {pk} from {}", self.target.place),
                        err,
                    ));
                }
            }
        }
    }
}
