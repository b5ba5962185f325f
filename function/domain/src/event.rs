//! Ticket events: what happened to a ticket, as consumers on the event bus read it (the
//! `detail` of each event; `openapi/events.schema.json` is its schema).
//!
//! An event is made from one committed write, as the table's stream records it (the item
//! before and after): exactly one event per write, whose kind is the most specific name for
//! what changed.

use crate::stored::StoredTicket;
use crate::{Ticket, TicketId, Timestamp, field};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
pub use tickets_manifest::events::EventType;
use tickets_manifest::events::SCHEMA_VERSION;

/// One write to a ticket, as the stream records it (short-lived: one per record, so its
/// size does not matter).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// The ticket was created.
    Inserted(StoredTicket),
    /// The ticket changed: before and after.
    Modified(StoredTicket, StoredTicket),
    /// The ticket was deleted: its last state.
    Removed(StoredTicket),
}

/// A field's value before and after a write (`null` when absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// Before.
    pub before: Option<String>,
    /// After.
    pub after: Option<String>,
}

/// The `detail` of a ticket event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketEvent {
    /// The version of the events' schema.
    pub schema_version: u32,
    /// The event's kind, also its `detail-type`.
    #[serde(rename = "type", with = "kind")]
    pub kind: EventType,
    /// Stable per write: the same write always gives the same id, however often it is
    /// delivered (consumers de-duplicate with it).
    pub event_id: String,
    /// The ticket.
    pub ticket_id: TicketId,
    /// The ticket's version after the write (for a delete, the version that was deleted):
    /// it grows with every write of a ticket, so consumers can order its events.
    pub version: u64,
    /// The Cognito `sub` of whoever made the write.
    pub actor: String,
    /// When the write was made.
    pub time: Timestamp,
    /// The ticket as the API returns it: after the write, or as it was when deleted.
    pub ticket: Ticket,
    /// The client-writable fields the write changed, before and after (updates only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changes: Option<BTreeMap<String, Change>>,
}

/// Where an event was put: what EventBridge writes around its `detail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// EventBridge's id of this delivery.
    pub id: &'a str,
    /// `tickets.<stack>`.
    pub source: &'a str,
    /// The account.
    pub account: &'a str,
    /// The region.
    pub region: &'a str,
}

impl TicketEvent {
    /// The whole EventBridge event: `detail-type` and `time` from the event, as the pipe
    /// sets them.
    pub fn in_envelope(&self, envelope: &Envelope<'_>) -> serde_json::Value {
        serde_json::json!({
            "version": "0",
            "id": envelope.id,
            "detail-type": self.kind.as_str(),
            "source": envelope.source,
            "account": envelope.account,
            "time": self.time.to_string(),
            "region": envelope.region,
            "resources": [],
            "detail": self,
        })
    }
}

/// Why a write cannot become an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Skip {
    /// The write marks a ticket's deleter just before deleting it: the delete's own
    /// record is the event.
    #[error("the write marks the ticket's deleter ahead of its delete")]
    DeleteMarker,
}

impl TicketEvent {
    /// The event of `write`, identified by `event_id` (stable per stream record). `at`
    /// is when the stream recorded it, the time of a delete whose item does not say.
    pub fn of(write: Write, event_id: String, at: Timestamp) -> Result<TicketEvent, Skip> {
        let (kind, stored, changes) = match write {
            Write::Inserted(new) => (EventType::TicketCreated, new, None),
            Write::Modified(old, new) => {
                if new.deleted_by.is_some() && new.ticket.version == old.ticket.version {
                    return Err(Skip::DeleteMarker);
                }
                let changes = changes(&old.ticket, &new.ticket);
                let kind = match changes.keys().map(String::as_str).collect::<Vec<_>>()[..] {
                    [field::STATUS] => EventType::TicketStatusChanged,
                    [field::ASSIGNEE] => EventType::TicketAssigned,
                    _ => EventType::TicketUpdated,
                };
                (kind, new, Some(changes))
            }
            Write::Removed(old) => (EventType::TicketDeleted, old, None),
        };
        let (actor, time) = match kind {
            // The deleter and the time of the delete, as the function marked them; an item
            // deleted another way (by hand) names its last writer.
            EventType::TicketDeleted => (
                stored
                    .deleted_by
                    .clone()
                    .unwrap_or_else(|| stored.ticket.updated_by.clone()),
                stored.deleted_at.unwrap_or(at),
            ),
            _ => (stored.ticket.updated_by.clone(), stored.ticket.updated_at),
        };
        Ok(TicketEvent {
            schema_version: SCHEMA_VERSION,
            kind,
            event_id,
            ticket_id: stored.ticket.id,
            version: stored.ticket.version,
            actor,
            time,
            ticket: stored.ticket,
            changes,
        })
    }
}

