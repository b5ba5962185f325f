use serde::{Deserialize, Deserializer, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// What is wrong with one field of a request, for the `errors` list of a problem response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name (`title`) or a query parameter (`limit`).
    pub field: String,
    /// What is wrong and what is accepted.
    pub message: String,
}

impl FieldError {
    /// An error on `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A ticket's id: a UUID, always written in lower-case hyphenated form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TicketId(Uuid);

impl Serialize for TicketId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl TicketId {
    /// A fresh random (v4) id.
    pub fn new() -> Self {
        TicketId(Uuid::new_v4())
    }
}

impl Default for TicketId {
    fn default() -> Self {
        Self::new()
    }
}

impl FromStr for TicketId {
    type Err = FieldError;

    /// Accepts only the 36-character hyphenated form, in either case.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            FieldError::new(
                "id",
                "must be a UUID like 3f2a1c9e-8b7d-4e6f-a5b4-c3d2e1f0a9b8",
            )
        };
        if text.len() != 36 {
            return Err(invalid());
        }
        Uuid::try_parse(text).map(TicketId).map_err(|_| invalid())
    }
}

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl<'de> Deserialize<'de> for TicketId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse()
            .map_err(|e: FieldError| serde::de::Error::custom(e.message))
    }
}

/// Declares a closed set of upper-case names with parsing, printing and serde support.
macro_rules! names {
    ($(#[$meta:meta])* $name:ident, $field:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value's name on the wire.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = FieldError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(FieldError::new(
                        $field,
                        format!("must be one of {}", [$($text),+].join(", ")),
                    )),
                }
            }
        }
    };
}

names!(
    /// Where a ticket is in its life.
    Status, "status" {
        /// Just reported; the default.
        #[default]
        New = "NEW",
        /// Acknowledged.
        Open = "OPEN",
        /// Being worked on.
        InProgress = "IN_PROGRESS",
        /// Fixed, awaiting confirmation.
        Resolved = "RESOLVED",
        /// Done.
        Closed = "CLOSED",
    }
);

names!(
    /// How urgent a ticket is.
    Priority, "priority" {
        /// Whenever there is time.
        Low = "LOW",
        /// The default.
        #[default]
        Medium = "MEDIUM",
        /// Soon.
        High = "HIGH",
        /// Now.
        Urgent = "URGENT",
    }
);

/// Declares a text newtype whose constructor enforces a length range and a character rule.
macro_rules! text {
    ($(#[$meta:meta])* $name:ident, $field:literal, trim: $trim:literal, min: $min:literal, max: $max:literal, allow: $allow:expr, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The longest accepted value, in characters.
            pub const MAX_CHARS: usize = $max;

            /// Checks `text` against the field's rules.
            pub fn parse(text: &str) -> Result<Self, FieldError> {
                let text = if $trim { text.trim() } else { text };
                let chars = text.chars().count();
                let min: usize = $min;
                if chars < min {
                    return Err(FieldError::new($field, "must not be empty"));
                }
                if chars > $max {
                    return Err(FieldError::new(
                        $field,
                        format!("must be at most {} characters (got {chars})", $max),
                    ));
                }
                let allow: fn(char) -> bool = $allow;
                if let Some(bad) = text.chars().find(|c| c.is_control() && !allow(*c)) {
                    return Err(FieldError::new(
                        $field,
                        format!("must not contain control characters (found U+{:04X}); {}", bad as u32, $what),
                    ));
                }
                Ok($name(text.to_owned()))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $name::parse(&text).map_err(|e| serde::de::Error::custom(e.message))
            }
        }
    };
}

text!(
    /// A ticket's title: 1 to 200 characters once surrounding whitespace is trimmed.
    Title, "title", trim: true, min: 1, max: 200, allow: |_| false,
    "a title is one line of text"
);

text!(
    /// A ticket's description: up to 10 000 characters; line breaks and tabs allowed.
    Description, "description", trim: false, min: 0, max: 10_000,
    allow: |c| matches!(c, '\n' | '\r' | '\t'),
    "only line breaks and tabs are allowed"
);

text!(
    /// Who a ticket is assigned to: 1 to 128 characters once trimmed.
    Assignee, "assignee", trim: true, min: 1, max: 128, allow: |_| false,
    "an assignee is one line of text"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_id_accepts_only_hyphenated_uuids() {
        let id: TicketId = "3F2A1C9E-8B7D-4E6F-A5B4-C3D2E1F0A9B8".parse().unwrap();
        assert_eq!(id.to_string(), "3f2a1c9e-8b7d-4e6f-a5b4-c3d2e1f0a9b8");
        for bad in [
            "3f2a1c9e8b7d4e6fa5b4c3d2e1f0a9b8",
            "{3f2a1c9e-8b7d-4e6f-a5b4-c3d2e1f0a9b8}",
            "' OR 1=1 --",
            "",
            "3f2a1c9e-8b7d-4e6f-a5b4-c3d2e1f0a9bz",
        ] {
            assert!(bad.parse::<TicketId>().is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn title_is_trimmed_and_bounded() {
        assert_eq!(
            Title::parse("  Printer on fire ").unwrap().as_str(),
            "Printer on fire"
        );
        assert!(Title::parse("   ").is_err());
        assert!(Title::parse(&"é".repeat(200)).is_ok());
        assert!(Title::parse(&"é".repeat(201)).is_err());
    }

    #[test]
    fn rejects_control_characters_except_layout_in_descriptions() {
        assert!(Title::parse("bell\u{7}").is_err());
        assert!(Title::parse("two\nlines").is_err());
        assert!(Description::parse("line one\nline two\ttabbed\r\n").is_ok());
        assert!(Description::parse("nul\u{0}").is_err());
        assert!(Assignee::parse("esc\u{1b}[31m").is_err());
    }

    #[test]
    fn rejects_unknown_status() {
        assert_eq!("IN_PROGRESS".parse::<Status>().unwrap(), Status::InProgress);
        let err = "DONE".parse::<Status>().unwrap_err();
        assert_eq!(err.field, "status");
        assert!(
            err.message
                .contains("NEW, OPEN, IN_PROGRESS, RESOLVED, CLOSED")
        );
        assert!("in_progress".parse::<Status>().is_err());
    }

    #[test]
    fn rejects_unknown_priority() {
        assert_eq!("URGENT".parse::<Priority>().unwrap(), Priority::Urgent);
        assert!("CRITICAL".parse::<Priority>().is_err());
    }
}
