//! `createdAt` and `updatedAt`: ISO-8601 with a zone, or JavaScript's epoch milliseconds
//! (repairable), or a reason.

use super::{Found, Item, Problem, found, kind};
use tickets_domain::Timestamp;
use tickets_domain::field::{CREATED_AT, UPDATED_AT};

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

pub(super) fn timestamp(
    item: &Item,
    field: &'static str,
    problems: &mut Vec<Problem>,
) -> Option<Timestamp> {
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
