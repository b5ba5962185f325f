use super::field;
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

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.message)
    }
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
                field::ID,
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
    ($(#[$meta:meta])* $name:ident, $field:path { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
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
    Status, field::STATUS {
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
    Priority, field::PRIORITY {
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

/// The rules of one text field.
struct TextRules {
    /// The field's name in errors.
    field: &'static str,
    /// Whether surrounding whitespace is dropped first.
    trim: bool,
    /// Whether the text may be empty (after trimming).
    allow_empty: bool,
    /// The most characters accepted.
    max_chars: usize,
    /// Control characters accepted anyway.
    allow_control: fn(char) -> bool,
    /// Why control characters are refused, for the message.
    hint: &'static str,
}

/// Checks `text` against `rules`, returning the text to keep.
fn check_text(text: &str, rules: &TextRules) -> Result<String, FieldError> {
    let text = if rules.trim { text.trim() } else { text };
    let chars = text.chars().count();
    if chars == 0 && !rules.allow_empty {
        return Err(FieldError::new(rules.field, "must not be empty"));
    }
    if chars > rules.max_chars {
        return Err(FieldError::new(
            rules.field,
            format!(
                "must be at most {} characters (got {chars})",
                rules.max_chars
            ),
        ));
    }
    if let Some(bad) = text
        .chars()
        .find(|c| c.is_control() && !(rules.allow_control)(*c))
    {
        return Err(FieldError::new(
            rules.field,
            format!(
                "must not contain control characters (found U+{:04X}); {}",
                bad as u32, rules.hint
            ),
        ));
    }
    Ok(text.to_owned())
}

const TITLE_RULES: TextRules = TextRules {
    field: field::TITLE,
    trim: true,
    allow_empty: false,
    max_chars: Title::MAX_CHARS,
    allow_control: |_| false,
    hint: "a title is one line of text",
};

const DESCRIPTION_RULES: TextRules = TextRules {
    field: field::DESCRIPTION,
    trim: false,
    allow_empty: true,
    max_chars: Description::MAX_CHARS,
    allow_control: |c| matches!(c, '\n' | '\r' | '\t'),
    hint: "only line breaks and tabs are allowed",
};

const ASSIGNEE_RULES: TextRules = TextRules {
    field: field::ASSIGNEE,
    trim: true,
    allow_empty: false,
    max_chars: Assignee::MAX_CHARS,
    allow_control: |_| false,
    hint: "an assignee is one line of text",
};

/// A ticket's title: 1 to 200 characters once surrounding whitespace is trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Title(String);

impl Title {
    /// The longest accepted title, in characters.
    pub const MAX_CHARS: usize = 200;

    /// Checks a title.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_text(text, &TITLE_RULES).map(Title)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A ticket's description: up to 10 000 characters; line breaks and tabs allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Description(String);

impl Description {
    /// The longest accepted description, in characters.
    pub const MAX_CHARS: usize = 10_000;

    /// Checks a description.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_text(text, &DESCRIPTION_RULES).map(Description)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who a ticket is assigned to: 1 to 128 characters once trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Assignee(String);

impl Assignee {
    /// The longest accepted assignee, in characters.
    pub const MAX_CHARS: usize = 128;

    /// Checks an assignee.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        check_text(text, &ASSIGNEE_RULES).map(Assignee)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// Stored tickets are read through the same checks as requests.
macro_rules! via_string {
    ($($name:ident),+) => {
        $(impl TryFrom<String> for $name {
            type Error = FieldError;

            fn try_from(text: String) -> Result<Self, FieldError> {
                $name::parse(&text)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        })+
    };
}

via_string!(Title, Description, Assignee);

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
