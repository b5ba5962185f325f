//! Opaque pagination tokens.
//!
//! A token names the last ticket of a page and the query it belongs to, and carries a
//! MAC keyed by the table name. The MAC is for integrity, not secrecy: an edited,
//! truncated or foreign token (another table, another filter) is refused with a `400`
//! instead of reaching DynamoDB as a malformed start key. Anyone who knows the table's
//! name can forge a token, which only lets them start a listing where they like.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tickets_domain::{Status, TicketId};

/// Where the next page of a listing starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Id of the last ticket returned.
    #[serde(rename = "i")]
    pub id: TicketId,
    /// Index sort key of the last ticket returned (`<createdAt>#<id>`).
    #[serde(rename = "c")]
    pub created_key: String,
    /// The status filter of the query, if any.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    /// Not a token this API issued, or altered since.
    #[error(
        "nextToken is not a token this API issued (or it was altered); start again without nextToken"
    )]
    Invalid,
    /// A valid token from a listing with another status filter.
    #[error(
        "nextToken belongs to a listing with a different status filter; repeat the original query's status"
    )]
    OtherQuery,
}

const MAC_BYTES: usize = 16;

fn mac(table: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"tickets/cursor/v1")
        .expect("HMAC accepts keys of any length");
    mac.update(table.as_bytes());
    let key = mac.finalize().into_bytes();
    <Hmac<Sha256> as KeyInit>::new_from_slice(&key).expect("HMAC accepts keys of any length")
}

impl Cursor {
    /// The token for this cursor, bound to `table`.
    pub fn encode(&self, table: &str) -> String {
        let payload = serde_json::to_vec(self).expect("a cursor always serialises");
        let mut mac = mac(table);
        mac.update(&payload);
        let tag = mac.finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(&tag[..MAC_BYTES])
        )
    }

    /// Reads a token issued for `table` by a query with the `status` filter.
    pub fn decode(token: &str, table: &str, status: Option<Status>) -> Result<Self, CursorError> {
        let (payload, tag) = token.split_once('.').ok_or(CursorError::Invalid)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| CursorError::Invalid)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| CursorError::Invalid)?;
        let mut mac = mac(table);
        mac.update(&payload);
        if tag.len() != MAC_BYTES || mac.verify_truncated_left(&tag).is_err() {
            return Err(CursorError::Invalid);
        }
        let cursor: Cursor = serde_json::from_slice(&payload).map_err(|_| CursorError::Invalid)?;
        if !cursor.created_key.ends_with(&format!("#{}", cursor.id)) {
            return Err(CursorError::Invalid);
        }
        if cursor.status != status {
            return Err(CursorError::OtherQuery);
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor(status: Option<Status>) -> Cursor {
        let id = TicketId::new();
        Cursor {
            id,
            created_key: format!("2026-11-29T05:12:54.123456Z#{id}"),
            status,
        }
    }

    #[test]
    fn round_trips() {
        let c = cursor(Some(Status::Open));
        assert_eq!(
            Cursor::decode(&c.encode("t"), "t", Some(Status::Open)),
            Ok(c)
        );
    }

    #[test]
    fn rejects_tampered_truncated_and_foreign_tokens() {
        let token = cursor(None).encode("t");
        let mut tampered = token.clone().into_bytes();
        tampered[3] ^= 1;
        let tampered = String::from_utf8(tampered).unwrap();
        for bad in [
            tampered.as_str(),
            &token[..token.len() - 2],
            &token[..10],
            "",
            ".",
            "not-a-token",
            "eyJpIjoiMSJ9.AAAA",
        ] {
            assert_eq!(
                Cursor::decode(bad, "t", None),
                Err(CursorError::Invalid),
                "{bad}"
            );
        }
        assert_eq!(
            Cursor::decode(&token, "other-table", None),
            Err(CursorError::Invalid)
        );
    }

    #[test]
    fn rejects_a_token_from_another_filter() {
        let token = cursor(Some(Status::Open)).encode("t");
        assert_eq!(
            Cursor::decode(&token, "t", None),
            Err(CursorError::OtherQuery)
        );
        assert_eq!(
            Cursor::decode(&token, "t", Some(Status::Closed)),
            Err(CursorError::OtherQuery)
        );
    }
}
