//! The query string of a listing: `limit`, `status` and `nextToken`.

use crate::problem::Problem;
use crate::store::cursor::{Cursor, CursorError};
use crate::store::{ListQuery, MAX_PAGE};
use tickets_domain::{FieldError, Status};

/// Default page size of a listing.
pub const DEFAULT_PAGE: u16 = 20;

/// Parses a listing's query string; every bad parameter is reported at once.
pub fn parse_list_query(query: &str, table: &str) -> Result<ListQuery, Problem> {
    let mut errors = Vec::new();
    let mut limit = None;
    let mut status = None;
    let mut token = None;
    let mut seen: Vec<String> = Vec::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if seen.contains(&name.to_string()) {
            errors.push(FieldError::new(
                name.as_ref(),
                "is given more than once; give it once",
            ));
            continue;
        }
        seen.push(name.to_string());
        match name.as_ref() {
            "limit" => match value.parse::<u16>() {
                Ok(n) if (1..=MAX_PAGE).contains(&n) => limit = Some(n),
                _ => errors.push(FieldError::new(
                    "limit",
                    format!("must be a whole number from 1 to {MAX_PAGE}"),
                )),
            },
            "status" => match value.parse::<Status>() {
                Ok(s) => status = Some(s),
                Err(e) => errors.push(e),
            },
            "nextToken" => token = Some(value.into_owned()),
            other => errors.push(FieldError::new(
                other,
                "is not a query parameter of this listing; use limit, nextToken or status",
            )),
        }
    }
    let after = match token {
        Some(token) if errors.is_empty() => match Cursor::decode(&token, table, status) {
            Ok(cursor) => Some(cursor),
            Err(e @ (CursorError::Invalid | CursorError::OtherQuery)) => {
                errors.push(FieldError::new("nextToken", e.to_string()));
                None
            }
        },
        _ => None,
    };
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    Ok(ListQuery {
        limit: limit.unwrap_or(DEFAULT_PAGE),
        status,
        after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_list_parameters() {
        for query in [
            "limit=0",
            "limit=101",
            "limit=-1",
            "limit=ten",
            "limit=5&limit=6",
            "status=DONE",
            "sort=asc",
            "nextToken=xyz",
        ] {
            assert!(parse_list_query(query, "t").is_err(), "{query}");
        }
        let q = parse_list_query("limit=100&status=OPEN", "t").unwrap();
        assert_eq!((q.limit, q.status), (100, Some(Status::Open)));
        assert_eq!(parse_list_query("", "t").unwrap().limit, DEFAULT_PAGE);
    }
}
