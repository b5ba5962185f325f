//! Per-environment settings: `environments/<name>.yaml`, parsed into typed values and checked
//! for settings that are unsafe in production.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

/// The directory, under the repository root, that holds one YAML file per environment.
pub const DIRECTORY: &str = "environments";

/// The environment held to production rules.
pub const PRODUCTION: &str = "prod";

/// CloudWatch Logs' allowed retention periods, in days.
pub const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// API Gateway gives up on an integration after 29 seconds.
pub const API_GATEWAY_TIMEOUT_SECONDS: u32 = 29;

/// The settings of one environment.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// The environment's name (the file's stem); also the API stage name.
    #[serde(skip)]
    pub name: String,
    /// AWS region to deploy to.
    pub region: Region,
    /// The only AWS account this environment may be deployed to, when pinned.
    #[serde(default)]
    pub account_id: Option<AccountId>,
    /// Origins allowed by CORS; `*` allows any (not in prod).
    pub allowed_origins: Vec<Origin>,
    /// The function's log level; the function's default when unset.
    #[serde(default)]
    pub log_level: Option<LogLevel>,
    /// The function's sizing.
    pub lambda: LambdaSettings,
    /// Days the function's logs are kept; forever when unset (not in prod).
    #[serde(default)]
    pub log_retention_days: Option<RetentionDays>,
    /// Request rate limits of the API stage.
    pub api_throttling: Throttling,
    /// Safeguards of the table and user pool.
    pub data_protection: DataProtection,
}

/// The function's sizing.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaSettings {
    /// Instruction set of the build.
    pub architecture: Architecture,
    /// Memory in MB (CPU is allotted in proportion).
    pub memory_mb: MemoryMb,
    /// Timeout in seconds.
    pub timeout_seconds: TimeoutSeconds,
    /// Concurrency reserved for, and capping, the function.
    #[serde(default)]
    pub reserved_concurrency: Option<Positive>,
}

/// Request rate limits of the API stage.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttling {
    /// Steady requests per second.
    pub rate_limit: Positive,
    /// Requests allowed in a burst.
    pub burst_limit: Positive,
}

/// Safeguards of stateful resources.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataProtection {
    /// Continuous backups of the table (restore to any second of the last 35 days).
    pub point_in_time_recovery: bool,
    /// The table and user pool refuse deletion.
    pub deletion_protection: bool,
    /// The table and user pool survive the stack's deletion or their replacement.
    pub retain_on_delete: bool,
}

/// Instruction set of the function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Architecture {
    /// Intel/AMD 64-bit.
    #[serde(rename = "x86_64")]
    X86_64,
    /// Graviton.
    #[serde(rename = "arm64")]
    Arm64,
}

/// The function's log level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warn,
    /// One line per request.
    Info,
    /// Details.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// The value of `LOG_LEVEL`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// An AWS region code (`us-east-1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region(String);

impl Region {
    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Region {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        let parts: Vec<&str> = value.split('-').collect();
        let valid = parts.len() >= 3
            && parts[0].len() == 2
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
            && !parts[parts.len() - 1].is_empty();
        if valid {
            Ok(Region(value))
        } else {
            Err(format!(
                "{value:?} is not an AWS region code: write one like us-east-1 or eu-west-3"
            ))
        }
    }
}

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountId(String);

impl AccountId {
    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AccountId {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(value))
        } else {
            Err(format!(
                "{value:?} is not a 12-digit account id: write the id in quotes, e.g. \"123456789012\""
            ))
        }
    }
}

/// An origin allowed by CORS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `*`: any origin.
    Any,
    /// `scheme://host[:port]`.
    Exact(String),
}

impl Origin {
    /// The origin as the function and browsers write it.
    pub fn as_str(&self) -> &str {
        match self {
            Origin::Any => tickets_manifest::cors::ANY_ORIGIN,
            Origin::Exact(origin) => origin,
        }
    }

    /// Whether the origin is served over TLS.
    pub fn is_https(&self) -> bool {
        matches!(self, Origin::Exact(origin) if origin.starts_with("https://"))
    }
}

impl TryFrom<String> for Origin {
    type Error = String;

    fn try_from(value: String) -> Result<Self, String> {
        if value == tickets_manifest::cors::ANY_ORIGIN {
            return Ok(Origin::Any);
        }
        let authority = value
            .strip_prefix("https://")
            .or_else(|| value.strip_prefix("http://"));
        match authority {
            Some(authority)
                if !authority.is_empty()
                    && authority
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)) =>
            {
                Ok(Origin::Exact(value))
            }
            _ => {
                let hint = value.trim_end_matches('/');
                Err(format!(
                    "{value:?} is not an origin: write scheme://host[:port] without path or trailing slash, e.g. {:?}",
                    if hint.contains("://") {
                        hint
                    } else {
                        "https://app.example.com"
                    }
                ))
            }
        }
    }
}

/// Memory of the function in MB, 128 to 10240.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryMb(u32);

