//! A ticket as the table stores it: its fields plus the table's and indexes' keys. The
//! function writes this shape, and whatever reads the table (the event enrichment, the
//! migration) reads and writes the same one.

use crate::{Ticket, TicketId, Timestamp};
use serde::{Deserialize, Serialize};
use tickets_manifest::table::{LIST_KEY_VALUE, TICKET_PREFIX};

/// A ticket with its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredTicket {
    /// `TICKET#<id>`
    pub pk: String,
    /// The all-tickets index's partition key, the same on every ticket.
    pub list_key: String,
    /// Both indexes' sort key, `<createdAt>#<id>`.
    pub created_key: String,
    /// The ticket.
    #[serde(flatten)]
    pub ticket: Ticket,
}

impl StoredTicket {
    /// `ticket` with its keys.
    pub fn new(ticket: Ticket) -> Self {
        StoredTicket {
            pk: ticket_pk(&ticket.id),
            list_key: LIST_KEY_VALUE.to_owned(),
            created_key: created_key(&ticket.created_at, &ticket.id),
            ticket,
        }
    }
}

/// `TICKET#<id>`
pub fn ticket_pk(id: &TicketId) -> String {
    format!("{TICKET_PREFIX}{id}")
}

/// The indexes' sort key: `<createdAt>#<id>`, so newest-first is a descending query.
pub fn created_key(created_at: &Timestamp, id: &TicketId) -> String {
    format!("{created_at}#{id}")
}
