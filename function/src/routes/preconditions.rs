//! `If-Match`: which versions a write may find.

use crate::problem::Problem;
use crate::store::{StoreError, TicketStore};
use http::{HeaderMap, HeaderValue, header};
use tickets_domain::TicketId;

/// What `If-Match` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum IfMatch {
    /// `*`: any current version.
    Any,
    /// One of these versions (`"3"` or `"3", "4"`).
    Versions(Vec<u64>),
    /// Only tags this API never issues (weak, foreign or malformed): nothing can match.
    Never,
}

/// Reads `If-Match` leniently: a tag this API did not issue simply never matches, which
/// RFC 9110 answers with `412` rather than a syntax error.
fn parse_if_match(value: &HeaderValue) -> IfMatch {
    let Ok(text) = value.to_str() else {
        return IfMatch::Never;
    };
    if text.trim() == "*" {
        return IfMatch::Any;
    }
    // Strong comparison: weak tags (`W/"3"`) never match.
    let mut versions: Vec<u64> = text
        .split(',')
        .filter_map(|tag| {
            tag.trim()
                .strip_prefix('"')?
                .strip_suffix('"')?
                .parse()
                .ok()
        })
        .collect();
    versions.sort_unstable();
    versions.dedup();
    if versions.is_empty() {
        IfMatch::Never
    } else {
        IfMatch::Versions(versions)
    }
}

/// The versions a write may find, from `If-Match` (empty: any); resolves tags that can
/// never match into `404` or `412` here.
pub async fn expected_versions(
    store: &TicketStore,
    id: &TicketId,
    headers: &HeaderMap,
) -> Result<Vec<u64>, Problem> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(Vec::new());
    };
    match parse_if_match(value) {
        IfMatch::Any => Ok(Vec::new()),
        IfMatch::Versions(versions) => Ok(versions),
        IfMatch::Never => {
            let current = store.get(id).await?;
            Err(StoreError::VersionMismatch {
                current: current.version,
            }
            .into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_if_match_forms() {
        let parse = |v: &str| parse_if_match(&HeaderValue::from_str(v).unwrap());
        assert_eq!(parse("*"), IfMatch::Any);
        assert_eq!(parse("\"3\""), IfMatch::Versions(vec![3]));
        assert_eq!(
            parse("\"4\", W/\"5\", \"3\""),
            IfMatch::Versions(vec![3, 4])
        );
        for never in ["W/\"3\"", "\"abc\"", "3", "\"3", "", "0"] {
            assert_eq!(parse(never), IfMatch::Never, "{never}");
        }
    }
}