impl MemoryMb {
    /// The value.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for MemoryMb {
    type Error = String;

    fn try_from(value: u32) -> Result<Self, String> {
        if (128..=10_240).contains(&value) {
            Ok(MemoryMb(value))
        } else {
            Err(format!(
                "{value} is outside Lambda's 128 to 10240 MB: pick a value in that range (256 suits this function)"
            ))
        }
    }
}

/// Timeout of the function in seconds, 1 to 29.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeoutSeconds(u32);

impl TimeoutSeconds {
    /// The value.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for TimeoutSeconds {
    type Error = String;

    fn try_from(value: u32) -> Result<Self, String> {
        if !(1..=900).contains(&value) {
            Err(format!(
                "{value} is outside Lambda's 1 to 900 seconds: set 1 to {API_GATEWAY_TIMEOUT_SECONDS}"
            ))
        } else if value > API_GATEWAY_TIMEOUT_SECONDS {
            Err(format!(
                "{value} is longer than API Gateway's {API_GATEWAY_TIMEOUT_SECONDS} s integration timeout, so callers would get 504 while the function keeps running: set {API_GATEWAY_TIMEOUT_SECONDS} or less"
            ))
        } else {
            Ok(TimeoutSeconds(value))
        }
    }
}

/// A retention period CloudWatch Logs accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionDays(u32);

impl RetentionDays {
    /// The value.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for RetentionDays {
    type Error = String;

    fn try_from(value: u32) -> Result<Self, String> {
        if RETENTION_DAYS.contains(&value) {
            Ok(RetentionDays(value))
        } else {
            Err(format!(
                "{value} is not a retention period CloudWatch Logs accepts: use one of {}",
                list(RETENTION_DAYS)
            ))
        }
    }
}

/// A count of at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Positive(u32);

impl Positive {
    /// The value.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Positive {
    type Error = String;

