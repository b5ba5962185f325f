//! The event catalogue (`openapi/events.yaml`) is a valid JSON Schema that matches the
//! manifest and the API's ticket, and every kind of event the enrichment makes from stream
//! records, as Pipes hands them over, is valid against it.

use serde_json::{Value, json};
use std::collections::BTreeSet;
use tickets_domain::event::{Envelope, EventType, TicketEvent};
use tickets_domain::stored::StoredTicket;
use tickets_domain::{Assignee, Priority, Status, Ticket, TicketFields, Timestamp, Title};
use tickets_events::enrich;
use tickets_events::record::StreamRecord;

fn yaml(path: &str) -> Value {
    let path = format!("{}/../../openapi/{path}", env!("CARGO_MANIFEST_DIR"));
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn validator() -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&yaml("events.yaml"))
        .expect("the catalogue compiles")
}

/// A record of `name` with these images, in DynamoDB's JSON.
fn record(id: &str, name: &str, old: Option<&StoredTicket>, new: Option<&StoredTicket>) -> Value {
    let image = |t: Option<&StoredTicket>| {
        t.map(|t| {
            serde_json::to_value(serde_dynamo::to_item::<_, serde_dynamo::Item>(t).unwrap())
                .unwrap()
        })
    };
    let mut dynamodb = json!({
        "ApproximateCreationDateTime": 1_790_000_000.0,
        "Keys": {"pk": {"S": "TICKET#x"}},
        "SequenceNumber": "100000000000000000001",
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    });
    if let Some(old) = image(old) {
        dynamodb["OldImage"] = old;
    }
    if let Some(new) = image(new) {
        dynamodb["NewImage"] = new;
    }
    json!({
        "eventID": id, "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1", "dynamodb": dynamodb,
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x",
    })
}

fn write(old: &StoredTicket, by: &str, change: impl FnOnce(&mut Ticket)) -> StoredTicket {
    let mut new = old.clone();
    change(&mut new.ticket);
    new.ticket.version += 1;
    new.ticket.updated_by = by.into();
    new.ticket.updated_at = Timestamp::now();
    new
}

/// One ticket's life: created, patched twice, replaced, marked and deleted.
fn life() -> Vec<Value> {
    let created = StoredTicket::new(Ticket::create(
        TicketFields {
            title: Title::parse("Printer on fire").unwrap(),
            description: None,
            priority: Priority::High,
            status: Status::New,
            assignee: None,
        },
        "alice",
        Timestamp::now(),
    ));
    let assigned = write(&created, "bob", |t| {
        t.assignee = Some(Assignee::parse("carol").unwrap())
    });
    let started = write(&assigned, "carol", |t| t.status = Status::InProgress);
    let replaced = write(&started, "carol", |t| {
        t.title = Title::parse("Printer fixed").unwrap();
        t.status = Status::Resolved;
    });
    let mut marked = replaced.clone();
    marked.deleted_by = Some("admin".into());
    marked.deleted_at = Some(Timestamp::now());
    vec![
        record("e1", "INSERT", None, Some(&created)),
        record("e2", "MODIFY", Some(&created), Some(&assigned)),
        record("e3", "MODIFY", Some(&assigned), Some(&started)),
        record("e4", "MODIFY", Some(&started), Some(&replaced)),
        record("e5", "MODIFY", Some(&replaced), Some(&marked)),
        record("e6", "REMOVE", Some(&marked), None),
    ]
}

fn events() -> Vec<TicketEvent> {
    let records: Vec<StreamRecord> = serde_json::from_value(Value::Array(life())).unwrap();
    let enriched = enrich(records).unwrap();
    assert_eq!(enriched.skipped, 1, "the delete's mark is no event");
    enriched.events
}

#[test]
fn the_catalogue_is_a_valid_schema_of_the_manifest_s_events() {
    let catalogue = yaml("events.yaml");
    assert!(
        jsonschema::meta::is_valid(&catalogue),
        "not a valid JSON Schema"
    );
    assert_eq!(
        catalogue["x-schema-version"],
        json!(tickets_manifest::events::SCHEMA_VERSION)
    );
    let listed: BTreeSet<&str> = catalogue["properties"]["detail-type"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let declared: BTreeSet<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(listed, declared);
    for kind in EventType::ALL {
        assert!(catalogue["$defs"].get(kind.as_str()).is_some(), "{kind:?}");
    }
}

#[test]
fn the_catalogue_s_ticket_is_the_api_s_ticket() {
    let api = yaml("api.yaml");
    let events = yaml("events.yaml");
    let names = |schema: &Value| -> BTreeSet<String> {
        schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    let (api_ticket, event_ticket) = (
        &api["components"]["schemas"]["Ticket"],
        &events["$defs"]["Ticket"],
    );
    assert_eq!(names(api_ticket), names(event_ticket));
    assert_eq!(api_ticket["required"], event_ticket["required"]);
}

#[test]
fn every_kind_the_enrichment_makes_is_valid_against_the_catalogue() {
    let validator = validator();
    let events = events();
    let kinds: Vec<EventType> = events.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            EventType::TicketCreated,
            EventType::TicketAssigned,
            EventType::TicketStatusChanged,
            EventType::TicketUpdated,
            EventType::TicketDeleted,
        ]
    );
    let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(
        ids,
        ["e1", "e2", "e3", "e4", "e6"],
        "each event keeps its record's id"
    );
    let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
    assert_eq!(versions, [1, 2, 3, 4, 4]);
    assert_eq!(events.last().unwrap().actor, "admin");
    for event in &events {
        let envelope = event.in_envelope(&Envelope {
            id: "00000000-0000-0000-0000-000000000000",
            source: "tickets.tickets-dev",
            account: "123456789012",
            region: "us-east-1",
        });
        let errors: Vec<String> = validator
            .iter_errors(&envelope)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{:?}: {errors:?}\n{envelope:#}",
            event.kind
        );
    }
}

#[test]
fn the_catalogue_refuses_what_is_not_an_event() {
    let validator = validator();
    let event = &events()[2];
    let good = event.in_envelope(&Envelope {
        id: "x",
        source: "tickets.tickets-dev",
        account: "1",
        region: "us-east-1",
    });
    let mut wrong_type = good.clone();
    wrong_type["detail-type"] = json!("TicketAssigned");
    let mut unknown_field = good.clone();
    unknown_field["detail"]["extra"] = json!(1);
    let mut bad_status = good.clone();
    bad_status["detail"]["ticket"]["status"] = json!("DONE");
    for broken in [wrong_type, unknown_field, bad_status] {
        assert!(!validator.is_valid(&broken), "{broken:#}");
    }
}

#[test]
fn a_record_that_is_not_a_ticket_fails_the_batch() {
    let mut records = life();
    records[1]["dynamodb"]["NewImage"]["version"] = json!({"S": "two"});
    let records: Vec<StreamRecord> = serde_json::from_value(Value::Array(records)).unwrap();
    let err = enrich(records).unwrap_err().to_string();
    assert!(err.contains("e2"), "{err}");
}
