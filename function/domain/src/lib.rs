//! The ticket domain (`tickets-domain`): values that can only hold what the API accepts,
//! shared by the function, the event enrichment and the migration.
//!
//! Request bodies are parsed into these types once, at the edge ([`input`]); everything
//! behind that works with values that are already valid.

pub mod field;
mod fields;
pub mod input;
pub mod stored;
mod time;

pub use fields::{Assignee, Description, FieldError, Priority, Status, TicketId, Title};
pub use time::Timestamp;

use serde::{Deserialize, Serialize};

/// The fields a client writes: what `POST` creates and `PUT` replaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketFields {
    /// Short summary.
    pub title: Title,
    /// Longer text, if any.
    pub description: Option<Description>,
    /// Urgency.
    pub priority: Priority,
    /// Where the ticket is in its life.
    pub status: Status,
    /// Who works on it, if anyone.
    pub assignee: Option<Assignee>,
}

/// A partial update: each field is left alone (`None`), set, or, for optional fields,
/// cleared (`Some(None)`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketPatch {
    /// New title.
    pub title: Option<Title>,
    /// New description, or `Some(None)` to remove it.
    pub description: Option<Option<Description>>,
    /// New priority.
    pub priority: Option<Priority>,
    /// New status.
    pub status: Option<Status>,
    /// New assignee, or `Some(None)` to unassign.
    pub assignee: Option<Option<Assignee>>,
}

impl TicketPatch {
    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == TicketPatch::default()
    }
}

/// A stored ticket, as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ticket {
    /// Server-assigned UUID v4.
    pub id: TicketId,
    /// Short summary.
    pub title: Title,
    /// Longer text, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Description>,
    /// Urgency.
    pub priority: Priority,
    /// Where the ticket is in its life.
    pub status: Status,
    /// Who works on it, if anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Assignee>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Cognito `sub` of its creator.
    pub created_by: String,
    /// Cognito `sub` of whoever changed it last.
    pub updated_by: String,
    /// Starts at 1 and grows by one with every write; the ETag.
    pub version: u64,
}

impl Ticket {
    /// A new ticket at version 1.
    pub fn create(fields: TicketFields, actor: &str, now: Timestamp) -> Self {
        Ticket {
            id: TicketId::new(),
            title: fields.title,
            description: fields.description,
            priority: fields.priority,
            status: fields.status,
            assignee: fields.assignee,
            created_at: now,
            updated_at: now,
            created_by: actor.to_owned(),
            updated_by: actor.to_owned(),
            version: 1,
        }
    }

    /// The entity tag of this version, quoted as HTTP wants it.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn serialises_exactly_the_declared_field_names() {
        let ticket = Ticket {
            description: Some(Description::parse("d").unwrap()),
            assignee: Some(Assignee::parse("a").unwrap()),
            ..Ticket::create(
                TicketFields {
                    title: Title::parse("t").unwrap(),
                    description: None,
                    priority: Priority::Low,
                    status: Status::New,
                    assignee: None,
                },
                "sub",
                Timestamp::now(),
            )
        };
        let json = serde_json::to_value(&ticket).unwrap();
        let names: BTreeSet<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let declared: BTreeSet<&str> = field::WRITABLE
            .iter()
            .chain(field::SERVER)
            .copied()
            .collect();
        assert_eq!(names, declared);
    }
}
