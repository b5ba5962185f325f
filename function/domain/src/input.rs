//! Request bodies to domain values, with every field error reported at once.

use super::field::{self, ASSIGNEE, DESCRIPTION, PRIORITY, STATUS, TITLE};
use super::{
    Assignee, Description, FieldError, Priority, Status, TicketFields, TicketPatch, Title,
};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// Why a body is not an acceptable ticket.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Not well-formed JSON, or not a single JSON object.
    #[error("{0}")]
    Malformed(String),
    /// Well-formed, but some fields are wrong.
    #[error("{} field(s) are invalid", .0.len())]
    Invalid(Vec<FieldError>),
    /// A patch that changes nothing.
    #[error("a patch must change at least one of: {}", field::WRITABLE.join(", "))]
    EmptyPatch,
}

/// Parses a `POST` or `PUT` body: every writable field, with defaults for the optional ones.
pub fn parse_fields(body: &[u8]) -> Result<TicketFields, InputError> {
    let object = parse_object(body)?;
    let mut errors = Vec::new();
    let mut title = None;
    let mut fields = Partial::default();
    for (name, value) in &object.0 {
        match name.as_str() {
            TITLE => title = required(name, value, Title::parse, &mut errors),
            _ => fields.take(name, value, "a ticket", &mut errors),
        }
    }
    if title.is_none() && !object.0.iter().any(|(n, _)| n == TITLE) {
        errors.push(FieldError::new(TITLE, "is required"));
    }
    match title {
        Some(title) if errors.is_empty() => Ok(TicketFields {
            title,
            description: fields.description.flatten(),
            priority: fields.priority.unwrap_or_default(),
            status: fields.status.unwrap_or_default(),
            assignee: fields.assignee.flatten(),
        }),
        _ => Err(InputError::Invalid(errors)),
    }
}

/// Parses a `PATCH` body: any non-empty subset of the writable fields; `null` clears
/// `description` and `assignee`.
pub fn parse_patch(body: &[u8]) -> Result<TicketPatch, InputError> {
    let object = parse_object(body)?;
    let mut errors = Vec::new();
    let mut patch = TicketPatch::default();
    let mut fields = Partial::default();
    for (name, value) in &object.0 {
        match name.as_str() {
            TITLE => patch.title = required(name, value, Title::parse, &mut errors),
            _ => fields.take(name, value, "a patch", &mut errors),
        }
    }
    if !errors.is_empty() {
        return Err(InputError::Invalid(errors));
    }
    patch.description = fields.description;
    patch.priority = fields.priority;
    patch.status = fields.status;
    patch.assignee = fields.assignee;
    if patch.is_empty() {
        return Err(InputError::EmptyPatch);
    }
    Ok(patch)
}

/// The fields other than `title`, as found in a body.
#[derive(Default)]
struct Partial {
    description: Option<Option<Description>>,
    priority: Option<Priority>,
    status: Option<Status>,
    assignee: Option<Option<Assignee>>,
}

impl Partial {
    /// Takes one member of a body; `body` names it in messages ("a ticket", "a patch").
    fn take(&mut self, name: &str, value: &Value, body: &str, errors: &mut Vec<FieldError>) {
        match name {
            DESCRIPTION => self.description = optional(name, value, Description::parse, errors),
            ASSIGNEE => self.assignee = optional(name, value, Assignee::parse, errors),
            PRIORITY => self.priority = required(name, value, Priority::from_str, errors),
            STATUS => self.status = required(name, value, Status::from_str, errors),
            _ if field::SERVER.contains(&name) => errors.push(FieldError::new(
                name,
                "is managed by the server and cannot be written",
            )),
            _ => errors.push(FieldError::new(
                name,
                format!(
                    "is not a ticket field; {body} accepts {}",
                    field::WRITABLE.join(", ")
                ),
            )),
        }
    }
}

/// A field that must be a string when present.
fn required<T>(
    name: &str,
    value: &Value,
    parse: impl Fn(&str) -> Result<T, FieldError>,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    match value {
        Value::String(text) => parse(text).map_err(|e| errors.push(e)).ok(),
        Value::Null => {
            errors.push(FieldError::new(name, "cannot be null"));
            None
        }
        other => {
            errors.push(type_error(name, other));
            None
        }
    }
}

