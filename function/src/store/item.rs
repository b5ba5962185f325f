//! Tickets as stored: the API's fields plus the table's and indexes' keys.

use super::StoreError;
use crate::ticket::{Ticket, TicketId, Timestamp};
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tickets_manifest::table::{LIST_KEY_VALUE, TICKET_PREFIX, attr};

/// An item of the table.
pub(super) type Item = HashMap<String, AttributeValue>;

/// A ticket as stored: the ticket plus its table and index keys.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TicketItem {
    pk: String,
    list_key: String,
    created_key: String,
    #[serde(flatten)]
    ticket: Ticket,
}

impl TicketItem {
    pub(super) fn new(ticket: Ticket) -> Self {
        TicketItem {
            pk: ticket_pk(&ticket.id),
            list_key: LIST_KEY_VALUE.to_owned(),
            created_key: created_key(&ticket.created_at, &ticket.id),
            ticket,
        }
    }
}

/// `TICKET#<id>`
pub(super) fn ticket_pk(id: &TicketId) -> String {
    format!("{TICKET_PREFIX}{id}")
}

/// The indexes' sort key: `<createdAt>#<id>`, so newest-first is a descending query.
pub(super) fn created_key(created_at: &Timestamp, id: &TicketId) -> String {
    format!("{created_at}#{id}")
}

/// A string attribute.
pub(super) fn string(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// The primary key of a ticket.
pub(super) fn key_of(id: &TicketId) -> Item {
    HashMap::from([(attr::PK.to_owned(), string(ticket_pk(id)))])
}

/// The version an item holds, if it is a ticket.
pub(super) fn version_of(item: &Item) -> Option<u64> {
    match item.get(attr::VERSION) {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

/// Reads a stored ticket.
pub(super) fn decode_ticket(item: Item) -> Result<Ticket, StoreError> {
    serde_dynamo::from_item::<_, TicketItem>(item)
        .map(|stored| stored.ticket)
        .map_err(|e| StoreError::Internal(format!("a stored ticket could not be read: {e}")))
}

/// Writes any serialisable value as an item.
pub(super) fn encode<T: Serialize>(value: &T) -> Result<Item, StoreError> {
    serde_dynamo::to_item(value)
        .map_err(|e| StoreError::Internal(format!("an item could not be written: {e}")))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ticket::{Priority, Status, TicketFields, Title};

    /// A ticket as the tests store it.
    pub(crate) fn ticket() -> Ticket {
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
}
