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

mod dates;
mod names;

use aws_sdk_dynamodb::types::AttributeValue;
use dates::timestamp;
use names::{priority, status};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tickets_domain::field::{
    ASSIGNEE, CREATED_AT, DESCRIPTION, ID, PRIORITY, STATUS, TITLE, UPDATED_AT,
};
use tickets_domain::stored::StoredTicket;
use tickets_domain::{Assignee, Description, Ticket, TicketId, Title};

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

#[cfg(test)]
mod tests;
