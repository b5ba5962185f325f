//! How items map, and what `--repair` does.

use super::*;
use tickets_domain::{Priority, Status};

const ACTOR: &str = "migration:dyn-tickets";
const ID_A: &str = "3f2a1c9e-8b7d-4e6f-a5b4-c3d2e1f0a9b8";

fn s(text: &str) -> AttributeValue {
    AttributeValue::S(text.to_owned())
}

fn valid() -> Item {
    Item::from([
        ("id".into(), s(ID_A)),
        ("title".into(), s("Printer on fire")),
        ("description".into(), s("Third floor\nsince 9am")),
        ("status".into(), s("OPEN")),
        ("createdAt".into(), s("2024-03-05T10:00:00.123Z")),
        ("updatedAt".into(), s("2024-03-06T11:00:00.000Z")),
    ])
}

fn with(mut item: Item, name: &str, value: Option<AttributeValue>) -> Item {
    match value {
        Some(value) => item.insert(name.into(), value),
        None => item.remove(name),
    };
    item
}

fn codes(result: Result<Mapped, Rejected>) -> Vec<String> {
    match result {
        Ok(mapped) => mapped.repairs.into_iter().map(|p| p.code).collect(),
        Err(rejected) => rejected.problems.into_iter().map(|p| p.code).collect(),
    }
}

#[test]
fn maps_a_valid_item_to_the_new_model() {
    let mapped = map(&valid(), ACTOR, false).unwrap();
    let ticket = &mapped.stored.ticket;
    assert_eq!(ticket.id.to_string(), ID_A);
    assert_eq!(ticket.title.as_str(), "Printer on fire");
    assert_eq!(
        ticket.description.as_ref().unwrap().as_str(),
        "Third floor\nsince 9am"
    );
    assert_eq!(ticket.status, Status::Open);
    assert_eq!(ticket.priority, Priority::Medium);
    assert_eq!(ticket.created_at.to_string(), "2024-03-05T10:00:00.123000Z");
    assert_eq!(ticket.updated_at.to_string(), "2024-03-06T11:00:00.000000Z");
    assert_eq!((ticket.created_by.as_str(), ticket.version), (ACTOR, 1));
    assert_eq!(
        mapped.stored.created_key,
        format!("2024-03-05T10:00:00.123000Z#{ID_A}")
    );
    assert!(mapped.repairs.is_empty() && mapped.extras.is_empty());
}

#[test]
fn counts_extra_fields_and_never_copies_them() {
    let item = with(valid(), "tags", Some(s("x")));
    let mapped = map(&item, ACTOR, false).unwrap();
    assert_eq!(mapped.extras, vec!["tags".to_owned()]);
    let written = serde_dynamo::to_item::<_, Item>(&mapped.stored).unwrap();
    assert!(!written.contains_key("tags"));
}

#[test]
fn rejects_without_repair_and_repairs_only_what_is_safe() {
    let cases: Vec<(Item, &str, bool)> = vec![
        (with(valid(), "title", Some(s("   "))), "title_empty", false),
        (with(valid(), "title", None), "title_missing", false),
        (
            with(valid(), "title", Some(s(&"x".repeat(250)))),
            "title_too_long",
            true,
        ),
        (
            with(valid(), "title", Some(s("two\nlines"))),
            "title_control_characters",
            true,
        ),
        (
            with(valid(), "status", Some(s("DONE"))),
            "status_unknown",
            false,
        ),
        (
            with(valid(), "status", Some(s("in progress"))),
            "status_spelling",
            true,
        ),
        (with(valid(), "status", None), "status_missing", true),
        (
            with(valid(), "createdAt", Some(s("yesterday"))),
            "created_at_malformed",
            false,
        ),
        (
            with(
                valid(),
                "createdAt",
                Some(AttributeValue::N("1709632800000".into())),
            ),
            "created_at_epoch_millis",
            true,
        ),
        (
            with(valid(), "createdAt", None),
            "created_at_missing",
            false,
        ),
        (with(valid(), "updatedAt", None), "updated_at_missing", true),
        (
            with(valid(), "updatedAt", Some(s("2020-01-01T00:00:00Z"))),
            "updated_before_created",
            true,
        ),
        (
            with(valid(), "id", Some(s("ticket-42"))),
            "id_not_uuid",
            false,
        ),
        (
            with(valid(), "id", Some(s(&ID_A.to_uppercase()))),
            "id_not_lower_case",
            true,
        ),
        (
            with(valid(), "description", Some(s(&"d".repeat(10_001)))),
            "description_too_long",
            false,
        ),
        (
            with(valid(), "description", Some(AttributeValue::N("5".into()))),
            "description_not_text",
            false,
        ),
        (
            with(valid(), "priority", Some(s("CRITICAL"))),
            "priority_unknown",
            false,
        ),
    ];
    for (item, code, repairable) in cases {
        let strict = map(&item, ACTOR, false);
        assert!(strict.is_err(), "{code}: accepted without --repair");
        assert_eq!(codes(strict), vec![code.to_owned()]);
        let repaired = map(&item, ACTOR, true);
        assert_eq!(repaired.is_ok(), repairable, "{code}: --repair");
        assert_eq!(codes(repaired), vec![code.to_owned()]);
    }
}

#[test]
fn repairs_are_what_the_report_says() {
    let long = with(
        valid(),
        "title",
        Some(s(&format!("  {}  ", "é".repeat(300)))),
    );
    let ticket = map(&long, ACTOR, true).unwrap().stored.ticket;
    assert_eq!(ticket.title.as_str().chars().count(), 200);
    assert!(ticket.title.as_str().ends_with("é…"));
    let lines = with(valid(), "title", Some(s("two\r\nlines\tand tab")));
    let ticket = map(&lines, ACTOR, true).unwrap().stored.ticket;
    assert_eq!(ticket.title.as_str(), "two lines and tab");
    let millis = with(valid(), "createdAt", Some(s("1709632800000")));
    let ticket = map(&millis, ACTOR, true).unwrap().stored.ticket;
    assert_eq!(ticket.created_at.to_string(), "2024-03-05T10:00:00.000000Z");
    let upper = with(valid(), "id", Some(s(&ID_A.to_uppercase())));
    let ticket = map(&upper, ACTOR, true).unwrap().stored.ticket;
    assert_eq!(ticket.id.to_string(), ID_A);
}

#[test]
fn trims_titles_as_the_api_does_without_a_problem() {
    let item = with(valid(), "title", Some(s("  Printer on fire  ")));
    let mapped = map(&item, ACTOR, false).unwrap();
    assert_eq!(mapped.stored.ticket.title.as_str(), "Printer on fire");
}
