//! Tickets as stored: the API's fields plus the table's and indexes' keys.

use super::StoreError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use std::collections::HashMap;
use tickets_domain::stored::{StoredTicket, ticket_pk};
use tickets_domain::{Ticket, TicketId};
use tickets_manifest::table::attr;

/// An item of the table.
pub(super) type Item = HashMap<String, AttributeValue>;

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
    serde_dynamo::from_item::<_, StoredTicket>(item)
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
    use tickets_domain::{Priority, Status, TicketFields, Timestamp, Title};

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
        let item = encode(&StoredTicket::new(ticket.clone())).unwrap();
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