/// The client-writable fields whose values differ, before and after.
fn changes(old: &Ticket, new: &Ticket) -> BTreeMap<String, Change> {
    let values = |t: &Ticket| -> [(&'static str, Option<String>); 5] {
        [
            (field::TITLE, Some(t.title.as_str().to_owned())),
            (
                field::DESCRIPTION,
                t.description.as_ref().map(|d| d.as_str().to_owned()),
            ),
            (field::PRIORITY, Some(t.priority.as_str().to_owned())),
            (field::STATUS, Some(t.status.as_str().to_owned())),
            (
                field::ASSIGNEE,
                t.assignee.as_ref().map(|a| a.as_str().to_owned()),
            ),
        ]
    };
    values(old)
        .into_iter()
        .zip(values(new))
        .filter(|((_, before), (_, after))| before != after)
        .map(|((name, before), (_, after))| (name.to_owned(), Change { before, after }))
        .collect()
}

mod kind {
    use super::*;

    pub fn serialize<S: Serializer>(kind: &EventType, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(kind.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<EventType, D::Error> {
        let text = String::deserialize(deserializer)?;
        EventType::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown event type {text}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Assignee, Priority, Status, TicketFields, Title};

    fn created() -> StoredTicket {
        StoredTicket::new(Ticket::create(
            TicketFields {
                title: Title::parse("Printer on fire").unwrap(),
                description: None,
                priority: Priority::High,
                status: Status::New,
                assignee: None,
            },
            "alice",
            Timestamp::parse("2026-11-29T05:12:54.123456Z").unwrap(),
        ))
    }

    fn next(old: &StoredTicket, by: &str, change: impl FnOnce(&mut Ticket)) -> StoredTicket {
        let mut new = old.clone();
        change(&mut new.ticket);
        new.ticket.version += 1;
        new.ticket.updated_by = by.to_owned();
        new.ticket.updated_at = Timestamp::parse("2026-11-29T06:00:00Z").unwrap();
        new
    }

    fn at() -> Timestamp {
        Timestamp::parse("2026-11-29T07:00:00Z").unwrap()
    }

    #[test]
    fn a_create_is_ticket_created_by_its_creator() {
        let new = created();
        let event = TicketEvent::of(Write::Inserted(new.clone()), "e1".into(), at()).unwrap();
        assert_eq!(event.kind, EventType::TicketCreated);
        assert_eq!(event.actor, "alice");
        assert_eq!(event.version, 1);
        assert_eq!(event.time, new.ticket.created_at);
        assert_eq!(event.changes, None);
        assert_eq!(event.event_id, "e1");
    }

    #[test]
    fn a_change_of_status_alone_is_status_changed() {
        let old = created();
        let new = next(&old, "bob", |t| t.status = Status::Open);
        let event = TicketEvent::of(Write::Modified(old, new), "e2".into(), at()).unwrap();
        assert_eq!(event.kind, EventType::TicketStatusChanged);
        assert_eq!(event.actor, "bob");
        assert_eq!(event.version, 2);
        let changes = event.changes.unwrap();
        assert_eq!(
            changes["status"],
            Change {
                before: Some("NEW".into()),
                after: Some("OPEN".into())
            }
        );
        assert_eq!(changes.len(), 1);
    }

    #[test]
    fn assigning_and_unassigning_are_assigned() {
        let old = created();
        let assigned = next(&old, "bob", |t| {
            t.assignee = Some(Assignee::parse("carol").unwrap())
        });
        let unassigned = next(&assigned, "bob", |t| t.assignee = None);
        for (before, after, expected) in [
            (old, assigned.clone(), (None, Some("carol".to_owned()))),
            (assigned, unassigned, (Some("carol".to_owned()), None)),
        ] {
            let event = TicketEvent::of(Write::Modified(before, after), "e".into(), at()).unwrap();
            assert_eq!(event.kind, EventType::TicketAssigned);
            assert_eq!(
                event.changes.unwrap()["assignee"],
                Change {
                    before: expected.0,
                    after: expected.1
                }
            );
        }
    }

    #[test]
    fn several_fields_or_none_at_all_are_updated() {
        let old = created();
        let both = next(&old, "bob", |t| {
            t.status = Status::Open;
            t.assignee = Some(Assignee::parse("carol").unwrap());
        });
        let event = TicketEvent::of(Write::Modified(old.clone(), both), "e".into(), at()).unwrap();
        assert_eq!(event.kind, EventType::TicketUpdated);
        assert_eq!(event.changes.as_ref().unwrap().len(), 2);
        let same = next(&old, "bob", |_| {});
        let event = TicketEvent::of(Write::Modified(old, same), "e".into(), at()).unwrap();
        assert_eq!(event.kind, EventType::TicketUpdated);
        assert_eq!(event.changes, Some(BTreeMap::new()));
    }

    #[test]
    fn a_delete_names_its_deleter_and_the_marker_is_no_event() {
        let old = created();
        let mut marked = old.clone();
        marked.deleted_by = Some("admin".into());
        marked.deleted_at = Some(at());
        assert_eq!(
            TicketEvent::of(Write::Modified(old, marked.clone()), "m".into(), at()),
            Err(Skip::DeleteMarker)
        );
        let later = Timestamp::parse("2026-11-29T08:00:00Z").unwrap();
        let event = TicketEvent::of(Write::Removed(marked), "d".into(), later).unwrap();
        assert_eq!(event.kind, EventType::TicketDeleted);
        assert_eq!(event.actor, "admin");
        assert_eq!(event.time, at());
        assert_eq!(event.version, 1);
        // Deleted another way: the last writer, at the stream's time.
        let event = TicketEvent::of(Write::Removed(created()), "d".into(), later).unwrap();
        assert_eq!((event.actor.as_str(), event.time), ("alice", later));
    }

    #[test]
    fn serialises_as_the_schema_names_it_and_reads_back() {
        let event = TicketEvent::of(Write::Inserted(created()), "e1".into(), at()).unwrap();
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "TicketCreated");
        assert_eq!(json["schemaVersion"], 1);
        assert_eq!(json["ticketId"], json["ticket"]["id"]);
        assert!(json.get("changes").is_none());
        assert_eq!(serde_json::from_value::<TicketEvent>(json).unwrap(), event);
    }
}
