//! One item of the original table (`{id, title, description, status, createdAt, updatedAt}`,
//! ISO-8601 strings, hand-made items with more or fewer fields) to a ticket of the new
//! model, through the same checks the API applies, or the reasons it does not fit.
//!
//! Nothing is changed silently: every difference between the source item and what the API
//! accepts is a [`Problem`], with how to fix it in the source and, where a safe repair
//! exists, what `--repair` does instead. The only differences that are not problems are
//! documented ones: the new fields (`priority` `MEDIUM`, `createdBy`/`updatedBy` the
//! migration's actor, `version` 1), times written with six fractional digits (the same
//! instant), surrounding whitespace of a title trimmed (as the API trims), and attributes
//! the new model has no place for, which are counted in the report and never copied.

use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::str::FromStr;
use tickets_domain::field::{
    ASSIGNEE, CREATED_AT, DESCRIPTION, ID, PRIORITY, STATUS, TITLE, UPDATED_AT,
};
use tickets_domain::stored::StoredTicket;
use tickets_domain::{Assignee, Description, Priority, Status, Ticket, TicketId, Timestamp, Title};

/// An item as DynamoDB returns it.
pub type Item = HashMap<String, AttributeValue>;

/// The attributes of the original model (and `priority`/`assignee`, which hand-made items
/// may carry); anything else is an extra field.
const KNOWN: &[&str] = &[
    ID,
    TITLE,
    DESCRIPTION,
    STATUS,
    PRIORITY,
    ASSIGNEE,
    CREATED_AT,
    UPDATED_AT,
];

/// Why one field of a source item does not fit the new model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The source attribute.
    pub field: String,
    /// A stable name for the kind of problem (`title_empty`, `status_unknown`, ...).
    pub code: String,
    /// What is wrong.
    pub reason: String,
    /// How to fix it in the source.
    pub fix: String,
    /// What `--repair` does about it, when it can do something safe; `None` otherwise.
    pub repair: Option<String>,
}

impl Problem {
    fn fatal(
        field: &'static str,
        code: &'static str,
        reason: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Problem {
            field: field.to_owned(),
            code: code.to_owned(),
            reason: reason.into(),
            fix: fix.into(),
            repair: None,
        }
    }

    fn repairable(
        field: &'static str,
        code: &'static str,
        reason: impl Into<String>,
        fix: impl Into<String>,
        repair: impl Into<String>,
    ) -> Self {
        Problem {
            repair: Some(repair.into()),
            ..Problem::fatal(field, code, reason, fix)
        }
    }
}

/// A source item that becomes a ticket.
#[derive(Debug, Clone)]
pub struct Mapped {
    /// The item to write.
    pub stored: StoredTicket,
    /// The repairs made (empty unless `--repair`).
    pub repairs: Vec<Problem>,
    /// Attributes not copied.
    pub extras: Vec<String>,
}

/// A source item that is not copied.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// The source's `id`, as it is (or `<no id>`).
    pub id: String,
    /// Every problem found, repairable or not.
    pub problems: Vec<Problem>,
    /// Attributes the new model has no place for.
    pub extras: Vec<String>,
}

/// One field as found in an item.
enum Found<'a> {
    Absent,
    Text(&'a str),
    Number(&'a str),
    Other(&'static str),
}

fn found<'a>(item: &'a Item, name: &str) -> Found<'a> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Found::Absent,
        Some(AttributeValue::S(text)) => Found::Text(text),
        Some(AttributeValue::N(number)) => Found::Number(number),
        Some(AttributeValue::Bool(_)) => Found::Other("a boolean"),
        Some(AttributeValue::M(_)) => Found::Other("a map"),
        Some(AttributeValue::L(_)) => Found::Other("a list"),
        Some(AttributeValue::B(_)) => Found::Other("binary"),
        Some(_) => Found::Other("a set"),
    }
}

