//! Idempotent creates: a client's `Idempotency-Key` and the record of what its first use
//! created, written in one transaction with the ticket.

use super::item::{Item, encode, string};
use super::{Created, StoreError, TicketStore, classify, timed};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;
use tickets_domain::stored::StoredTicket;
use tickets_domain::{Ticket, TicketFields, Timestamp};
use tickets_manifest::table::{IDEMPOTENCY_PREFIX, attr};

/// How long an idempotency key is remembered.
pub const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// How often a create retries after losing a transaction to a concurrent retry.
const CONFLICT_RETRIES: usize = 5;

/// A client-chosen key that makes a create safe to retry: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

/// Why a header value is not an [`IdempotencyKey`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyKeyError {
    /// Empty or longer than [`IdempotencyKey::MAX_LEN`].
    #[error("Idempotency-Key must be 1 to {max} characters (got {got})", max = IdempotencyKey::MAX_LEN)]
    Length {
        /// The length found.
        got: usize,
    },
    /// Contains something other than visible ASCII.
    #[error("Idempotency-Key may contain only visible ASCII characters, such as a UUID")]
    Characters,
}

impl IdempotencyKey {
    /// The longest accepted key.
    pub const MAX_LEN: usize = 255;

    /// Checks a header value.
    pub fn parse(value: &[u8]) -> Result<Self, IdempotencyKeyError> {
        if value.is_empty() || value.len() > Self::MAX_LEN {
            return Err(IdempotencyKeyError::Length { got: value.len() });
        }
        if !value.iter().all(u8::is_ascii_graphic) {
            return Err(IdempotencyKeyError::Characters);
        }
        Ok(IdempotencyKey(String::from_utf8_lossy(value).into_owned()))
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

/// SHA-256 of the parts, each followed by a zero byte so that no two lists collide.
fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
        hasher.update([0u8]);
    }
    hex::encode(hasher.finalize())
}

impl TicketStore {
    /// Creates a ticket unless `key` already created one for `actor` within
    /// [`IDEMPOTENCY_WINDOW`]: then returns that first ticket, or refuses a different body.
    pub async fn create_idempotent(
        &self,
        fields: TicketFields,
        actor: &str,
        key: &IdempotencyKey,
    ) -> Result<Created, StoreError> {
        let fingerprint = digest(&[&serde_json::to_vec(&fields).unwrap_or_default()]);
        let record_pk = format!(
            "{IDEMPOTENCY_PREFIX}{}",
            digest(&[actor.as_bytes(), key.0.as_bytes()])
        );
        // Concurrent retries race on the record; the losers of a transaction conflict try
        // again, the losers of the condition read the winner's answer.
        for _ in 0..CONFLICT_RETRIES {
            let now = Timestamp::now();
            let ticket = Ticket::create(fields.clone(), actor, now);
            let record = IdempotencyRecord {
                pk: record_pk.clone(),
                fingerprint: fingerprint.clone(),
                ticket: ticket.clone(),
                expires_at: now.unix_seconds() + IDEMPOTENCY_WINDOW.as_secs() as i64,
            };
            let request = self
                .client
                .transact_write_items()
                .transact_items(self.put_new(encode(&StoredTicket::new(ticket.clone()))?, None)?)
                .transact_items(self.put_new(encode(&record)?, Some(now))?);
            let result = timed("TransactWriteItems", request.send()).await;
            let err = match result {
                Ok(_) => {
                    return Ok(Created {
                        ticket,
                        replayed: false,
                    });
                }
                Err(err) => err,
            };
            let reasons = cancellation_reasons(err.as_service_error());
            if reasons.get(1).map(String::as_str) == Some("ConditionalCheckFailed") {
                if let Some(earlier) = self.idempotency_record(&record_pk).await? {
                    if earlier.fingerprint != fingerprint {
                        return Err(StoreError::IdempotencyKeyReused);
                    }
                    tracing::debug!(ticketId = %earlier.ticket.id, "idempotent replay");
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

    /// A put of a new item: no item with its key may exist, or, with `expired_before`, only
    /// one whose expiry has passed (DynamoDB's TTL sweep lags by up to days).
    fn put_new(
        &self,
        item: Item,
        expired_before: Option<Timestamp>,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .expression_attribute_names("#pk", attr::PK);
        put = match expired_before {
            None => put.condition_expression("attribute_not_exists(#pk)"),
            Some(now) => put
                .condition_expression("attribute_not_exists(#pk) OR #exp < :now")
                .expression_attribute_names("#exp", attr::EXPIRES_AT)
                .expression_attribute_values(
                    ":now",
                    AttributeValue::N(now.unix_seconds().to_string()),
                ),
        };
        let put = put
            .build()
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    async fn idempotency_record(&self, pk: &str) -> Result<Option<IdempotencyRecord>, StoreError> {
        let request = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(attr::PK, string(pk))
            .consistent_read(true);
        let output = timed("GetItem", request.send()).await.map_err(classify)?;
        output
            .item
            .map(|item| {
                serde_dynamo::from_item(item).map_err(|e| {
                    StoreError::Internal(format!("an idempotency record could not be read: {e}"))
                })
            })
            .transpose()
    }
}

/// The code of each cancelled item of a transaction, in request order.
fn cancellation_reasons(err: Option<&TransactWriteItemsError>) -> Vec<String> {
    match err {
        Some(TransactWriteItemsError::TransactionCanceledException(e)) => e
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().unwrap_or("None").to_owned())
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::item::tests::ticket;

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

    #[test]
    fn digests_are_hex_and_separate_their_parts() {
        assert_eq!(digest(&[b"ab", b"c"]).len(), 64);
        assert_ne!(digest(&[b"ab", b"c"]), digest(&[b"a", b"bc"]));
    }
}
