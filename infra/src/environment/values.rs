//! The checked values of an environment file: each type holds only what AWS accepts, and
//! says what is wrong and how to fix it otherwise.

use super::error::{Invalid, rejected};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;
use tickets_manifest::cors::Origin;

/// CloudWatch Logs' allowed retention periods, in days.
pub const RETENTION_DAYS: &[u32] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// API Gateway gives up on an integration after 29 seconds.
pub const API_GATEWAY_TIMEOUT_SECONDS: u32 = 29;

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
    type Error = Invalid;

    fn try_from(value: String) -> Result<Self, Invalid> {
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
            Err(Invalid::new(
                format!("{value:?} is not an AWS region code"),
                "write one like us-east-1 or eu-west-3",
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
    type Error = Invalid;

    fn try_from(value: String) -> Result<Self, Invalid> {
        if value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(value))
        } else {
            Err(Invalid::new(
                format!("{value:?} is not a 12-digit account id"),
                "write the id in quotes, e.g. \"123456789012\"",
            ))
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
    type Error = Invalid;

    fn try_from(value: u32) -> Result<Self, Invalid> {
        if (128..=10_240).contains(&value) {
            Ok(MemoryMb(value))
        } else {
            Err(Invalid::new(
                format!("{value} is outside Lambda's 128 to 10240 MB"),
                "pick a value in that range (256 suits this function)",
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
    type Error = Invalid;

    fn try_from(value: u32) -> Result<Self, Invalid> {
        if !(1..=900).contains(&value) {
            Err(Invalid::new(
                format!("{value} is outside Lambda's 1 to 900 seconds"),
                format!("set 1 to {API_GATEWAY_TIMEOUT_SECONDS}"),
            ))
        } else if value > API_GATEWAY_TIMEOUT_SECONDS {
            Err(Invalid::new(
                format!(
                    "{value} is longer than API Gateway's {API_GATEWAY_TIMEOUT_SECONDS} s integration timeout, so callers would get 504 while the function keeps running"
                ),
                format!("set {API_GATEWAY_TIMEOUT_SECONDS} or less"),
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
    type Error = Invalid;

    fn try_from(value: u32) -> Result<Self, Invalid> {
        if RETENTION_DAYS.contains(&value) {
            Ok(RetentionDays(value))
        } else {
            Err(Invalid::new(
                format!("{value} is not a retention period CloudWatch Logs accepts"),
                format!("use one of {}", list(RETENTION_DAYS)),
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
    type Error = Invalid;

    fn try_from(value: u32) -> Result<Self, Invalid> {
        if value >= 1 {
            Ok(Positive(value))
        } else {
            Err(Invalid::new(
                "0 would refuse every request",
                "set 1 or more",
            ))
        }
    }
}

/// `1, 3, 5`
pub(super) fn list(values: &[u32]) -> String {
    values
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

// The checked values are deserialized through visitors, so a rejected value is reported
// while the parser still points at it (with its key and line), not at the enclosing mapping.

/// Reports a rejected value to serde, keeping the typed reason for the error report.
pub(super) fn reject<E: de::Error>(invalid: Invalid) -> E {
    let error = E::custom(&invalid);
    rejected::record(invalid);
    error
}

/// Reads a whole number and checks it with `T::try_from`.
pub(super) struct CheckedNumber<T>(pub(super) PhantomData<T>);

impl<T: TryFrom<u32, Error = Invalid>> Visitor<'_> for CheckedNumber<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a whole number")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<T, E> {
        let value = u32::try_from(value).map_err(|_| {
            reject(Invalid::new(
                format!("{value} is far too large"),
                "use a realistic value",
            ))
        })?;
        T::try_from(value).map_err(reject)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<T, E> {
        match u64::try_from(value) {
            Ok(value) => self.visit_u64(value),
            Err(_) => Err(reject(Invalid::new(
                format!("{value} is negative"),
                "use a positive whole number",
            ))),
        }
    }
}

/// Reads a string and checks it with `T::try_from`.
pub(super) struct CheckedString<T>(pub(super) PhantomData<T>);

impl<T: TryFrom<String, Error = Invalid>> Visitor<'_> for CheckedString<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
        T::try_from(value.to_owned()).map_err(reject)
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

pub(super) use checked;

checked!(CheckedNumber, deserialize_u32: MemoryMb, TimeoutSeconds, RetentionDays, Positive);
checked!(CheckedString, deserialize_str: Region, AccountId);

/// One origin, read with the function's own rule ([`Origin::parse`]).
struct OriginValue(Origin);

impl<'de> Deserialize<'de> for OriginValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OriginVisitor;

        impl Visitor<'_> for OriginVisitor {
            type Value = OriginValue;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("an origin such as https://app.example.com")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<OriginValue, E> {
                Origin::parse(value)
                    .map(OriginValue)
                    .map_err(|err| reject(Invalid::new(err.problem(), err.fix())))
            }
        }

        deserializer.deserialize_str(OriginVisitor)
    }
}

/// `allowed_origins`: a list of origins, each checked where it stands.
pub(super) fn origins<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Origin>, D::Error> {
    struct Origins;

    impl<'de> Visitor<'de> for Origins {
        type Value = Vec<Origin>;

        fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
            formatter.write_str("a sequence")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Origin>, A::Error> {
            let mut origins = Vec::new();
            while let Some(OriginValue(origin)) = seq.next_element()? {
                origins.push(origin);
            }
            Ok(origins)
        }
    }

    deserializer.deserialize_seq(Origins)
}
