//! Closed sets of names, `status` and `priority`: exact, a repairable spelling, or unknown.

use super::{Found, Item, Problem, found, kind};
use std::str::FromStr;
use tickets_domain::field::{PRIORITY, STATUS};
use tickets_domain::{Priority, Status};

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

pub(super) fn status(item: &Item, problems: &mut Vec<Problem>) -> Option<Status> {
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
pub(super) fn priority(item: &Item, problems: &mut Vec<Problem>) -> Option<Priority> {
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