fn kind(found: &Found<'_>) -> &'static str {
    match found {
        Found::Absent => "missing",
        Found::Text(_) => "a string",
        Found::Number(_) => "a number",
        Found::Other(kind) => kind,
    }
}

/// The `id` of an item as the report shows it.
pub fn source_id(item: &Item) -> String {
    match found(item, ID) {
        Found::Text(text) | Found::Number(text) => text.to_owned(),
        _ => "<no id>".to_owned(),
    }
}

/// Maps a source item. With `repair`, repairable problems are repaired and the item is
/// kept; without, any problem rejects it.
pub fn map(item: &Item, actor: &str, repair: bool) -> Result<Mapped, Rejected> {
    let mut problems = Vec::new();
    let id = id(item, &mut problems);
    let title = title(item, &mut problems);
    let description = description(item, &mut problems);
    let status = status(item, &mut problems);
    let priority = priority(item, &mut problems);
    let assignee = assignee(item, &mut problems);
    let created_at = timestamp(item, CREATED_AT, &mut problems);
    let mut updated_at = timestamp(item, UPDATED_AT, &mut problems);
    if updated_at.is_none()
        && matches!(found(item, UPDATED_AT), Found::Absent)
        && let Some(created) = created_at
    {
        problems.push(Problem::repairable(
            UPDATED_AT,
            "updated_at_missing",
            "is missing",
            "set updatedAt in the source (at least createdAt)",
            "set to createdAt",
        ));
        updated_at = Some(created);
    }
    if let (Some(created), Some(updated)) = (created_at, updated_at)
        && updated < created
    {
        problems.push(Problem::repairable(
            UPDATED_AT,
            "updated_before_created",
            format!("{updated} is before createdAt {created}"),
            "set updatedAt to createdAt or later in the source",
            "set to createdAt",
        ));
        updated_at = Some(created);
    }
    let mut extras: Vec<String> = item
        .keys()
        .filter(|name| !KNOWN.contains(&name.as_str()))
        .cloned()
        .collect();
    extras.sort();

    let fits = problems.iter().all(|p| repair && p.repair.is_some());
    match (id, title, status, created_at, updated_at, fits) {
        (Some(id), Some(title), Some(status), Some(created_at), Some(updated_at), true) => {
            let ticket = Ticket {
                id,
                title,
                description: description.flatten(),
                priority: priority.unwrap_or_default(),
                status,
                assignee: assignee.flatten(),
                created_at,
                updated_at,
                created_by: actor.to_owned(),
                updated_by: actor.to_owned(),
                version: 1,
            };
            Ok(Mapped {
                stored: StoredTicket::new(ticket),
                repairs: problems,
                extras,
            })
        }
        _ => Err(Rejected {
            id: source_id(item),
            problems,
            extras,
        }),
    }
}

fn id(item: &Item, problems: &mut Vec<Problem>) -> Option<TicketId> {
    const FIX: &str = "the new API has only UUID ids: recreate the ticket through the API \
                       (POST /v1/tickets), or give the item a UUID id in the source";
    let found = found(item, ID);
    let Found::Text(text) = found else {
        problems.push(Problem::fatal(
            ID,
            "id_not_uuid",
            format!("is {}, not a UUID string", kind(&found)),
            FIX,
        ));
        return None;
    };
    match text.parse::<TicketId>() {
        Ok(id) if id.to_string() == text => Some(id),
        Ok(id) => {
            problems.push(Problem::repairable(
                ID,
                "id_not_lower_case",
                format!("{text:?} is a UUID in upper case; the new API writes ids in lower case"),
                "write the id in lower case in the source",
                format!("written as {id}"),
            ));
            Some(id)
        }
        Err(_) => {
            problems.push(Problem::fatal(
                ID,
                "id_not_uuid",
                format!("{text:?} is not a UUID"),
                FIX,
            ));
            None
        }
    }
}

/// Replaces each run of control characters (line breaks included) with one space.
fn collapse_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_run = false;
    for c in text.chars() {
        if c.is_control() {
            if !in_run {
                out.push(' ');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    out.trim().to_owned()
}

fn title(item: &Item, problems: &mut Vec<Problem>) -> Option<Title> {
    const FIX: &str = "give the ticket a title in the source";
    let found = found(item, TITLE);
    let Found::Text(text) = found else {
        problems.push(Problem::fatal(
            TITLE,
            "title_missing",
            format!("is {}", kind(&found)),
            FIX,
        ));
        return None;
    };
    if let Ok(title) = Title::parse(text) {
        return Some(title);
    }
    let trimmed = text.trim();
    if trimmed.is_empty() {
        problems.push(Problem::fatal(
            TITLE,
            "title_empty",
            "is empty after trimming",
            FIX,
        ));
        return None;
    }
    let mut repaired = collapse_controls(trimmed);
    if repaired != trimmed {
        problems.push(Problem::repairable(
            TITLE,
            "title_control_characters",
            "contains line breaks or control characters; a title is one line",
            "remove them from the title in the source",
            "each run of them became one space",
        ));
    }
    let chars = repaired.chars().count();
    if chars > Title::MAX_CHARS {
        problems.push(Problem::repairable(
            TITLE,
            "title_too_long",
            format!(
                "has {chars} characters after trimming; the new API keeps at most {}",
                Title::MAX_CHARS
            ),
            format!(
                "shorten the title to {} characters in the source (move the rest to the description)",
                Title::MAX_CHARS
            ),
            format!(
                "cut to {} characters and an ellipsis; the full title stays in the source",
                Title::MAX_CHARS - 1
            ),
        ));
        repaired = repaired
            .chars()
            .take(Title::MAX_CHARS - 1)
            .collect::<String>();
        repaired = format!("{}…", repaired.trim_end());
    }
    Title::parse(&repaired).ok()
}

/// `None`: unusable; `Some(None)`: no description.
fn description(item: &Item, problems: &mut Vec<Problem>) -> Option<Option<Description>> {
    let found = found(item, DESCRIPTION);
    let text = match found {
        Found::Absent => return Some(None),
        Found::Text(text) => text,
        other => {
            problems.push(Problem::fatal(
                DESCRIPTION,
                "description_not_text",
                format!("is {}, not a string", kind(&other)),
                "make the description a string in the source, or remove it",
            ));
            return None;
        }
    };
    if let Ok(description) = Description::parse(text) {
        return Some(Some(description));
    }
    let layout = |c: char| matches!(c, '\n' | '\r' | '\t');
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_control() || layout(*c))
        .collect();
    let chars = cleaned.chars().count();
    if chars > Description::MAX_CHARS {
        problems.push(Problem::fatal(
            DESCRIPTION,
            "description_too_long",
            format!(
                "has {chars} characters; the new API keeps at most {}",
                Description::MAX_CHARS
            ),
            format!(
                "shorten the description to {} characters in the source",
                Description::MAX_CHARS
            ),
        ));
        return None;
    }
    problems.push(Problem::repairable(
        DESCRIPTION,
        "description_control_characters",
        "contains control characters other than line breaks and tabs",
        "remove them from the description in the source",
        "they were removed",
    ));
    Description::parse(&cleaned).ok().map(Some)
}

/// A closed set of names (`Status`, `Priority`): exact, a repairable spelling (`open`,
/// `in progress`), or unknown.
fn name<T: FromStr>(
    field: &'static str,
    text: &str,
    all: &[&str],
    problems: &mut Vec<Problem>,
) -> Option<T> {
    if let Ok(value) = text.parse() {
        return Some(value);
    }
    let respelled = text.trim().to_uppercase().replace([' ', '-'], "_");
    let one_of = all.join(", ");
    match respelled.parse() {
        Ok(value) => {
            problems.push(Problem::repairable(
                field,
                if field == STATUS {
                    "status_spelling"
                } else {
                    "priority_spelling"
                },
                format!("{text:?} is not one of {one_of}"),
                format!("write it as {respelled} in the source"),
                format!("read as {respelled}"),
            ));
            Some(value)
        }
        Err(_) => {
            problems.push(Problem::fatal(
                field,
                if field == STATUS {
                    "status_unknown"
                } else {
                    "priority_unknown"
                },
                format!("{text:?} is not one of {one_of}"),
                format!("set it to one of {one_of} in the source"),
            ));
            None
        }
    }
}

fn status(item: &Item, problems: &mut Vec<Problem>) -> Option<Status> {
    let all: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    match found(item, STATUS) {
        Found::Text(text) => name(STATUS, text, &all, problems),
        Found::Absent => {
            problems.push(Problem::repairable(
                STATUS,
                "status_missing",
                "is missing",
                format!("set it to one of {} in the source", all.join(", ")),
                "set to NEW, the API's default",
            ));
            Some(Status::New)
        }
        other => {
            problems.push(Problem::fatal(
                STATUS,
                "status_unknown",
                format!("is {}, not a string", kind(&other)),
                format!("set it to one of {} in the source", all.join(", ")),
            ));
            None
        }
    }
}

/// `None` (absent) becomes `MEDIUM`, the API's default; `Some(None)` is unusable.
fn priority(item: &Item, problems: &mut Vec<Problem>) -> Option<Priority> {
    let all: Vec<&str> = Priority::ALL.iter().map(|p| p.as_str()).collect();
    match found(item, PRIORITY) {
        Found::Absent => None,
        Found::Text(text) => name(PRIORITY, text, &all, problems),
        other => {
            problems.push(Problem::fatal(
                PRIORITY,
                "priority_unknown",
                format!("is {}, not a string", kind(&other)),
                format!(
                    "set it to one of {} in the source, or remove it",
                    all.join(", ")
                ),
            ));
            None
        }
    }
}

fn assignee(item: &Item, problems: &mut Vec<Problem>) -> Option<Option<Assignee>> {
    match found(item, ASSIGNEE) {
        Found::Absent => Some(None),
        Found::Text(text) => match Assignee::parse(text) {
            Ok(assignee) => Some(Some(assignee)),
            Err(err) => {
                problems.push(Problem::fatal(
                    ASSIGNEE,
                    "assignee_invalid",
                    err.message,
                    "fix or remove the assignee in the source",
                ));
                None
            }
        },
        other => {
            problems.push(Problem::fatal(
                ASSIGNEE,
                "assignee_invalid",
                format!("is {}, not a string", kind(&other)),
                "make the assignee a string in the source, or remove it",
            ));
            None
        }
    }
}

/// Milliseconds since 1970 between 2000 and 2100, as JavaScript's `Date.now()` writes them.
fn epoch_millis(text: &str) -> Option<Timestamp> {
    let millis: i64 = text.trim().parse().ok()?;
    if !(946_684_800_000..4_102_444_800_000).contains(&millis) {
        return None;
    }
    let time =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).ok()?;
    let text = time
        .format(&time::format_description::well_known::Rfc3339)
        .ok()?;
    Timestamp::parse(&text)
}

fn timestamp(item: &Item, field: &'static str, problems: &mut Vec<Problem>) -> Option<Timestamp> {
    let (missing, malformed, millis) = if field == CREATED_AT {
        (
            "created_at_missing",
            "created_at_malformed",
            "created_at_epoch_millis",
        )
    } else {
        (
            "updated_at_missing",
            "updated_at_malformed",
            "updated_at_epoch_millis",
        )
    };
    let fix = format!("write {field} as ISO-8601 with a zone, like 2024-03-05T10:00:00.000Z");
    let found = found(item, field);
    let text = match found {
        Found::Text(text) => text,
        Found::Number(number) => number,
        Found::Absent if field == UPDATED_AT => return None,
        Found::Absent => {
            problems.push(Problem::fatal(
                field,
                missing,
                "is missing; it orders the listing",
                format!("set {field} in the source (ISO-8601, like 2024-03-05T10:00:00.000Z)"),
            ));
            return None;
        }
        Found::Other(_) => {
            problems.push(Problem::fatal(
                field,
                malformed,
                format!("is {}, not a date-time", kind(&found)),
                fix,
            ));
            return None;
        }
    };
    if matches!(found, Found::Text(_))
        && let Some(time) = Timestamp::parse(text)
    {
        return Some(time);
    }
    if let Some(time) = epoch_millis(text) {
        problems.push(Problem::repairable(
            field,
            millis,
            format!("{text:?} is milliseconds since 1970, not ISO-8601"),
            fix,
            format!("read as {time}"),
        ));
        return Some(time);
    }
    problems.push(Problem::fatal(
        field,
        malformed,
        format!("{text:?} is not an ISO-8601 date-time with a zone"),
        fix,
    ));
    None
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