    fn try_from(value: u32) -> Result<Self, String> {
        if value >= 1 {
            Ok(Positive(value))
        } else {
            Err("0 would refuse every request: set 1 or more".to_owned())
        }
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

impl Environment {
    /// Loads `environments/<name>.yaml` under `root`.
    pub fn load(root: &Path, name: &str) -> Result<Environment, EnvironmentError> {
        if !is_environment_name(name) {
            return Err(EnvironmentError::InvalidName {
                name: name.to_owned(),
            });
        }
        let file = format!("{DIRECTORY}/{name}.yaml");
        let text = std::fs::read_to_string(root.join(&file)).map_err(|source| {
            EnvironmentError::Unreadable {
                file: file.clone(),
                available: available(&root.join(DIRECTORY)),
                source,
            }
        })?;
        Environment::parse(name, &file, &text)
    }

    /// Parses and checks the YAML of environment `name`; `file` names it in errors.
    pub fn parse(name: &str, file: &str, yaml: &str) -> Result<Environment, EnvironmentError> {
        if !is_environment_name(name) {
            return Err(EnvironmentError::InvalidName {
                name: name.to_owned(),
            });
        }
        let mut environment: Environment =
            serde_norway::from_str(yaml).map_err(|error| EnvironmentError::Invalid {
                file: file.to_owned(),
                problems: vec![problem_from_yaml(&error)],
            })?;
        environment.name = name.to_owned();
        let problems = environment.problems();
        if problems.is_empty() {
            Ok(environment)
        } else {
            Err(EnvironmentError::Invalid {
                file: file.to_owned(),
                problems,
            })
        }
    }

    /// Whether production rules apply.
    pub fn is_production(&self) -> bool {
        self.name == PRODUCTION
    }

    /// Whether CORS allows any origin.
    pub fn allows_any_origin(&self) -> bool {
        self.allowed_origins.contains(&Origin::Any)
    }

    /// The value of the function's `ALLOWED_ORIGINS`.
    pub fn allowed_origins_value(&self) -> String {
        self.allowed_origins
            .iter()
            .map(Origin::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Settings that are inconsistent, or unsafe in production.
    fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut report = |key: &str, problem: &str, fix: &str| {
            problems.push(Problem {
                key: key.to_owned(),
                problem: problem.to_owned(),
                fix: fix.to_owned(),
                line: None,
            })
        };
        if self.allowed_origins.is_empty() {
            report(
                "allowed_origins",
                "is empty, so browsers could not call the API",
                "list at least one origin, e.g. https://app.example.com",
            );
        }
        // The function reads `*` as "any origin" only on its own (see its config).
        if self.allows_any_origin() && self.allowed_origins.len() > 1 {
            report(
                "allowed_origins",
                "`*` already allows every origin and cannot be combined with others",
                "keep only `*`, or list the exact origins without it",
            );
        }
        if !self.is_production() {
            return problems;
        }
        if self.allows_any_origin() {
            report(
                "allowed_origins",
                "`*` is not allowed in prod",
                "list the exact https origins of the web app instead",
            );
        }
        for origin in &self.allowed_origins {
            if let Origin::Exact(value) = origin
                && !origin.is_https()
            {
                report(
                    "allowed_origins",
                    &format!("{value} is not https, which prod does not allow"),
                    "serve the web app over https and list its https origin",
                );
            }
        }
        let protection = &self.data_protection;
        for (key, on) in [
            (
                "data_protection.point_in_time_recovery",
                protection.point_in_time_recovery,
            ),
            (
                "data_protection.deletion_protection",
                protection.deletion_protection,
            ),
            (
                "data_protection.retain_on_delete",
                protection.retain_on_delete,
            ),
        ] {
            if !on {
                report(key, "must be true in prod", "set it to true");
            }
        }
        if self.log_retention_days.is_none() {
            report(
                "log_retention_days",
                "must be set in prod",
                &format!(
                    "set it to one of CloudWatch's periods ({}), e.g. 365",
                    list(RETENTION_DAYS)
                ),
            );
        }
        problems
    }
}

fn is_environment_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && name.len() <= 32
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The environments under `directory`, for error messages.
fn available(directory: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(directory)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok())
                .filter_map(|entry| {
                    let name = entry.file_name().into_string().ok()?;
                    name.strip_suffix(".yaml").map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    if names.is_empty() {
        format!("(none in {})", directory.display())
    } else {
        names.join(", ")
    }
}

/// serde's names of expected types, in words.
fn readable(expected: &str) -> &str {
    match expected {
        "u32" | "u64" | "i64" => "a whole number",
        "a sequence" => "a list (lines starting with `- `)",
        "struct LambdaSettings" | "struct Throttling" | "struct DataProtection" => {
            "a mapping of the keys below it"
        }
        other => other,
    }
}

fn list(values: &[u32]) -> String {
    values
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Turns a YAML or schema error into a problem naming the key and a fix.
fn problem_from_yaml(error: &serde_norway::Error) -> Problem {
    let line = error.location().map(|l| l.line());
    let mut text = error.to_string();
    if let Some(location) = error.location() {
        let suffix = format!(" at line {} column {}", location.line(), location.column());
        if let Some(stripped) = text.strip_suffix(&suffix) {
            text = stripped.to_owned();
        }
    }
    // serde_norway prefixes the message with the dotted path of the value it was reading.
    let (path, message) = match text.split_once(": ") {
        Some((path, rest)) if !path.is_empty() && !path.contains([' ', '`', '"']) => {
            (path.to_owned(), rest.to_owned())
        }
        _ => (String::new(), text),
    };
    let join = |path: &str, field: &str| {
        if path.is_empty() {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        }
    };
    let field = |message: &str| message.split('`').nth(1).unwrap_or_default().to_owned();
    let (key, problem, fix) = if let Some(rest) = message.strip_prefix("unknown field ") {
        let expected = rest.split_once(", ").map(|(_, e)| e).unwrap_or("");
        (
            join(&path, &field(&message)),
            "unknown key".to_owned(),
            format!("remove it or fix its spelling ({expected})"),
        )
    } else if message.starts_with("missing field ") {
        (
            join(&path, &field(&message)),
            "missing".to_owned(),
            "add it (every environment file sets it)".to_owned(),
        )
    } else if let Some((problem, expected)) = message.split_once(", expected ") {
        (
            path,
            problem.to_owned(),
            format!("write {}", readable(expected)),
        )
    } else if let Some((problem, fix)) = message.rsplit_once(": ") {
        // The messages of this module's own checks: "<problem>: <fix>".
        (path, problem.to_owned(), fix.to_owned())
    } else {
        (path, message, "fix the YAML syntax at that line".to_owned())
    };
    Problem {
        key,
        problem,
        fix,
        line,
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// The checked values are deserialized through visitors, so a rejected value is reported
// while the parser still points at it (with its key and line), not at the enclosing mapping.

/// Reads a whole number and checks it with `T::try_from`.
struct CheckedNumber<T>(PhantomData<T>);

impl<T: TryFrom<u32, Error = String>> Visitor<'_> for CheckedNumber<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a whole number")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<T, E> {
        let value = u32::try_from(value)
            .map_err(|_| E::custom(format!("{value} is far too large: use a realistic value")))?;
        T::try_from(value).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<T, E> {
        match u64::try_from(value) {
            Ok(value) => self.visit_u64(value),
            Err(_) => Err(E::custom(format!(
                "{value} is negative: use a positive whole number"
            ))),
        }
    }
}

/// Reads a string and checks it with `T::try_from`.
struct CheckedString<T>(PhantomData<T>);

impl<T: TryFrom<String, Error = String>> Visitor<'_> for CheckedString<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
        T::try_from(value.to_owned()).map_err(E::custom)
    }
}

macro_rules! checked {
    ($visitor:ident, $method:ident: $($type:ty),+) => {
        $(impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.$method($visitor(PhantomData))
            }
        })+
    };
}

checked!(CheckedNumber, deserialize_u32: MemoryMb, TimeoutSeconds, RetentionDays, Positive);
checked!(CheckedString, deserialize_str: Region, AccountId, Origin);
