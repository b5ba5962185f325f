//! What is wrong with an environment file, said as key, problem, fix and line.

use std::fmt;

/// A value that was read but is not acceptable: what is wrong, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// What is wrong.
    pub problem: String,
    /// How to fix it.
    pub fix: String,
}

impl Invalid {
    /// A problem and its fix.
    pub fn new(problem: impl Into<String>, fix: impl Into<String>) -> Self {
        Invalid {
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.problem, self.fix)
    }
}

/// One thing wrong with an environment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path of the offending key (`lambda.memory_mb`); empty for the whole file.
    pub key: String,
    /// What is wrong.
    pub problem: String,
    /// How to fix it.
    pub fix: String,
    /// Line in the file, when known.
    pub line: Option<usize>,
}

/// Why an environment could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum EnvironmentError {
    /// The name cannot be an environment's.
    #[error(
        "{name:?} is not an environment name: use lower-case letters, digits and '-', starting with a letter (e.g. dev)"
    )]
    InvalidName {
        /// The rejected name.
        name: String,
    },
    /// The file could not be read.
    #[error("{file}: cannot read it: create it, or use one of: {available}")]
    Unreadable {
        /// The file, relative to the root.
        file: String,
        /// The environments that exist.
        available: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid or safe environment.
    #[error("{}", render_problems(file, problems))]
    Invalid {
        /// The file, relative to the root.
        file: String,
        /// Everything wrong with it.
        problems: Vec<Problem>,
    },
}

fn render_problems(file: &str, problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| {
            let key = if p.key.is_empty() {
                String::new()
            } else {
                format!("{}: ", p.key)
            };
            let line = p.line.map(|l| format!(" (line {l})")).unwrap_or_default();
            format!("{file}: {key}{}: {}{line}", p.problem, p.fix)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The typed reason of the last value this thread's deserializer rejected.
///
/// serde carries a custom error only as text; the checked values record their [`Invalid`]
/// here as they reject, so the report is built from the typed value and never from the
/// message's wording.
pub(super) mod rejected {
    use super::Invalid;
    use std::cell::RefCell;

    thread_local! {
        static LAST: RefCell<Option<Invalid>> = const { RefCell::new(None) };
    }

    /// Records why a value was rejected.
    pub(in crate::environment) fn record(invalid: Invalid) {
        LAST.with(|last| *last.borrow_mut() = Some(invalid));
    }

    /// Takes what was recorded, leaving nothing behind for the next parse.
    pub(in crate::environment) fn take() -> Option<Invalid> {
        LAST.with(|last| last.borrow_mut().take())
    }
}

/// Turns a failed deserialization into a problem naming the key and a fix.
pub(super) fn problem_from_yaml(
    error: serde_path_to_error::Error<serde_norway::Error>,
    rejected: Option<Invalid>,
) -> Problem {
    let path = match error.path().to_string().as_str() {
        "." => String::new(),
        path => path.to_owned(),
    };
    let inner = error.into_inner();
    let line = inner.location().map(|l| l.line());
    if let Some(Invalid { problem, fix }) = rejected {
        return Problem {
            key: path,
            problem,
            fix,
            line,
        };
    }
    let (key, problem, fix) = classify(&path, &message(&inner));
    Problem {
        key,
        problem,
        fix,
        line,
    }
}

/// serde_norway's message without the location it appends and the path of the enclosing
/// mapping it prepends (`lambda: `); the key comes from the tracked path instead.
fn message(error: &serde_norway::Error) -> String {
    let mut text = error.to_string();
    if let Some(location) = error.location() {
        let suffix = format!(" at line {} column {}", location.line(), location.column());
        if let Some(stripped) = text.strip_suffix(&suffix) {
            text = stripped.to_owned();
        }
    }
    match text.split_once(": ") {
        Some((path, rest)) if !path.is_empty() && !path.contains([' ', '`', '"']) => {
            rest.to_owned()
        }
        _ => text,
    }
}

/// Sorts the errors serde itself raises (unknown key, missing key, wrong type or variant)
/// into key, problem and fix. Their wording is serde's (`serde::de::Error`'s provided
/// methods), pinned by this module's tests so that a change fails loudly.
fn classify(path: &str, message: &str) -> (String, String, String) {
    // The tracked path ends at the unknown key itself, but at the mapping of a missing one.
    let join = |field: &str| {
        if path.is_empty() || path == field {
            field.to_owned()
        } else if path.ends_with(&format!(".{field}")) {
            path.to_owned()
        } else {
            format!("{path}.{field}")
        }
    };
    let quoted = |message: &str| message.split('`').nth(1).unwrap_or_default().to_owned();
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let expected = rest.split_once(", ").map(|(_, e)| e).unwrap_or("");
        (
            join(&quoted(message)),
            "unknown key".to_owned(),
            format!("remove it or fix its spelling ({expected})"),
        )
    } else if message.starts_with("missing field ") {
        (
            join(&quoted(message)),
            "missing".to_owned(),
            "add it (every environment file sets it)".to_owned(),
        )
    } else if let Some((problem, expected)) = message.split_once(", expected ") {
        (
            path.to_owned(),
            problem.to_owned(),
            format!("write {}", readable(expected)),
        )
    } else {
        (
            path.to_owned(),
            message.to_owned(),
            "fix the YAML syntax at that line".to_owned(),
        )
    }
}

/// serde's names of expected types, in words.
fn readable(expected: &str) -> &str {
    match expected {
        "u32" | "u64" | "i64" => "a whole number",
        "a sequence" => "a list (lines starting with `- `)",
        "struct LambdaSettings"
        | "struct Throttling"
        | "struct DataProtection"
        | "struct Observability"
        | "struct Alarms"
        | "struct Rollout"
        | "struct Edge"
        | "struct Waf"
        | "struct Users"
        | "struct Encryption" => "a mapping of the keys below it",
        "f64" => "a number",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::Error as _;

    #[test]
    fn reads_the_wording_of_serdes_own_errors() {
        let unknown =
            serde_norway::Error::unknown_field("colour", &["region", "lambda", "log_level"]);
        assert_eq!(
            classify("", &unknown.to_string()),
            (
                "colour".into(),
                "unknown key".into(),
                "remove it or fix its spelling (expected one of `region`, `lambda`, `log_level`)"
                    .into()
            )
        );
        let missing = serde_norway::Error::missing_field("burst_limit");
        assert_eq!(
            classify("api_throttling", &missing.to_string()).0,
            "api_throttling.burst_limit"
        );
        let wrong = serde_norway::Error::invalid_type(serde::de::Unexpected::Str("lots"), &"u32");
        assert_eq!(
            classify("lambda.memory_mb", &wrong.to_string()),
            (
                "lambda.memory_mb".into(),
                "invalid type: string \"lots\"".into(),
                "write a whole number".into()
            )
        );
    }
}
