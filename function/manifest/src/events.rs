//! The ticket events: what the table's stream becomes on the stack's event bus, declared
//! once for the enrichment that makes them, the infrastructure that carries them (the
//! pipe's filter, the rules, the archive) and the tools that show them.

use crate::table::{TICKET_PREFIX, attr};

/// The version of the events' schema (`openapi/events.schema.json`), carried by every
/// event as `schemaVersion`. A change that breaks a consumer gets a new version.
pub const SCHEMA_VERSION: u32 = 1;

/// The prefix of every event's `source`: `tickets.<stack>`.
pub const SOURCE_PREFIX: &str = "tickets.";

/// What the table's stream records: both images, so that an update's changes and a
/// delete's last state are in the record itself (the enrichment reads no table).
pub const STREAM_VIEW_TYPE: &str = "NEW_AND_OLD_IMAGES";

/// The kinds of event, each a `detail-type` on the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// A ticket was created.
    TicketCreated,
    /// A ticket changed, other than by its status or assignee alone.
    TicketUpdated,
    /// Only the status changed.
    TicketStatusChanged,
    /// Only the assignee changed (set, replaced or removed).
    TicketAssigned,
    /// A ticket was deleted.
    TicketDeleted,
}

impl EventType {
    /// Every kind.
    pub const ALL: [EventType; 5] = [
        EventType::TicketCreated,
        EventType::TicketUpdated,
        EventType::TicketStatusChanged,
        EventType::TicketAssigned,
        EventType::TicketDeleted,
    ];

    /// The `detail-type`.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::TicketCreated => "TicketCreated",
            EventType::TicketUpdated => "TicketUpdated",
            EventType::TicketStatusChanged => "TicketStatusChanged",
            EventType::TicketAssigned => "TicketAssigned",
            EventType::TicketDeleted => "TicketDeleted",
        }
    }

    /// The kind named `text`.
    pub fn parse(text: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// The notification service's kinds: a ticket's assignee or status changed. A
/// `TicketUpdated` whose `changes` name either is one too (several fields changed at once).
pub const NOTIFIED: &[EventType] = &[EventType::TicketAssigned, EventType::TicketStatusChanged];

/// The fields whose change is notified.
pub const NOTIFIED_FIELDS: &[&str] = &["assignee", attr::STATUS];

/// The pipe's filter on the stream, as EventBridge patterns (a record passes if any
/// matches): ticket items only, so idempotency records never leave the table, and not the
/// write that marks a ticket's deleter just before its delete (the delete's own record
/// carries it).
pub fn stream_filters() -> Vec<String> {
    let ticket_keys = format!(
        r#""Keys":{{"{}":{{"S":[{{"prefix":"{TICKET_PREFIX}"}}]}}}}"#,
        attr::PK
    );
    vec![
        format!(r#"{{"eventName":["INSERT","REMOVE"],"dynamodb":{{{ticket_keys}}}}}"#),
        format!(
            r#"{{"eventName":["MODIFY"],"dynamodb":{{{ticket_keys},"NewImage":{{"{}":{{"S":[{{"exists":false}}]}}}}}}}}"#,
            attr::DELETED_BY
        ),
    ]
}

/// The fields of the notification message, which subscribers filter on
/// (`FilterPolicyScope: MessageBody`).
pub mod notification {
    /// The event's kind.
    pub const TYPE: &str = "type";
    /// The ticket's id.
    pub const TICKET_ID: &str = "ticketId";
    /// Who the ticket is assigned to (absent when nobody).
    pub const ASSIGNEE: &str = "assignee";
    /// The ticket's status.
    pub const STATUS: &str = "status";
    /// The ticket's priority.
    pub const PRIORITY: &str = "priority";
    /// Every attribute a subscriber can filter on.
    pub const ATTRIBUTES: &[&str] = &[TYPE, ASSIGNEE, STATUS, PRIORITY];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_json() {
        for filter in stream_filters() {
            assert!(filter.starts_with('{') && filter.ends_with('}'), "{filter}");
            assert!(filter.contains("TICKET#"));
        }
    }

    #[test]
    fn types_round_trip() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
    }
}