/// A field that may be a string or `null` (`Some(None)`).
fn optional<T>(
    name: &str,
    value: &Value,
    parse: impl Fn(&str) -> Result<T, FieldError>,
    errors: &mut Vec<FieldError>,
) -> Option<Option<T>> {
    match value {
        Value::Null => Some(None),
        Value::String(text) => parse(text).map(Some).map_err(|e| errors.push(e)).ok(),
        other => {
            errors.push(type_error(name, other));
            None
        }
    }
}

fn type_error(name: &str, value: &Value) -> FieldError {
    let kind = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    FieldError::new(name, format!("must be a string (got {kind})"))
}

/// A JSON object's members in order; a repeated member name is an error rather than
/// silently keeping the last one.
struct StrictObject(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for StrictObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;

        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = StrictObject;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictObject, A::Error> {
                let mut members: Vec<(String, Value)> = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, Value>()? {
                    if members.iter().any(|(n, _)| *n == name) {
                        return Err(serde::de::Error::custom(format!(
                            "member `{name}` appears more than once"
                        )));
                    }
                    members.push((name, value));
                }
                Ok(StrictObject(members))
            }
        }

        deserializer.deserialize_map(ObjectVisitor)
    }
}

fn parse_object(body: &[u8]) -> Result<StrictObject, InputError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(InputError::Malformed(
            "the request body is empty; send a JSON object".into(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        InputError::Malformed(match e.classify() {
            serde_json::error::Category::Data => {
                format!("the request body must be a JSON object: {e}")
            }
            _ => format!("the request body is not valid JSON: {e}"),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid_fields(result: Result<impl fmt::Debug, InputError>) -> Vec<String> {
        match result {
            Err(InputError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn applies_defaults_on_create() {
        let fields = parse_fields(br#"{"title":" Broken VPN "}"#).unwrap();
        assert_eq!(fields.title.as_str(), "Broken VPN");
        assert_eq!(fields.priority, Priority::Medium);
        assert_eq!(fields.status, Status::New);
        assert_eq!(fields.description, None);
        assert_eq!(fields.assignee, None);
    }

    #[test]
    fn reports_every_bad_field_at_once() {
        let body = br#"{"title":"","priority":"CRITICAL","status":5,"assignee":[],"colour":"red","id":"x"}"#;
        assert_eq!(
            invalid_fields(parse_fields(body)),
            vec!["title", "priority", "status", "assignee", "colour", "id"]
        );
    }

    #[test]
    fn requires_a_title() {
        assert_eq!(
            invalid_fields(parse_fields(br#"{"status":"OPEN"}"#)),
            vec!["title"]
        );
        assert_eq!(
            invalid_fields(parse_fields(br#"{"title":null}"#)),
            vec!["title"]
        );
    }

    #[test]
    fn rejects_repeated_members() {
        assert!(matches!(
            parse_fields(br#"{"title":"a","title":"b"}"#),
            Err(InputError::Malformed(m)) if m.contains("more than once")
        ));
    }

    #[test]
    fn rejects_bodies_that_are_not_objects() {
        for body in [
            &b""[..],
            b"  ",
            b"[]",
            b"\"title\"",
            b"{\"title\":",
            b"{'title':'x'}",
            b"\xff\xfe",
        ] {
            assert!(
                matches!(parse_fields(body), Err(InputError::Malformed(_))),
                "{body:?}"
            );
        }
    }

    #[test]
    fn patch_null_clears_optional_fields_only() {
        let patch = parse_patch(br#"{"description":null,"assignee":null}"#).unwrap();
        assert_eq!(patch.description, Some(None));
        assert_eq!(patch.assignee, Some(None));
        assert_eq!(
            invalid_fields(parse_patch(
                br#"{"title":null,"status":null,"priority":null}"#
            )),
            vec!["title", "status", "priority"]
        );
    }

    #[test]
    fn patch_must_change_something() {
        assert_eq!(parse_patch(b"{}"), Err(InputError::EmptyPatch));
    }
}
